//! Sessions: which mode a thread runs in, and the recording it uses.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use crate::divergence::Divergence;
use crate::error::{Error, Result};
use crate::handles::HandleMap;
use crate::policy::LiveFiles;
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

/// The mode of this thread's session: what `#[deterministic]` calls made
/// here now do. Off without a session (and inside a recorded call, whose
/// own calls are part of it).
pub fn current_mode() -> Mode {
    match thread_mode() {
        ThreadMode::Off => Mode::Off,
        ThreadMode::Record => Mode::Record,
        ThreadMode::Replay | ThreadMode::Diverged => Mode::Replay,
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

/// What every thread of a session shares.
pub(crate) struct Shared {
    pub(crate) kind: SharedKind,
    /// The object index map: handles may cross threads.
    pub(crate) handles: Mutex<HandleMap>,
    /// Files whose calls run for real in replay.
    pub(crate) live_files: RwLock<LiveFiles>,
    /// What each replaying thread waits for, for the stall report.
    pub(crate) waits: Mutex<BTreeMap<u32, String>>,
    /// How long a replaying thread may wait before replay gives up.
    pub(crate) stall: Duration,
    /// What went wrong on threads that have ended, for `finish`.
    pub(crate) outcomes: Mutex<Vec<Error>>,
    /// Calls recorded or replayed by spawned threads that have ended.
    pub(crate) thread_calls: std::sync::atomic::AtomicU64,
    /// A number no other session of this process has had.
    pub(crate) serial: u64,
}

pub(crate) enum SharedKind {
    Record {
        sink: Arc<Sink>,
        /// The next spawned thread's stream.
        next_stream: AtomicU32,
    },
    Replay {
        recording: Recording,
    },
}

/// Numbers sessions, from 1: locks count their opens per session.
static SESSION_SERIAL: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// This thread's session's serial number.
pub(crate) fn session_serial() -> Option<u64> {
    with_shared(|shared| shared.serial)
}

/// The environment variable that sets the stall limit, in seconds.
pub(crate) const STALL_VAR: &str = "REPLAY_STALL_TIMEOUT";

impl Shared {
    fn new(kind: SharedKind) -> Arc<Shared> {
        let replaying = matches!(kind, SharedKind::Replay { .. });
        let stall = std::env::var(STALL_VAR)
            .ok()
            .and_then(|s| s.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s > 0.0)
            .map_or(Duration::from_secs(5), Duration::from_secs_f64);
        Arc::new(Shared {
            kind,
            handles: Mutex::new(HandleMap::new(replaying)),
            live_files: RwLock::new(LiveFiles::from_env()),
            waits: Mutex::new(BTreeMap::new()),
            stall,
            outcomes: Mutex::new(Vec::new()),
            thread_calls: std::sync::atomic::AtomicU64::new(0),
            serial: SESSION_SERIAL.fetch_add(1, Ordering::Relaxed),
        })
    }
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
    /// What the session's threads share, kept alive likewise.
    shared: Cell<*const Shared>,
    /// This thread's stream, its deterministic id (`u32::MAX` without a
    /// session).
    stream: Cell<u32>,
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
            shared: Cell::new(std::ptr::null()),
            stream: Cell::new(NO_STREAM),
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

/// Runs `f` on what this thread's session shares, if there is a session.
pub(crate) fn with_shared<T>(f: impl FnOnce(&Arc<Shared>) -> T) -> Option<T> {
    let shared = STATE.with(|s| s.shared.get());
    if shared.is_null() {
        return None;
    }
    // SAFETY: a non-null pointer is the `Arc` this thread's session (or
    // its spawned-thread guard) holds until it clears the pointer. Viewed
    // as `&Arc` without touching the count.
    let shared = std::mem::ManuallyDrop::new(unsafe { Arc::from_raw(shared) });
    Some(f(&shared))
}

/// Runs `f` on the session's object index map, if there is a session.
pub(crate) fn with_handles<T>(f: impl FnOnce(&mut HandleMap) -> T) -> Option<T> {
    with_shared(|shared| {
        f(&mut shared
            .handles
            .lock()
            .unwrap_or_else(PoisonError::into_inner))
    })
}

/// The stream of a thread without a session.
pub(crate) const NO_STREAM: u32 = u32::MAX;

/// This thread's deterministic id: its stream in the session.
#[inline]
pub(crate) fn thread_stream() -> u32 {
    STATE.with(|s| s.stream.get())
}

/// Records a thread event in this thread's stream.
pub(crate) fn record_sync(sync: crate::recording::format::Sync) {
    with_writer(|w| w.record_sync(sync));
}

/// A replaying thread waiting for another: registered for the stall report
/// while it lives.
pub(crate) struct Waiting {
    shared: Arc<Shared>,
    stream: u32,
    started: std::time::Instant,
    location: &'static std::panic::Location<'static>,
}

impl Waiting {
    /// Starts waiting for `what`, described for the stall report.
    pub(crate) fn start(
        what: String,
        location: &'static std::panic::Location<'static>,
    ) -> Option<Waiting> {
        let shared = with_shared(Arc::clone)?;
        let stream = thread_stream();
        shared
            .waits
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(stream, what);
        Some(Waiting {
            shared,
            stream,
            started: std::time::Instant::now(),
            location,
        })
    }

    /// How long to block before checking again.
    pub(crate) const SLICE: Duration = Duration::from_millis(20);

    /// After a slice of waiting: a divergence, once the wait has gone on
    /// past the session's stall limit, reporting what every thread waits for.
    pub(crate) fn check(&self) -> std::result::Result<(), Divergence> {
        let waited = self.started.elapsed();
        if waited < self.shared.stall {
            return Ok(());
        }
        let waits = self
            .shared
            .waits
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let mut message = format!(
            "replay diverged on thread {}: the replay stalled: it waited {:.1}s for {}\n  what every waiting thread waits for:\n",
            self.stream,
            waited.as_secs_f64(),
            waits
                .get(&self.stream)
                .map_or("another thread", String::as_str),
        );
        for (stream, what) in &waits {
            message.push_str(&format!("    thread {stream}: {what}\n"));
        }
        let path = match &self.shared.kind {
            SharedKind::Replay { recording } => recording.path.display().to_string(),
            SharedKind::Record { .. } => String::new(),
        };
        message.push_str(&format!(
            "  at {}\n  recording: {path}\n  hint: a thread took another path than when recording (its own \
             report, if it has one, says where); the limit is {:.1}s, set by {STALL_VAR}",
            self.location,
            self.shared.stall.as_secs_f64(),
        ));
        let _ = with_replayer(|r| {
            r.diverged.get_or_insert_with(|| message.clone());
            Ok(())
        });
        set_thread_mode(ThreadMode::Diverged);
        Err(Divergence { message })
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        self.shared
            .waits
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.stream);
    }
}

/// Whether calls on `path` run for real in this replay.
pub(crate) fn is_live_path(path: &Path) -> bool {
    with_shared(|shared| {
        shared
            .live_files
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .matches(path)
    })
    .unwrap_or(false)
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
    /// Calls recorded or replayed: on the session's thread, and on the
    /// threads it spawned (through `replay_runtime::thread`) that have ended.
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

/// A thread's session state, owned by its [`Session`] (or, on a spawned
/// thread, by its [`ThreadSession`]).
pub(crate) struct Installed {
    active: Box<RefCell<Active>>,
    shared: Arc<Shared>,
    stream: u32,
}

/// Makes `active` this thread's session state.
fn install(
    active: Active,
    mode: ThreadMode,
    shared: Arc<Shared>,
    stream: u32,
) -> Result<Installed> {
    if session_active() {
        return Err(Error::SessionActive);
    }
    let installed = Installed {
        active: Box::new(RefCell::new(active)),
        shared,
        stream,
    };
    crate::identity::restart(stream);
    STATE.with(|s| {
        s.active.set(&*installed.active);
        s.shared.set(Arc::as_ptr(&installed.shared));
        s.stream.set(installed.stream);
        s.phase.set(Phase::Idle);
        s.mode.set(mode);
    });
    Ok(installed)
}

/// What ending a thread's share of a session produced.
struct Ended {
    calls: u64,
    /// The recording's sink, when recording.
    sink: Option<Arc<Sink>>,
    result: Result<()>,
}

impl Installed {
    /// Clears this thread's state and ends its stream: writes it out, or
    /// checks that its replay consumed everything.
    fn end(self) -> std::result::Result<Ended, Error> {
        STATE.with(|s| {
            s.active.set(std::ptr::null());
            s.shared.set(std::ptr::null());
            s.stream.set(NO_STREAM);
            s.mode.set(ThreadMode::Off);
        });
        // Ended from inside one of its own calls (user code run while the
        // runtime holds the state): the state must outlive that call, so it
        // is leaked rather than freed under it.
        if self.active.try_borrow_mut().is_err() {
            std::mem::forget(self);
            return Err(Error::SessionBusy);
        }
        Ok(match self.active.into_inner() {
            Active::Record(mut writer) => {
                writer.end();
                let calls = writer.calls;
                let sink = Arc::clone(writer.sink());
                Ended {
                    calls,
                    sink: Some(sink),
                    result: Ok(()),
                }
            }
            Active::Replay(mut replayer) => Ended {
                calls: replayer.calls(),
                sink: None,
                result: replayer.finish(),
            },
        })
    }
}

/// A session, inherited by a thread spawned with `replay_runtime::thread`.
pub(crate) struct Inherited {
    shared: Arc<Shared>,
    stream: u32,
}

/// On the spawning thread: gives the thread about to be spawned its own
/// stream of the session (recording the spawn, or reading it from the
/// recording). `None` without a session, or inside a recorded call (whose
/// threads are part of it).
pub(crate) fn inherit(location: &'static std::panic::Location<'static>) -> Option<Inherited> {
    let stream = match thread_mode() {
        ThreadMode::Record => with_shared(|shared| match &shared.kind {
            SharedKind::Record { next_stream, .. } => {
                Some(next_stream.fetch_add(1, Ordering::Relaxed))
            }
            SharedKind::Replay { .. } => None,
        })??,
        ThreadMode::Replay => {
            let spawned =
                with_replayer(|r| match r.next_sync(&|| "a spawn".to_owned(), location)? {
                    crate::recording::format::Sync::Spawn { stream } => Ok(stream),
                    other => Err(r.mismatch(other, "a spawn", location)),
                });
            match spawned {
                Ok(stream) => stream,
                Err(divergence) => crate::divergence::raise(divergence),
            }
        }
        ThreadMode::Diverged => crate::divergence::spent("the spawn", location),
        ThreadMode::Off => return None,
    };
    if thread_mode() == ThreadMode::Record {
        record_sync(crate::recording::format::Sync::Spawn { stream });
    }
    let shared = with_shared(Arc::clone)?;
    Some(Inherited { shared, stream })
}

/// A spawned thread's share of its parent's session: installed when the
/// thread starts, ended when it finishes.
pub(crate) struct ThreadSession {
    installed: Option<Installed>,
}

impl Inherited {
    /// On the spawned thread: installs its stream.
    pub(crate) fn install(self) -> ThreadSession {
        let (active, mode) = match &self.shared.kind {
            SharedKind::Record { sink, .. } => (
                Ok(Active::Record(StreamWriter::new(
                    Arc::clone(sink),
                    self.stream,
                ))),
                ThreadMode::Record,
            ),
            SharedKind::Replay { recording } => (
                Replayer::new(recording, self.stream).map(Active::Replay),
                ThreadMode::Replay,
            ),
        };
        let installed =
            active.and_then(|active| install(active, mode, Arc::clone(&self.shared), self.stream));
        match installed {
            Ok(installed) => ThreadSession {
                installed: Some(installed),
            },
            Err(e) => {
                self.shared.report(e);
                ThreadSession { installed: None }
            }
        }
    }
}

impl Shared {
    /// Keeps an ended thread's failure for the session's `finish`.
    pub(crate) fn report(&self, error: Error) {
        self.outcomes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(error);
    }
}

impl Drop for ThreadSession {
    fn drop(&mut self) {
        let Some(installed) = self.installed.take() else {
            return;
        };
        let shared = Arc::clone(&installed.shared);
        match installed.end() {
            Ok(ended) => {
                shared
                    .thread_calls
                    .fetch_add(ended.calls, Ordering::Relaxed);
                if let Err(e) = ended.result {
                    shared.report(e);
                }
            }
            Err(e) => shared.report(e),
        }
    }
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
                with_writer(|w| {
                    w.flush();
                    // The process may abort next: publish what there is.
                    let _ = w.sink().publish();
                });
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
        let metadata = sink.metadata().clone();
        install_panic_hook();
        let shared = Shared::new(SharedKind::Record {
            sink: Arc::clone(&sink),
            next_stream: AtomicU32::new(1),
        });
        let active = install(
            Active::Record(StreamWriter::new(sink, 0)),
            ThreadMode::Record,
            shared,
            0,
        )?;
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
        let recording = Recording::open(path)?;
        let replayer = Replayer::new(&recording, 0)?;
        let metadata = recording.metadata.clone();
        let shared = Shared::new(SharedKind::Replay { recording });
        let active = install(Active::Replay(replayer), ThreadMode::Replay, shared, 0)?;
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
            && let SharedKind::Replay { .. } = installed.shared.kind
        {
            installed
                .shared
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
        };
        let Some(installed) = self.installed.take() else {
            return Ok(summary);
        };
        let shared = Arc::clone(&installed.shared);
        let ended = installed.end()?;
        summary.calls = ended.calls + shared.thread_calls.load(Ordering::Relaxed);
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
        // What went wrong on the session's other threads, first come first.
        let mut outcomes = shared
            .outcomes
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if !outcomes.is_empty() {
            return Err(outcomes.remove(0));
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
