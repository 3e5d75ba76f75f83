//! A lock's hidden `version` and `num_reads`, and the waits replay makes on
//! them.

use std::panic::Location;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::sync::{Arc, LockResult, Mutex, PoisonError, TryLockError, TryLockResult, Weak};
use std::thread::Thread;

use super::blame::On;
use super::stall::{Stalled, Waiting};
use crate::context::{self, ThreadMode};
use crate::divergence;
use crate::recording::format::ThreadEvent;
use crate::shared::Shared;

/// How a lock is being opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Open {
    Read,
    Write,
}

/// Where a lock stands: its version counts write-opens, `reads` the
/// read-opens since the last write-open. Updated only while the lock is
/// held (a write-open holds it alone), so plain atomics suffice. Replaying
/// threads that must wait park, registered with the version they wait
/// for: an open wakes exactly the threads whose version has come.
#[derive(Debug, Default)]
pub(crate) struct Order {
    /// The session the counts belong to: a lock (a `static` one, say)
    /// outlives sessions, and each counts from zero.
    session: AtomicU64,
    /// That session, while it lives, and where it first opened the lock:
    /// a lock serves one live session at a time (see [`Order::claim`]).
    owner: Mutex<Owner>,
    version: AtomicU64,
    reads: AtomicU64,
    /// How many threads are registered in `parked`: opens look only then.
    waiters: AtomicUsize,
    parked: Mutex<Vec<(u64, Thread)>>,
}

impl Order {
    pub(crate) const fn new() -> Order {
        Order {
            session: AtomicU64::new(0),
            owner: Mutex::new(Owner {
                shared: Weak::new(),
                first: None,
            }),
            version: AtomicU64::new(0),
            reads: AtomicU64::new(0),
            waiters: AtomicUsize::new(0),
            parked: Mutex::new(Vec::new()),
        }
    }

    /// Makes the lock count for this thread's session (`serial`), from
    /// zero if another session counted in it before.
    ///
    /// A lock counts one session's opens. Two sessions live at once on one
    /// lock (two tests running in parallel on a `static` lock) would each
    /// record versions counting the other's opens too, and each recording
    /// would wait in replay for opens only the other session makes: both
    /// record without a complaint and every replay stalls. Counting per
    /// session does not help either: the two sessions still see each other's
    /// values through the lock, which neither recording holds, so a replay
    /// would return other values than recorded. So the second live session
    /// to open a lock panics here, naming the problem and the fix, rather
    /// than recording something that cannot be replayed.
    #[track_caller]
    fn claim(&self, serial: u64) {
        if self.session.load(SeqCst) == serial {
            return;
        }
        let Some(mine) = context::with_shared(Arc::downgrade) else {
            return;
        };
        let location = Location::caller();
        let mut owner = self.owner.lock().unwrap_or_else(PoisonError::into_inner);
        if self.session.load(SeqCst) == serial {
            return; // another thread of this session claimed it meanwhile
        }
        // Only counting the strong references: upgrading could drop the
        // other session's last one here.
        if owner.shared.strong_count() > 0 {
            let first = owner.first.map_or_else(String::new, |at| {
                format!(" (the other session first opened it at {at})")
            });
            drop(owner);
            panic!(
                "replay: a lock opened at {location} is in use by another session that is still \
                 live{first}. A lock counts the opens of one session at a time: two sessions \
                 sharing it at once (two tests running in parallel on a `static` lock, say) \
                 would record an order neither can replay. Give each session (each test) its \
                 own lock, or run the sessions one after another (`cargo test -- \
                 --test-threads=1`, or a lock held around each whole session)"
            );
        }
        *owner = Owner {
            shared: mine,
            first: Some(location),
        };
        self.version.store(0, SeqCst);
        self.reads.store(0, SeqCst);
        self.session.store(serial, SeqCst);
    }

    /// Counts an open that just succeeded, in the session that claimed the
    /// lock; returns the event recording it.
    pub(crate) fn opened(&self, open: Open) -> ThreadEvent {
        let version = self.version.load(SeqCst);
        let event = match open {
            Open::Write => {
                let reads = self.reads.swap(0, SeqCst);
                self.version.store(version + 1, SeqCst);
                ThreadEvent::Lock { version, reads }
            }
            Open::Read => {
                self.reads.fetch_add(1, SeqCst);
                ThreadEvent::ReadLock { version }
            }
        };
        if self.waiters.load(SeqCst) > 0 {
            // A waiter registers before it checks, so it either sees this
            // update or is found here; an unpark before its park is kept.
            let now = self.version.load(SeqCst);
            let parked = self.parked.lock().unwrap_or_else(PoisonError::into_inner);
            for (_, thread) in parked.iter().filter(|(v, _)| *v == now) {
                thread.unpark();
            }
        }
        event
    }

    /// Where the lock stands in `session` (at zero if not opened in it yet).
    fn stands(&self, session: u64) -> (u64, u64) {
        if self.session.load(SeqCst) != session {
            return (0, 0);
        }
        (self.version.load(SeqCst), self.reads.load(SeqCst))
    }

    /// Replay: waits until the lock stands where the recording opened it:
    /// spinning briefly (the turn often comes within microseconds), then
    /// parked until an open of the awaited version wakes it. A lock
    /// already past that turn is reported at once: versions and reads only
    /// grow, so the turn can never come.
    fn wait_for(
        &self,
        open: Open,
        (version, reads): (u64, u64),
        session: u64,
        location: &'static Location<'static>,
    ) -> Result<(), Box<Stalled>> {
        let ready = |(v, r): (u64, u64)| v == version && (open == Open::Read || r == reads);
        let past =
            |(v, r): (u64, u64)| v > version || (open == Open::Write && v == version && r > reads);
        let mut now = self.stands(session);
        for _ in 0..SPINS {
            if ready(now) || past(now) {
                break;
            }
            std::hint::spin_loop();
            now = self.stands(session);
        }
        if ready(now) {
            return Ok(());
        }
        let what = match open {
            Open::Write => format!("a lock to reach version {version} after {reads} read(s)"),
            Open::Read => format!("a lock to reach version {version}"),
        };
        let on = On::Lock {
            lock: self as *const Order as usize,
            write: open == Open::Write,
            awaited: (version, reads),
            now,
        };
        let waiting = Waiting::start(what, on, location);
        let me = std::thread::current();
        self.parked
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((version, me.clone()));
        self.waiters.fetch_add(1, SeqCst);
        let result = loop {
            let now = self.stands(session);
            if ready(now) {
                break Ok(());
            }
            if let Some(waiting) = &waiting {
                if past(now) {
                    let (v, r) = now;
                    break Err(waiting.past(format!("stands at version {v} after {r} read(s)")));
                }
                waiting.stands(now);
                if let Err(stalled) = waiting.check() {
                    let (v, r) = now;
                    break Err(stalled.noted(format!(
                        "note: the lock is at version {v} after {r} read(s)"
                    )));
                }
            }
            std::thread::park_timeout(Waiting::SLICE);
        };
        self.waiters.fetch_sub(1, SeqCst);
        self.parked
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|(_, thread)| thread.id() != me.id());
        result
    }
}

/// Checks before a waiting replay thread parks.
const SPINS: u32 = 64;

/// The session a lock counts for, while it lives.
#[derive(Debug, Default)]
struct Owner {
    shared: Weak<Shared>,
    /// Where it first opened the lock, for the report of a second session.
    first: Option<&'static Location<'static>>,
}

/// What a lock operation does in this thread's mode.
#[derive(Clone, Copy)]
pub(crate) enum Plan {
    /// Without a session: as std.
    Plain,
    /// Recording: as std, then record the open.
    Record,
    /// Replaying: the recording says the open succeeded at this point.
    Replay,
    /// Replaying: the recording says `try_lock` found the lock taken.
    Taken,
}

impl Plan {
    /// After an open succeeded: counts it, and records it when recording.
    pub(crate) fn opened(self, order: &Order, open: Open) {
        match self {
            Plan::Record => context::record_thread_event(order.opened(open)),
            Plan::Replay => {
                order.opened(open);
            }
            Plan::Plain | Plan::Taken => {}
        }
    }

    /// After a `try_` found the lock taken.
    pub(crate) fn taken(self) {
        if let Plan::Record = self {
            context::record_thread_event(ThreadEvent::TryLockFailed);
        }
    }

    /// After a `try_lock`, `try_read` or `try_write`: counts and records
    /// what it got.
    pub(crate) fn tried<G>(self, order: &Order, open: Open, result: &TryLockResult<G>) {
        match result {
            Err(TryLockError::WouldBlock) => self.taken(),
            _ => self.opened(order, open),
        }
    }
}

/// Before opening a lock: what to do, and in replay, the wait for the
/// recorded version. `trying` is true for `try_lock`, `try_read` and
/// `try_write`, which may have been recorded as failing.
#[track_caller]
pub(crate) fn before_open(order: &Order, open: Open, trying: bool) -> Plan {
    let location = Location::caller();
    let serial = context::session_serial().unwrap_or(0);
    match context::mode() {
        ThreadMode::Off | ThreadMode::Assumed | ThreadMode::InCall => Plan::Plain,
        ThreadMode::Record => {
            order.claim(serial);
            Plan::Record
        }
        ThreadMode::Diverged => divergence::spent("the lock opened", location),
        ThreadMode::Replay => {
            order.claim(serial);
            let doing = match open {
                Open::Read => "a read-open of a lock",
                Open::Write => "an open of a lock",
            };
            let next = context::replay(location, |cursor| {
                cursor.thread_event(doing, location, |event| match (open, event) {
                    (Open::Write, ThreadEvent::Lock { version, reads }) => {
                        Some(Some((version, reads)))
                    }
                    (Open::Read, ThreadEvent::ReadLock { version }) => Some(Some((version, 0))),
                    (_, ThreadEvent::TryLockFailed) if trying => Some(None),
                    _ => None,
                })
            });
            match next {
                Some(at) => match order.wait_for(open, at, serial, location) {
                    Ok(()) => Plan::Replay,
                    Err(stalled) => (*stalled).raise(),
                },
                None => Plan::Taken,
            }
        }
    }
}

/// A std guard's result, with the guard wrapped.
pub(crate) fn map_poison<G, H>(result: LockResult<G>, wrap: impl FnOnce(G) -> H) -> LockResult<H> {
    match result {
        Ok(guard) => Ok(wrap(guard)),
        Err(poisoned) => Err(PoisonError::new(wrap(poisoned.into_inner()))),
    }
}

pub(crate) fn map_try<G, H>(
    result: TryLockResult<G>,
    wrap: impl FnOnce(G) -> H,
) -> TryLockResult<H> {
    match result {
        Ok(guard) => Ok(wrap(guard)),
        Err(TryLockError::WouldBlock) => Err(TryLockError::WouldBlock),
        Err(TryLockError::Poisoned(p)) => Err(TryLockError::Poisoned(PoisonError::new(wrap(
            p.into_inner(),
        )))),
    }
}
