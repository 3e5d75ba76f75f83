//! What the commands write, and how they fail.
//!
//! Standard output is buffered (a dump is millions of lines) and its errors
//! are errors, never a panic as `println!`'s are. A reader that goes away
//! (`replay dump FILE | head`) ends the command quietly: the write fails
//! with `EPIPE` (Rust ignores `SIGPIPE`), and [`Failure::Closed`] unwinds
//! the command, which then exits as if it had finished.

use std::fmt;
use std::io::{self, BufWriter, ErrorKind, StdoutLock, Write};

use replay_runtime::Error;

/// Why a command stopped before its end.
#[derive(Debug)]
pub enum Failure {
    /// A recording cannot be read, or is not a valid one.
    Recording(Error),
    /// Standard output cannot be written (a full disk, say).
    Output(io::Error),
    /// Another input or output is wrong (a report that names no event, a
    /// page that cannot be written): the message says which and why.
    Other(String),
    /// Whoever read standard output closed it: nobody wants the rest.
    Closed,
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        Failure::Recording(e)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Recording(e) => e.fmt(f),
            Failure::Output(e) => write!(f, "cannot write the output: {e}"),
            Failure::Other(why) => f.write_str(why),
            Failure::Closed => f.write_str("the output was closed"),
        }
    }
}

/// Standard output, buffered, its errors returned.
pub struct Out {
    writer: BufWriter<StdoutLock<'static>>,
}

impl Out {
    /// Standard output, locked for the command's whole run.
    pub fn stdout() -> Out {
        Out {
            writer: BufWriter::with_capacity(64 * 1024, io::stdout().lock()),
        }
    }

    /// Writes `args` and a newline (see the [`outln!`] macro).
    pub fn line(&mut self, args: fmt::Arguments<'_>) -> Result<(), Failure> {
        self.writer.write_fmt(args).map_err(failure)?;
        self.writer.write_all(b"\n").map_err(failure)
    }

    /// Writes what is still buffered: an error here is the command's too.
    pub fn finish(mut self) -> Result<(), Failure> {
        self.writer.flush().map_err(failure)
    }
}

/// `EPIPE` is the reader's choice, not a failure.
fn failure(e: io::Error) -> Failure {
    match e.kind() {
        ErrorKind::BrokenPipe => Failure::Closed,
        _ => Failure::Output(e),
    }
}

/// `outln!(out, "format", args…)`: a line to an [`Out`], as `println!`
/// writes one to standard output, returning `Result<(), Failure>`.
macro_rules! outln {
    ($out:expr, $($arg:tt)*) => {
        $out.line(format_args!($($arg)*))
    };
}
pub(crate) use outln;
