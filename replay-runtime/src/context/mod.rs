//! The thread context: this thread's mode, what the runtime is doing with
//! values (the phase, which `#[mapped]` handles need), and its share of a
//! session. Mode and phase change only through a [`Scope`] guard, which
//! puts them back when dropped, panics included; a session's share is
//! installed and ended through [`Installed`].

use std::cell::{Cell, RefCell, RefMut};
use std::panic::Location;
use std::path::Path;
use std::sync::Arc;

use crate::cursor::Cursor;
use crate::divergence::{self, Divergence};
use crate::error::{Error, Result};
use crate::handles::slots::HandleMap;
use crate::recording::format::ThreadEvent;
use crate::recording::sink::Sink;
use crate::recording::writer::StreamWriter;
use crate::shared::Shared;

/// A thread's session state while it runs: the stream it records or
/// replays, what the session's threads share, and the handle notes of the
/// call under way.
struct Local {
    active: RefCell<Active>,
    shared: Arc<Shared>,
    stream: u32,
    notes: RefCell<Notes>,
    /// The answers `patched` gave on this thread, by patch name: the
    /// first question decides for the rest of the session.
    patches: RefCell<Vec<(Box<str>, bool)>>,
}

/// What a thread does with its stream. One per thread, boxed in `Local`
/// already: boxing the larger variant again would add a load to every
/// replayed call.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Active {
    Record(StreamWriter),
    Replay(Cursor),
}

/// The thread's context. One `const`-initialised thread-local without a
/// destructor, so every access is a plain load from thread-local storage,
/// valid even while the thread is being torn down. The session state is
/// owned by an [`Installed`] (boxed, so its address is stable), which
/// clears the pointer before it drops the box.
struct Context {
    mode: Cell<ThreadMode>,
    phase: Cell<Phase>,
    local: Cell<*const Local>,
    /// Arguments noted something about handles: spares looking when not.
    noted: Cell<bool>,
    /// See [`epoch`].
    epoch: Cell<u64>,
}

mod modes;

pub use modes::ThreadMode;
pub(crate) use modes::{Notes, Phase};

thread_local! {
    static CONTEXT: Context = const {
        Context {
            mode: Cell::new(ThreadMode::Off),
            phase: Cell::new(Phase::Idle),
            local: Cell::new(std::ptr::null()),
            noted: Cell::new(false),
            epoch: Cell::new(0),
        }
    };
}

/// The stream of a thread without a session.
pub(crate) const NO_STREAM: u32 = u32::MAX;

#[inline(always)]
pub(crate) fn mode() -> ThreadMode {
    CONTEXT.with(|c| c.mode.get())
}

/// Whether wrappers go straight through: no session, or inside a call.
#[inline(always)]
pub(crate) fn passes_through() -> bool {
    mode() as u8 <= ThreadMode::InCall as u8
}

/// How many times a session was installed on or ended from this thread:
/// what a guard compares to know whether its session is still the one.
#[inline(always)]
pub(crate) fn epoch() -> u64 {
    CONTEXT.with(|c| c.epoch.get())
}

#[inline(always)]
pub(crate) fn phase() -> Phase {
    CONTEXT.with(|c| c.phase.get())
}

/// Changes the thread's mode and phase until dropped, panics included.
/// A divergence met meanwhile stays (`Diverged` is never undone), and so
/// does a session started or ended meanwhile (by code inside the scope:
/// the mode is then the new session's, or off).
#[must_use]
pub(crate) struct Scope {
    mode: ThreadMode,
    phase: Phase,
    epoch: u64,
}

impl Scope {
    #[inline(always)]
    pub(crate) fn enter(mode: ThreadMode, phase: Phase) -> Scope {
        CONTEXT.with(|c| Scope {
            mode: c.mode.replace(mode),
            phase: c.phase.replace(phase),
            epoch: c.epoch.get(),
        })
    }

    /// Whether the thread's session is still the one the scope began in.
    #[inline(always)]
    pub(crate) fn same_session(&self) -> bool {
        epoch() == self.epoch
    }

    /// Changes the phase while the scope lives (it is restored with the
    /// mode when the scope ends).
    #[inline(always)]
    pub(crate) fn set_phase(&self, phase: Phase) {
        CONTEXT.with(|c| c.phase.set(phase));
    }
}

impl Drop for Scope {
    #[inline(always)]
    fn drop(&mut self) {
        CONTEXT.with(|c| {
            c.phase.set(self.phase);
            if c.mode.get() != ThreadMode::Diverged && self.same_session() {
                c.mode.set(self.mode);
            }
        });
    }
}

/// Runs `f` on this thread's session state, unless there is none.
#[inline(always)]
fn with_local<T>(f: impl FnOnce(&Local) -> T) -> Option<T> {
    local().map(f)
}

/// Runs `f` on what this thread's session shares, if there is a session.
pub(crate) fn with_shared<T>(f: impl FnOnce(&Arc<Shared>) -> T) -> Option<T> {
    with_local(|l| f(&l.shared))
}

/// Runs `f` on the session's object index map, if there is a session.
pub(crate) fn with_handles<T>(f: impl FnOnce(&mut HandleMap) -> T) -> Option<T> {
    with_shared(|shared| f(&mut shared.handles()))
}

/// Runs `f` on this thread's handle notes, if there is a session.
pub(crate) fn with_notes<T>(f: impl FnOnce(&mut Notes) -> T) -> Option<T> {
    with_local(|l| l.notes.try_borrow_mut().ok().map(|mut n| f(&mut n))).flatten()
}

/// Notes that encoding arguments found something about handles.
pub(crate) fn note_handles() {
    CONTEXT.with(|c| c.noted.set(true));
}

/// Takes (and clears) the handle notes of the arguments just encoded.
#[inline(always)]
pub(crate) fn take_notes() -> Notes {
    if !CONTEXT.with(|c| c.noted.replace(false)) {
        return Notes::default();
    }
    with_notes(std::mem::take).unwrap_or_default()
}

/// What `patched(name)` answered on this thread, if it was asked.
pub(crate) fn patch_answer(name: &str) -> Option<bool> {
    let local = local()?;
    let answers = local.patches.borrow();
    answers.iter().find(|(n, _)| **n == *name).map(|&(_, a)| a)
}

/// Remembers what `patched(name)` answered on this thread; see
/// [`patch_answer`].
pub(crate) fn remember_patch(name: &str, answer: bool) {
    if let Some(local) = local() {
        local.patches.borrow_mut().push((name.into(), answer));
    }
}

/// This thread's deterministic id: its stream in the session.
#[inline]
pub(crate) fn thread_stream() -> u32 {
    with_local(|l| l.stream).unwrap_or(NO_STREAM)
}

/// This thread's session's serial number.
pub(crate) fn session_serial() -> Option<u64> {
    with_shared(|shared| shared.serial)
}

/// Whether calls on `path` run for real in this replay.
pub(crate) fn is_live_path(path: &Path) -> bool {
    with_shared(|shared| shared.is_live_path(path)).unwrap_or(false)
}

/// This thread's session state, if it has one. The borrow must end
/// before the session does: callers use it within one call.
#[inline(always)]
fn local<'a>() -> Option<&'a Local> {
    let local = CONTEXT.with(|c| c.local.get());
    // SAFETY: a non-null pointer is the live box of this thread's
    // `Installed`, which clears it before dropping the box; no caller
    // keeps the borrow past its own call.
    (!local.is_null()).then(|| unsafe { &*local })
}

/// This thread's stream writer, if it is recording (and not already
/// borrowed by an outer call on this thread).
#[inline(always)]
pub(crate) fn writer<'a>() -> Option<RefMut<'a, StreamWriter>> {
    let active = local()?.active.try_borrow_mut().ok()?;
    RefMut::filter_map(active, |active| match active {
        Active::Record(writer) => Some(writer),
        Active::Replay(_) => None,
    })
    .ok()
}

/// Runs `f` on this thread's stream writer, if it is recording (and not
/// already borrowed by an outer call on this thread).
#[inline(always)]
pub(crate) fn with_writer<T>(f: impl FnOnce(&mut StreamWriter) -> T) -> Option<T> {
    writer().map(|mut writer| f(&mut writer))
}

/// Records a thread event in this thread's stream.
pub(crate) fn record_thread_event(event: ThreadEvent) {
    with_writer(|w| w.record_thread(event));
}

/// Runs `f` on this thread's replay cursor. A divergence it returns (the
/// cursor has made and kept the report) spends the thread: its mode
/// becomes `Diverged`, and the divergence is passed on, to be raised at
/// the caller.
#[inline]
pub(crate) fn try_replay<T>(
    location: &'static Location<'static>,
    f: impl FnOnce(&mut Cursor) -> std::result::Result<T, Divergence>,
) -> std::result::Result<T, Divergence> {
    let result = local()
        .and_then(|l| l.active.try_borrow_mut().ok())
        .and_then(|mut active| match &mut *active {
            Active::Replay(cursor) => Some(f(cursor)),
            Active::Record(_) => None,
        });
    match result {
        Some(Ok(value)) => Ok(value),
        Some(Err(divergence)) => {
            CONTEXT.with(|c| c.mode.set(ThreadMode::Diverged));
            Err(divergence)
        }
        None => {
            CONTEXT.with(|c| c.mode.set(ThreadMode::Diverged));
            Err(divergence::unavailable(location))
        }
    }
}

/// [`try_replay`], raising a divergence as a panic at the caller.
#[inline]
#[track_caller]
pub(crate) fn replay<T>(
    location: &'static Location<'static>,
    f: impl FnOnce(&mut Cursor) -> std::result::Result<T, Divergence>,
) -> T {
    match try_replay(location, f) {
        Ok(value) => value,
        Err(divergence) => divergence::raise(divergence),
    }
}

/// A thread's share of a session, installed as its context: owned by the
/// `Session` (or, on a spawned thread, by its guard), which ends it.
pub(crate) struct Installed {
    local: Box<Local>,
}

/// Makes `active` this thread's session state, in `mode`.
pub(crate) fn install(
    active: Active,
    mode: ThreadMode,
    shared: Arc<Shared>,
    stream: u32,
) -> Result<Installed> {
    if session_active() {
        return Err(Error::SessionActive);
    }
    let installed = Installed {
        local: Box::new(Local {
            active: RefCell::new(active),
            shared,
            stream,
            notes: RefCell::new(Notes::default()),
            patches: RefCell::new(Vec::new()),
        }),
    };
    divergence::reset_spent();
    CONTEXT.with(|c| {
        c.local.set(&*installed.local);
        c.phase.set(Phase::Idle);
        c.noted.set(false);
        c.epoch.set(c.epoch.get() + 1);
        c.mode.set(mode);
    });
    // Relaxed: only a warning reads it (a callback on a thread without a
    // session, while some thread has one).
    INSTALLED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    Ok(installed)
}

/// Threads with a session installed, in the whole process.
static INSTALLED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Whether any thread of the process has a session (this one or another).
#[inline]
pub(crate) fn any_session() -> bool {
    INSTALLED.load(std::sync::atomic::Ordering::Relaxed) > 0
}

/// Whether this thread has a session.
pub(crate) fn session_active() -> bool {
    CONTEXT.with(|c| !c.local.get().is_null())
}

/// What ending a thread's share of a session produced.
pub(crate) struct Ended {
    pub(crate) calls: u64,
    /// The recording's sink, when recording.
    pub(crate) sink: Option<Arc<Sink>>,
    /// Whether the replay consumed its stream without diverging.
    pub(crate) result: Result<()>,
}

impl Installed {
    /// What the session's threads share.
    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.local.shared
    }

    /// Clears this thread's context and ends its stream: writes it out,
    /// or checks that its replay consumed everything.
    pub(crate) fn end(self) -> Result<Ended> {
        CONTEXT.with(|c| {
            c.local.set(std::ptr::null());
            c.phase.set(Phase::Idle);
            c.epoch.set(c.epoch.get() + 1);
            c.mode.set(ThreadMode::Off);
        });
        INSTALLED.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        // Ended from inside one of its own calls (user code run while the
        // runtime holds the state): the state must outlive that call, so it
        // is leaked rather than freed under it.
        if self.local.active.try_borrow_mut().is_err() {
            std::mem::forget(self);
            return Err(Error::SessionBusy);
        }
        let local = *self.local;
        Ok(match local.active.into_inner() {
            Active::Record(mut writer) => {
                // Ended by the body of one of its own calls: what came
                // before that call is written, and `finish` says why the
                // rest cannot be.
                let inside = writer.call_open();
                if inside {
                    writer.cut_open_calls();
                }
                writer.end();
                Ended {
                    calls: writer.calls(),
                    sink: Some(Arc::clone(writer.sink())),
                    result: if inside {
                        Err(Error::SessionBusy)
                    } else {
                        Ok(())
                    },
                }
            }
            Active::Replay(mut cursor) => Ended {
                calls: cursor.calls(),
                sink: None,
                result: cursor.finish(),
            },
        })
    }
}

/// The number of this thread's current boundary call, from 0: calls it
/// recorded (or replayed) before the one under way. `None` without a
/// session, or while the stream is busy (in a `Serialize` the runtime
/// calls).
pub(crate) fn call_index() -> Option<u64> {
    let active = local()?.active.try_borrow().ok()?;
    Some(match &*active {
        Active::Record(writer) => writer.calls(),
        Active::Replay(cursor) => cursor.calls(),
    })
}
