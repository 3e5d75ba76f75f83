//! The one error type of the library.

use std::io;
use std::path::PathBuf;

/// Every failure a user of `replay` can meet outside a wrapper.
///
/// Inside a `#[deterministic]` wrapper, whose signature cannot return an
/// error, a divergence panics instead; [`Session::finish`](crate::Session::finish)
/// reports it again as [`Error::Diverged`].
///
/// Messages name the file and say what to do next.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading or writing a recording failed.
    #[error("cannot {action} recording {}: {source}", path.display())]
    Io {
        /// What was being done: "create", "open", "read", "write".
        action: &'static str,
        /// The recording.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },

    /// The path names a directory, a pipe or a device, not a file.
    #[error("{} is not a regular file; a recording is a file", path.display())]
    NotAFile {
        /// The path.
        path: PathBuf,
    },

    /// The recording exists but holds no bytes at all.
    #[error(
        "recording {} is empty (0 bytes); it was never written, or the recording \
         program was killed before its first flush; re-record with REPLAY_MODE=record",
        path.display()
    )]
    Empty {
        /// The recording.
        path: PathBuf,
    },

    /// The file does not start with the recording magic number.
    #[error(
        "{} is not a replay recording (it does not start with the replay magic number{})",
        path.display(),
        found.as_deref().map(|f| format!("; it looks like {f}")).unwrap_or_default()
    )]
    NotARecording {
        /// The file.
        path: PathBuf,
        /// A guess at what the file is instead, when one can be made.
        found: Option<String>,
    },

    /// The recording was written by another version of the file format.
    #[error(
        "recording {} uses format version {found}, but this build of replay-runtime \
         reads versions up to {supported}; re-record it with REPLAY_MODE=record",
        path.display()
    )]
    UnsupportedVersion {
        /// The recording.
        path: PathBuf,
        /// The version in the file.
        found: u16,
        /// The newest version this library reads, the one it writes.
        supported: u16,
    },

    /// The file ends in the middle of a header, chunk or event.
    #[error(
        "recording {} is truncated: {what} at byte {offset} is cut short (the file \
         ends at byte {len}); the recording program may have been killed while writing",
        path.display()
    )]
    Truncated {
        /// The recording.
        path: PathBuf,
        /// What was being read.
        what: &'static str,
        /// Where it starts.
        offset: u64,
        /// The file's length.
        len: u64,
    },

    /// The file is damaged: a checksum or a structure does not hold.
    #[error("recording {} is corrupt at byte {offset}: {reason}", path.display())]
    Corrupt {
        /// The recording.
        path: PathBuf,
        /// Where the damage was found.
        offset: u64,
        /// What is wrong.
        reason: String,
    },

    /// Writing the recording failed (a full disk, say). The recording was
    /// not published: a recording already at the path is untouched.
    #[error(
        "cannot write recording {}: {source}; it was not published, so any recording \
         already there is untouched{}",
        path.display(),
        kept.as_ref().map(|k| format!(
            "; what was written is kept at {} (`replay salvage` recovers its complete chunks)",
            k.display()
        )).unwrap_or_default()
    )]
    WriteFailed {
        /// The recording's path.
        path: PathBuf,
        /// The temporary file that holds what was written, unless it held
        /// nothing worth keeping (it is then removed).
        kept: Option<PathBuf>,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },

    /// Another session published a recording at the same path while this
    /// one was recording: this one was not published over it.
    #[error(
        "another session published a recording at {} while this one was recording; \
         this session's recording was not published over it and is kept at {}; \
         record each path from one session at a time",
        path.display(),
        kept.display()
    )]
    Replaced {
        /// The recording's path.
        path: PathBuf,
        /// Where this session's complete recording is.
        kept: PathBuf,
    },

    /// A replay finished while recorded calls (or thread events) were left
    /// unconsumed.
    #[error(
        "replay of {} finished early: {}; the program did less than when it was recorded",
        path.display(),
        left_over(*remaining, *call, *thread, function)
    )]
    Unconsumed {
        /// The recording.
        path: PathBuf,
        /// The number of the first call that was not made.
        call: u64,
        /// The thread it was recorded on.
        thread: u32,
        /// What was recorded next: a call to a function (named in
        /// backquotes), or a thread event.
        function: String,
        /// How many recorded calls were left.
        remaining: u64,
    },

    /// A replayed call did not match the recording (the panic's message again).
    #[error("{message}")]
    Diverged {
        /// The full divergence report, beginning `replay diverged`.
        message: String,
    },

    /// `REPLAY_MODE` holds something other than `off`, `record` or `replay`.
    #[error(
        "environment variable {variable} is {value:?}; accepted values are \
         \"off\", \"record\" and \"replay\" (unset means off)"
    )]
    InvalidMode {
        /// The variable's name.
        variable: &'static str,
        /// Its value.
        value: String,
    },

    /// `REPLAY_BREAK` is not a list of `thread:call`, names an event the
    /// recording does not hold, or was set for a session that does not
    /// replay.
    #[error("environment variable REPLAY_BREAK is {value:?}: {why}")]
    InvalidBreak {
        /// Its value.
        value: String,
        /// What is wrong with it.
        why: String,
    },

    /// Record or replay was asked for, but no recording was named.
    #[error("{mode_variable}={mode} needs a recording path in the environment variable {variable}")]
    MissingPath {
        /// The path variable's name.
        variable: &'static str,
        /// The mode variable's name.
        mode_variable: &'static str,
        /// The mode asked for.
        mode: &'static str,
    },

    /// The session was finished or dropped by code running inside one of
    /// its own calls (the call's body, a value's `Drop` or `Deserialize`).
    /// A recording keeps what came before that call; the call itself, still
    /// running, cannot be recorded.
    #[error(
        "the session was ended from inside one of its own calls (its body, or a \
         value's Drop or Deserialize), which cannot be recorded or checked whole; \
         a recording keeps what came before that call. End the session after \
         the calls it covers"
    )]
    SessionBusy,

    /// A session is already active on this thread.
    #[error(
        "a session (recording or replaying) is already active on this thread; \
         finish or drop it before starting another"
    )]
    SessionActive,

    /// The session was finished while threads it spawned (through
    /// `replay_runtime::thread`) still ran, after waiting for them as long
    /// as the stall limit (`REPLAY_STALL_TIMEOUT`, 5 s by default). A
    /// recording is still written, without what those threads do next.
    #[error(
        "the session was finished while {running} thread(s) it spawned still ran; \
         what they do from now on is not {what}: join them before finishing the session"
    )]
    ThreadsRunning {
        /// How many.
        running: usize,
        /// "recorded" or "checked against the recording".
        what: &'static str,
    },
}

/// What an unconsumed recording still held, in words.
fn left_over(remaining: u64, call: u64, thread: u32, next: &str) -> String {
    match remaining {
        0 => format!("no calls were left, but thread {thread} still had {next} recorded"),
        _ => format!(
            "{remaining} recorded call(s) were not made, the next being call #{call} \
             on thread {thread}: {next}"
        ),
    }
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
