//! `replay`: reads recordings without the program that made them.
//!
//! ```text
//! replay dump FILE      every event, thread by thread, with its values
//! replay diff A B       where two recordings first differ, with context
//! replay stats FILE     calls per function, bytes, threads
//! replay salvage PARTIAL -o FILE
//!                       what a killed recorder wrote, up to its last whole chunk
//! replay timeline FILE -o PAGE.html [--divergence REPORT]
//!                       a picture: threads as lanes, calls as boxes, meetings as arrows
//! ```
//!
//! Every command names an event `thread:call` (`names.rs`).
//!
//! Values are decoded with the types of the call's recorded signature
//! where they are known (`decode.rs` per event, `values.rs` per value;
//! `signature.rs` and `type_syntax.rs` read the signature), and shown in hex
//! with a guess otherwise. Each command has its file (`dump.rs`, `diff.rs`,
//! `stats.rs`) and writes through `output.rs`, where a closed pipe is a
//! quiet end. Hostile files get a clear error (exit status 2), never a
//! panic; every command reads one chunk of a thread at a time, so memory
//! stays bounded whatever a file claims, and time grows with the file's
//! size, not its square.

mod decode;
mod diff;
mod dump;
mod lex;
mod names;
mod output;
mod salvage;
mod signature;
mod stats;
mod timeline;
mod type_syntax;
mod types;
mod values;

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::diff::diff;
use crate::dump::dump;
use crate::output::{Failure, Out};
use crate::salvage::salvage;
use crate::stats::stats;
use crate::timeline::timeline;

/// The help's last section: a command's exit statuses, then the one they
/// all share.
macro_rules! exit_status {
    ($($line:literal),*) => {
        concat!(
            "Exit status:\n",
            $("  ", $line, "\n",)*
            "  2  an error (a file that cannot be read or is not a valid recording) or bad usage"
        )
    };
}

/// Reads replay recordings without the program that made them.
#[derive(Parser)]
#[command(
    name = "replay",
    version,
    propagate_version = true,
    after_help = exit_status!(
        "0  success; for `diff`, the recordings hold the same events",
        "1  `diff` found a difference"
    )
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Every event, thread by thread: each call with its arguments and results
    ///
    /// Values are decoded with the types the call's recorded signature
    /// names. Where it names types the command cannot know (the program's
    /// own structs, handles), they are shown in hex, with a guess marked `~`.
    #[command(verbatim_doc_comment, after_help = exit_status!("0  success"))]
    Dump {
        /// The recording
        file: PathBuf,
    },
    /// Where two recordings first differ, with the events before
    #[command(after_help = exit_status!(
        "0  the recordings hold the same events",
        "1  the recordings differ"
    ))]
    Diff {
        /// One recording
        a: PathBuf,
        /// The other
        b: PathBuf,
    },
    /// Calls and bytes per function, events per thread
    #[command(after_help = exit_status!("0  success"))]
    Stats {
        /// The recording
        file: PathBuf,
    },
    /// Recovers what a killed recorder wrote, up to its last complete chunk
    ///
    /// A recorder killed before its session finished leaves its file
    /// beside the recording, as `<name>.<pid>.<n>.partial`, cut anywhere.
    /// This copies its header and every complete chunk into a recording
    /// that replays as far as it goes (it has no end marker).
    #[command(verbatim_doc_comment, after_help = exit_status!("0  success"))]
    Salvage {
        /// The `.partial` file (or a damaged recording)
        partial: PathBuf,
        /// Where to write the recovered recording
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Writes a picture of the recording: one HTML file, for a browser
    ///
    /// One lane per thread, in spawn order; each recorded call a box
    /// labelled with its function (hover or click: its arguments and
    /// results, decoded as `dump` decodes them); arrows where threads met:
    /// a spawn, a lock handed over, a message received. The x-axis is the
    /// recorded order: an event sits after the one before it on its lane
    /// and after the source of its arrow. Runs of the same call are drawn
    /// as one box (`add ×1000`). Events are named `thread:call`, as in
    /// `dump` and divergence reports. The page is self-contained: no
    /// network, no other file.
    #[command(verbatim_doc_comment, after_help = exit_status!("0  success"))]
    Timeline {
        /// The recording
        file: PathBuf,
        /// Where to write the page
        #[arg(short, long)]
        output: PathBuf,
        /// A diverged replay's report (its panic message, saved to a file):
        /// the event it names is marked
        #[arg(long, value_name = "REPORT")]
        divergence: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    // Help and `--version` exit with 0, bad usage with 2.
    let cli = Cli::parse();
    let mut out = Out::stdout();
    let outcome = match &cli.command {
        Command::Dump { file } => dump(file, &mut out).map(|()| ExitCode::SUCCESS),
        Command::Diff { a, b } => diff(a, b, &mut out),
        Command::Stats { file } => stats(file, &mut out).map(|()| ExitCode::SUCCESS),
        Command::Salvage { partial, output } => {
            salvage(partial, output, &mut out).map(|()| ExitCode::SUCCESS)
        }
        Command::Timeline {
            file,
            output,
            divergence,
        } => timeline(file, output, divergence.as_deref(), &mut out).map(|()| ExitCode::SUCCESS),
    };
    // What is still buffered is written now, and may fail too.
    let outcome = outcome.and_then(|code| match out.finish() {
        Ok(()) | Err(Failure::Closed) => Ok(code),
        Err(e) => Err(e),
    });
    match outcome {
        Ok(code) => code,
        // The reader of the output has what it wanted: a quiet end.
        Err(Failure::Closed) => ExitCode::SUCCESS,
        Err(e) => {
            // Not `eprintln!`, which panics if standard error is closed.
            let _ = writeln!(std::io::stderr(), "replay: {e}");
            ExitCode::from(2)
        }
    }
}
