//! Divergence reports: what a replayed call did differently, in words a
//! person can act on.

use std::fmt::Write as _;
use std::panic::Location;
use std::path::PathBuf;

/// A replayed call that does not match the recording. Raised as a panic
/// whose message begins `replay diverged`. Only the replay cursor makes one
/// (`Cursor::diverge`, which also remembers it for `Session::finish`), from a
/// [`Report`].
#[derive(Debug)]
pub(crate) struct Divergence {
    message: String,
}

impl Divergence {
    /// A report already worded: for a thread that another's report
    /// explains (`Cursor::stopped`).
    pub(crate) fn stated(message: String) -> Divergence {
        Divergence { message }
    }

    /// The report, as the panic shows it.
    pub(crate) fn message(&self) -> &str {
        &self.message
    }
}

/// Which argument of a matching function differs.
#[derive(Debug)]
pub(crate) enum ArgReport {
    /// Argument `index` (from 0) differs; values where they can be shown.
    Differs {
        index: usize,
        recorded: Option<String>,
        actual: Option<String>,
    },
    /// The recording holds a different number of arguments.
    Count { recorded: usize, actual: usize },
    /// The recording holds more argument bytes than the call has arguments.
    Extra,
    /// The bytes differ, but no single argument could be blamed.
    Unknown,
}

/// What a report says: the lines of the message a divergence panics with.
pub(crate) struct Report {
    pub(crate) path: PathBuf,
    pub(crate) call: u64,
    pub(crate) thread: u32,
    pub(crate) summary: String,
    pub(crate) expected: String,
    pub(crate) actual: String,
    pub(crate) notes: Vec<String>,
    /// What to do about it; by default, re-record.
    pub(crate) hint: Option<String>,
    pub(crate) location: &'static Location<'static>,
    /// Whether `REPLAY_BREAK=thread:call` stops right before it: the
    /// call is in the recording, and the divergence is at its start.
    pub(crate) stoppable: bool,
}

impl Report {
    pub(crate) fn render(self) -> Divergence {
        let mut m = format!(
            "replay diverged at call #{} on thread {}: {}\n  expected: {}\n  actual:   {}\n",
            self.call, self.thread, self.summary, self.expected, self.actual
        );
        for note in &self.notes {
            let _ = writeln!(m, "  {note}");
        }
        let hint = self.hint.as_deref().unwrap_or(
            "if the program's boundary calls changed on purpose, re-record with \
             REPLAY_MODE=record, or keep this recording replaying: put the new code under \
             `if replay_runtime::patched(\"name-of-the-change\") { new } else { old }`",
        );
        let _ = writeln!(
            m,
            "  at {}\n  recording: {}",
            self.location,
            self.path.display()
        );
        if self.stoppable {
            let _ = writeln!(m, "  stop here: REPLAY_BREAK={}:{}", self.thread, self.call);
        }
        let _ = write!(m, "  hint: {hint}");
        Divergence { message: m }
    }
}

/// Raises a divergence as a panic with its report as the message. A thread
/// that is already unwinding cannot panic again, nor can replay produce a
/// value without the recording or the foreign side: the report is printed
/// and the process aborts.
#[cold]
#[inline(never)]
#[track_caller]
pub(crate) fn raise(divergence: Divergence) -> ! {
    if std::thread::panicking() {
        abort_unwinding(&divergence.message)
    }
    std::panic::panic_any(divergence.message)
}

/// For a replaying thread whose cursor cannot be reached: the session was
/// ended from inside one of its own calls.
#[cold]
pub(crate) fn unavailable(location: &Location<'_>) -> Divergence {
    Divergence {
        message: format!(
            "replay diverged: this thread's replay session is not available at {location} \
             (it was finished, or is busy in an outer call)"
        ),
    }
}

/// For anything a thread does after its replay diverged (`what`, at
/// `location`): the recording's position is lost, so it can be neither
/// replayed nor, with placeholders about, made for real. Panics again, or
/// aborts with the report while unwinding.
#[cold]
#[track_caller]
pub(crate) fn spent(what: &str, location: &std::panic::Location<'_>) -> ! {
    raise(spent_report(what, location))
}

/// How many times a spent thread may be asked to go on (its panics caught
/// by the program, which retries) before replay gives up on the process.
const SPENT_LIMIT: u32 = 1000;

thread_local! {
    /// Calls this thread made after it diverged.
    static SPENT: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// A new session on this thread: its calls after a divergence count anew.
pub(crate) fn reset_spent() {
    SPENT.with(|s| s.set(0));
}

/// What [`spent`] raises. A program that catches these panics and retries
/// forever would never end (and fill its log): past [`SPENT_LIMIT`] of
/// them on one thread, the process is aborted with a last word.
#[cold]
pub(crate) fn spent_report(what: &str, location: &std::panic::Location<'_>) -> Divergence {
    let spent = SPENT.with(|s| {
        s.set(s.get().saturating_add(1));
        s.get()
    });
    if spent > SPENT_LIMIT {
        eprintln!(
            "replay diverged earlier on this thread, and the program went on calling \
             {SPENT_LIMIT} more times, catching every panic (a retry loop?); aborting \
             rather than loop forever. The first `replay diverged` report says where it \
             went wrong"
        );
        std::process::abort();
    }
    Divergence {
        message: format!(
            "replay diverged earlier on this thread; {what} at {location} cannot be \
             replayed (see the first `replay diverged` report)"
        ),
    }
}

/// Prints `report` and aborts: for a divergence met while unwinding.
#[cold]
pub(crate) fn abort_unwinding(report: &str) -> ! {
    eprintln!(
        "{report}\n  note: this call was made while the thread was already unwinding from \
         a panic, so it can neither panic nor be replayed; aborting"
    );
    std::process::abort()
}

/// Shows raw encoded bytes when a value cannot be decoded: at most 32 of them.
pub(crate) fn hex(bytes: &[u8]) -> String {
    let mut s = String::from("bytes [");
    for (i, b) in bytes.iter().take(32).enumerate() {
        if i > 0 {
            s.push(' ');
        }
        let _ = write!(s, "{b:02x}");
    }
    if bytes.len() > 32 {
        let _ = write!(s, " … ({} bytes)", bytes.len());
    }
    s.push(']');
    s
}
