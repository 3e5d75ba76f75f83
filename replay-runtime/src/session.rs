//! Sessions: which mode a thread runs in, and the recording it uses.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::divergence::Divergence;
use crate::error::{Error, Result};
use crate::handles::HandleMap;
use crate::recording::Metadata;
use crate::recording::reader::Recording;
use crate::recording::writer::{Sink, StreamWriter};
use crate::replayer::Replayer;

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

/// The mode of the current thread, as generated code sees it.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThreadMode {
    /// No session, or inside a call whose own boundary calls are not recorded.
    Off,
    /// Recording.
    Record,
    /// Replaying.
    Replay,
    /// Replaying, after a divergence: calls panic again.
    Diverged,
}

pub(crate) enum Active {
    Record(StreamWriter),
    Replay(Replayer),
}

/// A thread's view of its session: the mode, and the session's state.
///
/// Both live in one `const`-initialised thread-local without a destructor,
/// so every access is a plain load from thread-local storage, valid even
/// while the thread is being torn down. The state itself is owned by the
/// [`Session`] (boxed, so its address is stable); the session clears the
/// pointer before it drops the box, and being `!Send` it is dropped on this
/// thread.
struct ThreadState {
    mode: Cell<ThreadMode>,
    active: Cell<*const RefCell<Active>>,
    /// The session's object index map, owned by the session likewise.
    handles: Cell<*const RefCell<HandleMap>>,
    /// What encoding or decoding is under way, for `#[mapped]` values.
    phase: Cell<Phase>,
    /// Encoding arguments noted something about handles (see
    /// `handles::take_argument_findings`): spares looking when nothing was.
    findings: Cell<bool>,
}

/// What the runtime is doing with values, as `#[mapped]` handles need to
/// know: arguments are looked up, results are registered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Not encoding or decoding a call.
    Idle,
    /// Encoding a call's arguments.
    Args,
    /// Encoding (record) or decoding (replay) a call's results.
    Results,
    /// Rendering values for a divergence report: no side effects.
    Display,
    /// Replay, before a call that runs for real: noting the recorded
    /// result's handles, in order.
    Collect,
    /// Replay, after a call that ran for real: binding the live result's
    /// handles to the noted ones.
    Bind,
}

thread_local! {
    static STATE: ThreadState = const {
        ThreadState {
            mode: Cell::new(ThreadMode::Off),
            active: Cell::new(std::ptr::null()),
            handles: Cell::new(std::ptr::null()),
            phase: Cell::new(Phase::Idle),
            findings: Cell::new(false),
        }
    };
}

#[inline(always)]
pub(crate) fn thread_mode() -> ThreadMode {
    STATE.with(|s| s.mode.get())
}

#[inline(always)]
pub(crate) fn set_thread_mode(mode: ThreadMode) {
    STATE.with(|s| s.mode.set(mode));
}

#[inline(always)]
pub(crate) fn handle_phase() -> Phase {
    STATE.with(|s| s.phase.get())
}

#[inline(always)]
pub(crate) fn set_handle_phase(phase: Phase) {
    STATE.with(|s| s.phase.set(phase));
}

/// Takes (and clears) whether arguments noted something about handles.
#[inline(always)]
pub(crate) fn take_findings_flag() -> bool {
    STATE.with(|s| s.findings.replace(false))
}

pub(crate) fn set_findings_flag() {
    STATE.with(|s| s.findings.set(true));
}

/// Runs `f` on this thread's object index map, if a session has one and
/// it is not already in use.
pub(crate) fn with_handles<T>(f: impl FnOnce(&mut HandleMap) -> T) -> Option<T> {
    let handles = STATE.with(|s| s.handles.get());
    if handles.is_null() {
        return None;
    }
    // SAFETY: as for `with_active`: the live box of this thread's session.
    let mut handles = unsafe { &*handles }.try_borrow_mut().ok()?;
    Some(f(&mut handles))
}

/// Runs `f` on this thread's session state, unless there is none or it is
/// already borrowed (by an outer call on this thread).
#[inline(always)]
fn with_active<T>(f: impl FnOnce(&mut Active) -> Option<T>) -> Option<T> {
    let active = STATE.with(|s| s.active.get());
    if active.is_null() {
        return None;
    }
    // SAFETY: a non-null pointer is the live box of this thread's session
    // (see `ThreadState`).
    let mut active = unsafe { &*active }.try_borrow_mut().ok()?;
    f(&mut active)
}

/// Runs `f` on this thread's stream writer, if it is recording.
#[inline(always)]
pub(crate) fn with_writer<T>(f: impl FnOnce(&mut StreamWriter) -> T) -> Option<T> {
    with_active(|active| match active {
        Active::Record(writer) => Some(f(writer)),
        Active::Replay(_) => None,
    })
}

/// Runs `f` on this thread's replayer.
#[inline]
pub(crate) fn with_replayer<T>(
    f: impl FnOnce(&mut Replayer) -> Result<T, Divergence>,
) -> Result<T, Divergence> {
    with_active(|active| match active {
        Active::Replay(replayer) => Some(f(replayer)),
        Active::Record(_) => None,
    })
    .unwrap_or_else(|| {
        Err(Divergence {
            message: "replay diverged: this thread's replay session is not available \
                      (it was finished, or is busy in an outer call)"
                .to_owned(),
        })
    })
}

fn session_active() -> bool {
    STATE.with(|s| !s.active.get().is_null())
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
    /// Calls recorded or replayed on the session's thread.
    pub calls: u64,
    /// Bytes of the recording file.
    pub bytes: u64,
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
            (Mode::Replay, Some(path)) => write!(
                f,
                "replayed {} call(s) from {} ({} bytes)",
                self.calls,
                path.display(),
                self.bytes
            ),
        }
    }
}

/// This thread's session state, owned by its [`Session`].
struct Installed {
    active: Box<RefCell<Active>>,
    handles: Box<RefCell<HandleMap>>,
}

/// Makes `active` this thread's session state, with an empty object map.
fn install(active: Active, mode: ThreadMode) -> Result<Installed> {
    if session_active() {
        return Err(Error::SessionActive);
    }
    let installed = Installed {
        active: Box::new(RefCell::new(active)),
        handles: Box::new(RefCell::new(HandleMap::new(mode == ThreadMode::Replay))),
    };
    crate::identity::restart();
    STATE.with(|s| {
        s.active.set(&*installed.active);
        s.handles.set(&*installed.handles);
        s.phase.set(Phase::Idle);
        s.mode.set(mode);
    });
    Ok(installed)
}

/// Writes the panicking thread's staged events before the previous hook
/// runs, so that a recording survives `panic = "abort"` too (with unwinding,
/// dropping the session writes them anyway). A panic inside a recorded call
/// leaves that call's event unfinished; the mode is then off and nothing is
/// written here, so the event is discarded as the call unwinds.
fn install_panic_hook() {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if thread_mode() == ThreadMode::Record {
                with_writer(StreamWriter::flush);
            }
            previous(info);
        }));
    });
}

const MODE_VAR: &str = "REPLAY_MODE";
const PATH_VAR: &str = "REPLAY_PATH";

impl Session {
    /// Records this thread's boundary calls to a new file at `path`
    /// (replacing any file there, creating its directory).
    pub fn record(path: impl AsRef<Path>) -> Result<Session> {
        let path = path.as_ref();
        if session_active() {
            return Err(Error::SessionActive);
        }
        let sink = Sink::create(path)?;
        install_panic_hook();
        let active = install(
            Active::Record(StreamWriter::new(sink, 0)),
            ThreadMode::Record,
        )?;
        Ok(Session {
            mode: Mode::Record,
            installed: Some(active),
            path: Some(path.to_owned()),
            metadata: Some(Metadata::current()),
            _thread: PhantomData,
        })
    }

    /// Replays this thread's boundary calls from the recording at `path`.
    ///
    /// The whole file is validated first, so a damaged recording is an
    /// error here rather than a surprise halfway through.
    pub fn replay(path: impl AsRef<Path>) -> Result<Session> {
        let path = path.as_ref();
        let recording = Recording::open(path)?;
        let replayer = Replayer::new(&recording, 0)?;
        let active = install(Active::Replay(replayer), ThreadMode::Replay)?;
        Ok(Session {
            mode: Mode::Replay,
            installed: Some(active),
            path: Some(path.to_owned()),
            metadata: Some(recording.metadata),
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
            && let Active::Replay(replayer) = &mut *installed.active.borrow_mut()
        {
            replayer
                .live_files
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
        };
        let Some(installed) = self.installed.take() else {
            return Ok(summary);
        };
        STATE.with(|s| {
            s.active.set(std::ptr::null());
            s.handles.set(std::ptr::null());
            s.mode.set(ThreadMode::Off);
        });
        // Ended from inside one of its own calls (user code run while the
        // runtime holds the state): the state must outlive that call, so it
        // is leaked rather than freed under it.
        if installed.active.try_borrow_mut().is_err() || installed.handles.try_borrow_mut().is_err()
        {
            std::mem::forget(installed);
            return Err(Error::SessionBusy);
        }
        match installed.active.into_inner() {
            Active::Record(mut writer) => {
                writer.end();
                summary.calls = writer.calls;
                let sink: Arc<Sink> = Arc::clone(writer.sink());
                drop(writer);
                sink.finish()?;
                summary.bytes = sink.bytes();
            }
            Active::Replay(mut replayer) => {
                summary.calls = replayer.calls();
                if let Some(path) = &summary.path {
                    summary.bytes = std::fs::metadata(path).map_or(0, |m| m.len());
                }
                replayer.finish()?;
            }
        }
        Ok(summary)
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
