//! A lock's hidden `version` and `num_reads`, and the waits replay makes on
//! them.

use std::panic::Location;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release, SeqCst};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering, fence};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::thread::Thread;

use super::blame::On;
use super::stall::{Stalled, Waiting};
use crate::context;
use crate::recording::format::ThreadEvent;
use crate::shared::Shared;

/// How a lock is being opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Open {
    Read,
    Write,
}

/// Where a lock stands: its version counts write-opens, `reads` the
/// read-opens since the last write-open. Replaying threads that must wait
/// park, registered with the version they wait for: an open wakes exactly
/// the threads whose version has come.
///
/// The memory orderings, in short (each atomic access says why its own is
/// enough):
///
/// - `version` and `reads` change only while the lock is held: a
///   write-open holds it alone, read-opens share it and only add to
///   `reads`. The lock's own acquire and release order the counts from one
///   holder to the next, so the holder's accesses can be relaxed.
/// - Recording, nobody waits on a lock: a lock serves one session at a
///   time ([`Order::claim`]), and only a replaying thread waits. So a
///   recorded open is two relaxed loads and stores (or one relaxed add),
///   and no look for waiters.
/// - Replaying, a waiting thread reads the counts without the lock, and
///   parks. An open stores the counts, then looks for waiters; a waiter
///   registers, then reads the counts: each side writes one location, then
///   reads the other's. Only `SeqCst` makes one of them see the other (else
///   both may read old values, and the waiter sleeps a whole slice for a
///   turn that came): the one `SeqCst` operation of a replayed open.
#[derive(Debug, Default)]
pub(crate) struct Order {
    /// The session the counts belong to: a lock (a `static` one, say)
    /// outlives sessions, and each counts from zero.
    session: AtomicU64,
    /// That session, while it lives, and where it first opened the lock:
    /// a lock serves one live session at a time (see [`Order::claim`]).
    owner: Mutex<Owner>,
    /// The lock's number in that session's recording (from 1, in the
    /// order the session first opened its locks), so that a reader can
    /// tell which lock an open opened.
    number: AtomicU64,
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
            number: AtomicU64::new(0),
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
    #[inline]
    #[track_caller]
    pub(super) fn claim(&self, serial: u64) {
        // Acquire, paired with the release store below: a thread that sees
        // its session here also sees the counts reset to zero for it, and
        // opens from there (the reset and this load are not under the
        // lock, so the lock's own ordering does not cover them).
        if self.session.load(Acquire) == serial {
            return;
        }
        self.claim_slow(serial);
    }

    #[cold]
    #[track_caller]
    fn claim_slow(&self, serial: u64) {
        let Some((mine, number)) =
            context::with_shared(|shared| (Arc::downgrade(shared), shared.number_lock()))
        else {
            return;
        };
        let location = Location::caller();
        let mut owner = self.owner.lock().unwrap_or_else(PoisonError::into_inner);
        // Relaxed: `session` is stored only under `owner`, which this
        // thread holds, so the mutex orders every store before this load.
        if self.session.load(Relaxed) == serial {
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
        // Acquire: the other session's threads counted before they dropped
        // their share of it (a release decrement each, the last of them
        // read above), so their counts come before this reset.
        fence(Acquire);
        // Relaxed: published by the release store of `session` just after.
        self.number.store(number, Relaxed);
        self.version.store(0, Relaxed);
        self.reads.store(0, Relaxed);
        // Release: a thread that acquires this serial sees the reset.
        self.session.store(serial, Release);
    }

    /// Recording: counts an open that just succeeded, in the session that
    /// claimed the lock; returns the event recording it.
    #[inline]
    pub(crate) fn recorded(&self, open: Open) -> ThreadEvent {
        // All relaxed: this thread holds the lock, so the previous holder's
        // counts came before it through the lock's acquire, and the next
        // holder gets ours through its release. A write-open holds it
        // alone: nobody else touches the counts meanwhile, so a load and a
        // store do what `swap` would. While recording, no thread waits on
        // the counts (only replay waits, and a lock serves one session).
        let version = self.version.load(Relaxed);
        // Relaxed: stored before the session's release store in `claim`,
        // which this thread's acquire load there saw.
        let lock = self.number.load(Relaxed);
        match open {
            Open::Write => {
                let reads = self.reads.load(Relaxed);
                self.reads.store(0, Relaxed);
                self.version.store(version + 1, Relaxed);
                ThreadEvent::Lock {
                    lock,
                    version,
                    reads,
                }
            }
            Open::Read => {
                // An add, not a load and a store: readers share the lock
                // and count at once. Relaxed: only the sum matters, and the
                // next write-open sees it through the lock.
                self.reads.fetch_add(1, Relaxed);
                ThreadEvent::ReadLock { lock, version }
            }
        }
    }

    /// Replaying: counts an open that just succeeded, and wakes the
    /// threads whose turn that brings.
    #[inline]
    pub(crate) fn replayed(&self, open: Open) {
        let now = match open {
            Open::Write => {
                // Relaxed: held alone; the next line's release publishes it.
                self.reads.store(0, Relaxed);
                // SeqCst: the store half of the store-then-look handshake
                // with a waiter (see `Order`), and at least release: a
                // waiter that reads the new version with acquire reads the
                // reset `reads` too, not the last version's count.
                self.version.fetch_add(1, SeqCst) + 1
            }
            Open::Read => {
                // SeqCst: the store half of the handshake, for a writer
                // waiting for this many reads.
                self.reads.fetch_add(1, SeqCst);
                // Relaxed: under the read lock the version cannot change,
                // and the last write-open's is ours through the lock.
                self.version.load(Relaxed)
            }
        };
        // SeqCst: the look half of the handshake. A waiter registers
        // before it reads the counts, so it either sees this open's counts
        // or is counted here (an unpark before its park is kept).
        if self.waiters.load(SeqCst) > 0 {
            self.wake(now);
        }
    }

    /// Wakes the threads waiting for `version`.
    #[cold]
    fn wake(&self, version: u64) {
        // A waiter this open did not see in `waiters` sees its counts.
        let parked = self.parked.lock().unwrap_or_else(PoisonError::into_inner);
        for (_, thread) in parked.iter().filter(|(v, _)| *v == version) {
            thread.unpark();
        }
    }

    /// Where the lock stands in `session` (at zero if not opened in it
    /// yet). `registered`: the caller is counted in `waiters`, and this is
    /// the look half of the handshake with the opens (see `Order`).
    fn stands(&self, session: u64, registered: bool) -> (u64, u64) {
        // Acquire: pairs with the release of `claim`, so the counts read
        // next are this session's (reset), not another's.
        if self.session.load(Acquire) != session {
            return (0, 0);
        }
        // Spinning, acquire is enough: it pairs with the release of the
        // write-open that stored the version, so `reads` is read as that
        // open reset it, or later, never an older version's count.
        // Registered, SeqCst: the look half of the handshake.
        let (version, reads): (Ordering, Ordering) = if registered {
            (SeqCst, SeqCst)
        } else {
            (Acquire, Relaxed)
        };
        (self.version.load(version), self.reads.load(reads))
    }

    /// Replay: waits until the lock stands where the recording opened it:
    /// spinning briefly (the turn often comes within microseconds), then
    /// parked until an open of the awaited version wakes it. A lock
    /// already past that turn is reported at once: versions and reads only
    /// grow, so the turn can never come.
    #[inline]
    pub(super) fn wait_for(
        &self,
        open: Open,
        (version, reads): (u64, u64),
        session: u64,
        location: &'static Location<'static>,
    ) -> Result<(), Box<Stalled>> {
        let ready = |(v, r): (u64, u64)| v == version && (open == Open::Read || r == reads);
        let now = self.stands(session, false);
        if ready(now) {
            return Ok(()); // the common case: the turn is there
        }
        self.wait_slow(open, (version, reads), session, location, now)
    }

    /// The turn is not there yet: spins, then parks.
    #[cold]
    fn wait_slow(
        &self,
        open: Open,
        (version, reads): (u64, u64),
        session: u64,
        location: &'static Location<'static>,
        mut now: (u64, u64),
    ) -> Result<(), Box<Stalled>> {
        let ready = |(v, r): (u64, u64)| v == version && (open == Open::Read || r == reads);
        let past =
            |(v, r): (u64, u64)| v > version || (open == Open::Write && v == version && r > reads);
        for _ in 0..SPINS {
            if ready(now) || past(now) {
                break;
            }
            std::hint::spin_loop();
            now = self.stands(session, false);
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
        // SeqCst: the store half of this thread's side of the handshake
        // with the opens (see `Order`): registered, then it reads the counts.
        self.waiters.fetch_add(1, SeqCst);
        let result = loop {
            let now = self.stands(session, true);
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
        // Relaxed: leaving needs no handshake. An open that still counts
        // this thread only looks at `parked` in vain.
        self.waiters.fetch_sub(1, Relaxed);
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
