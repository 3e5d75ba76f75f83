//! What every thread of a session shares: the recording (its sink, or the
//! validated file), the object index map, the live-file patterns, the
//! stall limit and what the session's ended threads left behind.

use std::path::Path;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use crate::breaks::Breaks;
use crate::error::Error;
use crate::handles::slots::HandleMap;
use crate::policy::LiveFiles;
use crate::recording::reader::Recording;
use crate::recording::sink::Sink;

/// What every thread of a session shares.
pub(crate) struct Shared {
    pub(crate) kind: SharedKind,
    /// The object index map: handles may cross threads.
    pub(crate) handles: Mutex<HandleMap>,
    /// Files whose calls run for real in replay.
    pub(crate) live_files: RwLock<LiveFiles>,
    /// How long a replaying thread may wait before replay gives up.
    pub(crate) stall: Duration,
    /// What went wrong on threads that have ended, for `finish`.
    outcomes: Mutex<Vec<Error>>,
    /// Calls recorded or replayed by spawned threads that have ended.
    pub(crate) thread_calls: AtomicU64,
    /// Spawned threads that have not ended, and the signal of one ending.
    running: Mutex<usize>,
    thread_ended: Condvar,
    /// A number no other session of this process has had.
    pub(crate) serial: u64,
    /// The patches a replay asked for that its recording predates.
    predated: Mutex<Vec<String>>,
    /// The locks the session has opened: each lock's number in the
    /// recording is the count when the session first opened it.
    locks: AtomicU64,
}

/// Whether the session records or replays, with what that needs.
// One per session, never moved once shared: its size does not matter.
#[allow(clippy::large_enum_variant)]
pub(crate) enum SharedKind {
    Record {
        sink: Arc<Sink>,
        /// The next spawned thread's stream.
        next_stream: AtomicU32,
    },
    Replay {
        recording: Recording,
        /// The calls `REPLAY_BREAK` stops before.
        breaks: Breaks,
    },
}

/// Numbers sessions, from 1: locks count their opens per session.
static SESSION_SERIAL: AtomicU64 = AtomicU64::new(1);

/// The environment variable that sets the stall limit, in seconds.
pub(crate) const STALL_VAR: &str = "REPLAY_STALL_TIMEOUT";

/// The stall limit: `REPLAY_STALL_TIMEOUT` seconds, 5 by default; at most
/// [`LONGEST_STALL`], so that adding it to an instant never overflows.
fn stall_limit() -> Duration {
    std::env::var(STALL_VAR)
        .ok()
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|s| *s > 0.0 && !s.is_nan())
        .map_or(Duration::from_secs(5), |s| {
            Duration::try_from_secs_f64(s).map_or(LONGEST_STALL, |d| d.min(LONGEST_STALL))
        })
}

/// The longest stall limit: about 31 years, forever for a replay.
const LONGEST_STALL: Duration = Duration::from_secs(1_000_000_000);

impl Shared {
    pub(crate) fn new(kind: SharedKind) -> Arc<Shared> {
        let replaying = matches!(kind, SharedKind::Replay { .. });
        let stall = stall_limit();
        Arc::new(Shared {
            kind,
            handles: Mutex::new(HandleMap::new(replaying)),
            live_files: RwLock::new(LiveFiles::from_env()),
            stall,
            outcomes: Mutex::new(Vec::new()),
            thread_calls: AtomicU64::new(0),
            running: Mutex::new(0),
            thread_ended: Condvar::new(),
            serial: SESSION_SERIAL.fetch_add(1, Ordering::Relaxed),
            predated: Mutex::new(Vec::new()),
            locks: AtomicU64::new(0),
        })
    }

    /// A number for a lock this session opens for the first time: 1, 2, …
    /// in the order of those first opens.
    pub(crate) fn number_lock(&self) -> u64 {
        // Relaxed: only uniqueness matters.
        self.locks.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Keeps an ended thread's failure for the session's `finish`.
    pub(crate) fn report(&self, error: Error) {
        self.outcomes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(error);
    }

    /// The first failure an ended thread left, if any.
    pub(crate) fn first_failure(&self) -> Option<Error> {
        let mut outcomes = self.outcomes.lock().unwrap_or_else(PoisonError::into_inner);
        (!outcomes.is_empty()).then(|| outcomes.remove(0))
    }

    /// A thread of the session is about to be spawned.
    pub(crate) fn thread_spawned(&self) {
        *self.running.lock().unwrap_or_else(PoisonError::into_inner) += 1;
    }

    /// A thread of the session has ended (its stream is written or checked).
    pub(crate) fn thread_ended(&self) {
        let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        *running = running.saturating_sub(1);
        self.thread_ended.notify_all();
    }

    /// Waits, up to the stall limit, for the spawned threads to end: how
    /// many still run.
    pub(crate) fn wait_for_threads(&self) -> usize {
        let deadline = Instant::now() + self.stall;
        let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        while *running > 0 {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                break;
            };
            running = self
                .thread_ended
                .wait_timeout(running, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        *running
    }

    /// A replay asked for the patch `name`, which its recording predates.
    pub(crate) fn note_predated(&self, name: &str) {
        let mut predated = self.predated.lock().unwrap_or_else(PoisonError::into_inner);
        if !predated.iter().any(|p| p == name) {
            predated.push(name.to_owned());
        }
    }

    /// The patches the recording predates, in the order first asked.
    pub(crate) fn predated(&self) -> Vec<String> {
        self.predated
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The object index map, locked.
    pub(crate) fn handles(&self) -> std::sync::MutexGuard<'_, HandleMap> {
        self.handles.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether calls on `path` run for real in this replay.
    pub(crate) fn is_live_path(&self, path: &Path) -> bool {
        self.live_files
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .matches(path)
    }
}
