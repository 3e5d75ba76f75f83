//! Sessions: the public API that chooses a thread's mode and its
//! recording. What the session's threads share lives in `shared.rs`, the
//! thread's own state in `context/`.

use std::fmt;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, PoisonError};

use crate::breaks::Breaks;
use crate::context::{self, Active, Installed, ThreadMode};
use crate::cursor::Cursor;
use crate::error::{Error, Result};
use crate::identity;
use crate::recording::Metadata;
use crate::recording::reader::Recording;
use crate::recording::sink::Sink;
use crate::recording::writer::StreamWriter;
use crate::shared::{Shared, SharedKind};

/// What a session does with boundary calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Wrappers call straight through; nothing is recorded.
    Off,
    /// Wrappers call the real function and record what crossed the boundary.
    Record,
    /// Wrappers do not call the real function; they return what was recorded.
    Replay,
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mode::Off => "off",
            Mode::Record => "record",
            Mode::Replay => "replay",
        })
    }
}

/// The mode of this thread's session: what `#[deterministic]` calls made
/// here now do. Off without a session (and inside a recorded call, whose
/// own calls are part of it).
pub fn current_mode() -> Mode {
    match context::mode() {
        ThreadMode::Off | ThreadMode::Assumed | ThreadMode::InCall => Mode::Off,
        ThreadMode::Record => Mode::Record,
        ThreadMode::Replay | ThreadMode::Diverged => Mode::Replay,
    }
}

/// A record or replay session, active on the thread that created it.
///
/// While it lives, every `#[deterministic]` call on this thread is recorded
/// to (or replayed from) its file. Other threads are unaffected, so tests
/// running in parallel each get their own session. Call [`finish`](Self::finish)
/// to learn whether the run succeeded; dropping an unfinished record session
/// still writes everything recorded.
///
/// ```no_run
/// use replay_runtime::Session;
///
/// # fn main() -> Result<(), replay_runtime::Error> {
/// let session = Session::from_env()?;
/// // ... the program's work, calling #[deterministic] functions ...
/// let summary = session.finish()?;
/// eprintln!("{summary}");
/// # Ok(())
/// # }
/// ```
#[must_use = "a session records or replays only while it lives; call `finish` to check the outcome"]
pub struct Session {
    mode: Mode,
    /// This thread's session state, installed in its thread-local.
    installed: Option<Installed>,
    path: Option<PathBuf>,
    metadata: Option<Metadata>,
    /// Installed on the creating thread's thread-local state: not `Send`.
    _thread: PhantomData<*const ()>,
}

/// What a finished session did.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Summary {
    /// The session's mode.
    pub mode: Mode,
    /// The recording, unless the mode was off.
    pub path: Option<PathBuf>,
    /// Calls recorded or replayed: on the session's thread, and on the
    /// threads it spawned (through `replay_runtime::thread`) that have ended.
    pub calls: u64,
    /// Bytes of the recording file.
    pub bytes: u64,
    /// Replay: the patches the program asked for (with
    /// [`patched`](crate::patched)) that the recording predates, in the
    /// order first asked. Re-recording brings it up to date.
    pub predates: Vec<String>,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.mode, &self.path) {
            (Mode::Off, _) | (_, None) => f.write_str("replay off: nothing recorded"),
            (Mode::Record, Some(path)) => write!(
                f,
                "recorded {} call(s) to {} ({} bytes)",
                self.calls,
                path.display(),
                self.bytes
            ),
            (Mode::Replay, Some(path)) => {
                write!(
                    f,
                    "replayed {} call(s) from {} ({} bytes)",
                    self.calls,
                    path.display(),
                    self.bytes
                )?;
                if !self.predates.is_empty() {
                    write!(f, "; it predates {}", patch_list(&self.predates))?;
                }
                Ok(())
            }
        }
    }
}

/// Patch names for a sentence: "the patch `a`", "the patches `a`, `b`".
pub(crate) fn patch_list(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.len() {
        1 => format!("the patch {}", quoted[0]),
        _ => format!("the patches {}", quoted.join(", ")),
    }
}

const MODE_VAR: &str = "REPLAY_MODE";
const PATH_VAR: &str = "REPLAY_PATH";

impl Session {
    /// Records this thread's boundary calls to a new file at `path`
    /// (replacing any file there, creating its directory).
    pub fn record(path: impl AsRef<Path>) -> Result<Session> {
        let path = path.as_ref();
        if context::session_active() {
            return Err(Error::SessionActive);
        }
        Breaks::refuse_when_recording()?;
        let sink = Sink::create(path)?;
        let metadata = sink.metadata().clone();
        crate::panic_hook::install();
        let shared = Shared::new(SharedKind::Record {
            sink: Arc::clone(&sink),
            next_stream: AtomicU32::new(1),
        });
        let active = context::install(
            Active::Record(StreamWriter::new(sink, 0)),
            ThreadMode::Record,
            shared,
            0,
        )?;
        identity::restart(0);
        Ok(Session {
            mode: Mode::Record,
            installed: Some(active),
            path: Some(path.to_owned()),
            metadata: Some(metadata),
            _thread: PhantomData,
        })
    }

    /// Replays this thread's boundary calls from the recording at `path`.
    ///
    /// The whole file is validated first, so a damaged recording is an
    /// error here rather than a surprise halfway through.
    pub fn replay(path: impl AsRef<Path>) -> Result<Session> {
        let path = path.as_ref();
        if context::session_active() {
            return Err(Error::SessionActive);
        }
        let recording = Recording::open(path)?;
        let breaks = Breaks::from_env(&recording)?;
        let cursor = Cursor::new(&recording, 0, breaks.of(0))?;
        let metadata = recording.metadata.clone();
        let shared = Shared::new(SharedKind::Replay { recording, breaks });
        let active = context::install(Active::Replay(cursor), ThreadMode::Replay, shared, 0)?;
        identity::restart(0);
        Ok(Session {
            mode: Mode::Replay,
            installed: Some(active),
            path: Some(path.to_owned()),
            metadata: Some(metadata),
            _thread: PhantomData,
        })
    }

    /// A session that records nothing: wrappers call straight through.
    pub fn off() -> Session {
        Session {
            mode: Mode::Off,
            installed: None,
            path: None,
            metadata: None,
            _thread: PhantomData,
        }
    }

    /// The session the environment asks for: `REPLAY_MODE` is `off`,
    /// `record` or `replay` (unset or empty means off), and `REPLAY_PATH`
    /// names the recording.
    pub fn from_env() -> Result<Session> {
        let mode = std::env::var(MODE_VAR).unwrap_or_default();
        let mode = match mode.trim() {
            "" | "off" => return Ok(Session::off()),
            "record" => Mode::Record,
            "replay" => Mode::Replay,
            other => {
                return Err(Error::InvalidMode {
                    variable: MODE_VAR,
                    value: other.to_owned(),
                });
            }
        };
        let path =
            std::env::var_os(PATH_VAR)
                .filter(|p| !p.is_empty())
                .ok_or(Error::MissingPath {
                    variable: PATH_VAR,
                    mode_variable: MODE_VAR,
                    mode: if mode == Mode::Record {
                        "record"
                    } else {
                        "replay"
                    },
                })?;
        match mode {
            Mode::Record => Session::record(path),
            _ => Session::replay(path),
        }
    }

    /// Declares files that are the same at replay time as when recorded
    /// (read-only assets), by glob pattern: calls of functions marked
    /// `#[deterministic(path = ..)]` on a matching path, and the calls on the
    /// handles they return, run for real during replay. Other files are
    /// served from the recording. Patterns add to those of the
    /// `REPLAY_LIVE_FILES` environment variable; `*` stays within a path
    /// component, `**` crosses them. Recording is unaffected: every call is
    /// recorded, so the recording also replays without the patterns.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), replay_runtime::Error> {
    /// let session = replay_runtime::Session::replay("run.replay")?
    ///     .with_live_files(["assets/**", "/usr/share/zoneinfo/**"]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn with_live_files<I, S>(self, patterns: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        if let Some(installed) = &self.installed
            && let SharedKind::Replay { .. } = installed.shared().kind
        {
            installed
                .shared()
                .live_files
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .extend(patterns.into_iter().map(Into::into));
        }
        self
    }

    /// The session's mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The recording's path, unless the mode is off.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The recording's header: who wrote it and when (in replay, as read
    /// from the file). `None` when the mode is off.
    pub fn metadata(&self) -> Option<&Metadata> {
        self.metadata.as_ref()
    }

    /// Ends the session. In record mode, writes everything and reports any
    /// write error; in replay mode, fails if the replay diverged or if
    /// recorded calls were not made.
    pub fn finish(mut self) -> Result<Summary> {
        // Dropping `self` afterwards finds nothing left to end.
        self.end()
    }

    fn end(&mut self) -> Result<Summary> {
        let mut summary = Summary {
            mode: self.mode,
            path: self.path.take(),
            calls: 0,
            bytes: 0,
            predates: Vec::new(),
        };
        let Some(installed) = self.installed.take() else {
            return Ok(summary);
        };
        let shared = Arc::clone(installed.shared());
        // The threads it spawned write (or check) their streams as they end.
        let running = shared.wait_for_threads();
        identity::restart_without_session();
        let ended = installed.end()?;
        summary.calls = ended.calls + shared.thread_calls.load(Ordering::Relaxed);
        summary.predates = shared.predated();
        match ended.sink {
            Some(sink) => {
                sink.finish()?;
                summary.bytes = sink.bytes();
            }
            None => {
                if let Some(path) = &summary.path {
                    summary.bytes = std::fs::metadata(path).map_or(0, |m| m.len());
                }
            }
        }
        ended.result?;
        if running > 0 {
            return Err(Error::ThreadsRunning {
                running,
                what: match self.mode {
                    Mode::Record => "recorded",
                    _ => "checked against the recording",
                },
            });
        }
        // What went wrong on the session's other threads, first come first.
        match shared.first_failure() {
            Some(failure) => Err(failure),
            None => Ok(summary),
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // Flushes a record session; errors have nowhere to go but `finish`.
        let _ = self.end();
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("mode", &self.mode)
            .field("path", &self.path)
            .finish()
    }
}
