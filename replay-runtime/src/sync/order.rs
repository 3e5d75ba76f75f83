//! A lock's hidden `version` and `num_reads`, and the waits replay makes on
//! them.

use std::panic::Location;
use std::sync::{Condvar, Mutex, PoisonError};

use crate::divergence::{self, Divergence};
use crate::recording::format::Sync;
use crate::session::{self, ThreadMode, Waiting};

/// How a lock is being opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Open {
    Read,
    Write,
}

/// Where a lock stands: its version counts write-opens, `reads` the
/// read-opens since the last write-open.
#[derive(Debug, Default)]
pub(crate) struct Order {
    state: Mutex<(u64, u64)>,
    changed: Condvar,
}

impl Order {
    pub(crate) const fn new() -> Order {
        Order {
            state: Mutex::new((0, 0)),
            changed: Condvar::new(),
        }
    }

    /// Counts an open that just succeeded; returns the event recording it.
    pub(crate) fn opened(&self, open: Open) -> Sync {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let (version, reads) = *state;
        let event = match open {
            Open::Write => {
                *state = (version + 1, 0);
                Sync::Lock { version, reads }
            }
            Open::Read => {
                state.1 += 1;
                Sync::Lock { version, reads: 0 }
            }
        };
        drop(state);
        self.changed.notify_all();
        event
    }

    /// Replay: waits until the lock stands where the recording opened it.
    fn wait_for(
        &self,
        open: Open,
        version: u64,
        reads: u64,
        location: &'static Location<'static>,
    ) -> Result<(), Divergence> {
        let ready = |&(v, r): &(u64, u64)| v == version && (open == Open::Read || r == reads);
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if ready(&state) {
            return Ok(());
        }
        let what = match open {
            Open::Write => format!("a lock to reach version {version} after {reads} read(s)"),
            Open::Read => format!("a lock to reach version {version}"),
        };
        let waiting = Waiting::start(what, location);
        loop {
            let (next, _) = self
                .changed
                .wait_timeout(state, Waiting::SLICE)
                .unwrap_or_else(PoisonError::into_inner);
            state = next;
            if ready(&state) {
                return Ok(());
            }
            if let Some(waiting) = &waiting {
                let (v, r) = *state;
                drop(state);
                waiting.check().map_err(|mut d| {
                    d.message.push_str(&format!(
                        "\n  note: the lock is at version {v} after {r} read(s)"
                    ));
                    d
                })?;
                state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            }
        }
    }
}

/// What a lock operation does in this thread's mode.
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

/// Before opening a lock: what to do, and in replay, the wait for the
/// recorded version. `trying` is true for `try_lock`, `try_read` and
/// `try_write`, which may have been recorded as failing.
#[track_caller]
pub(crate) fn before_open(order: &Order, open: Open, trying: bool) -> Plan {
    let location = Location::caller();
    match session::thread_mode() {
        ThreadMode::Off => Plan::Plain,
        ThreadMode::Record => Plan::Record,
        ThreadMode::Diverged => divergence::raise(Divergence {
            message: format!(
                "replay diverged earlier on this thread; the lock opened at {location} \
                 cannot be replayed (see the first `replay diverged` report)"
            ),
        }),
        ThreadMode::Replay => {
            let doing = || match open {
                Open::Read => "a read-open of a lock".to_owned(),
                Open::Write => "an open of a lock".to_owned(),
            };
            let next = session::with_replayer(|r| match r.next_sync(&doing, location)? {
                Sync::Lock { version, reads } => Ok(Some((version, reads))),
                Sync::TryLockFailed if trying => Ok(None),
                other => Err(r.mismatch(other, &doing(), location)),
            });
            let waited = match next {
                Ok(Some((version, reads))) => order
                    .wait_for(open, version, reads, location)
                    .map(|()| Plan::Replay),
                Ok(None) => Ok(Plan::Taken),
                Err(divergence) => Err(divergence),
            };
            waited.unwrap_or_else(|divergence| divergence::raise(divergence))
        }
    }
}

/// After a lock was opened (or a `try_` found it taken) while recording.
pub(crate) fn record(event: Sync) {
    session::record_sync(event);
}
