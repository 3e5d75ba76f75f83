//! What a lock operation does in this thread's mode ([`Plan`]): decided
//! before the open ([`before_open`], replay's wait for its turn out of
//! line), carried out after it; and std's results with their guards
//! wrapped.

use std::panic::Location;
use std::sync::{LockResult, PoisonError, TryLockError, TryLockResult};

use super::order::{Open, Order};
use crate::context::{self, ThreadMode};
use crate::divergence;
use crate::recording::format::ThreadEvent;

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
    #[inline]
    pub(crate) fn opened(self, order: &Order, open: Open) {
        match self {
            Plan::Record => context::record_thread_event(order.recorded(open)),
            Plan::Replay => order.replayed(open),
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
///
/// Inlined into each open: without a session it is the mode's check, and
/// recording the check of the lock's session; replay's wait is out of line.
#[inline]
#[track_caller]
pub(crate) fn before_open(order: &Order, open: Open, trying: bool) -> Plan {
    match context::mode() {
        ThreadMode::Off | ThreadMode::Assumed | ThreadMode::InCall => Plan::Plain,
        ThreadMode::Record => {
            // `with_shared` rather than `session_serial`: inlined here.
            order.claim(context::with_shared(|shared| shared.serial).unwrap_or(0));
            Plan::Record
        }
        ThreadMode::Diverged => divergence::spent("the lock opened", Location::caller()),
        ThreadMode::Replay => replay_turn(order, open, trying),
    }
}

/// Replay: the recorded open's turn, waited for.
#[inline(never)]
#[track_caller]
fn replay_turn(order: &Order, open: Open, trying: bool) -> Plan {
    let location = Location::caller();
    let serial = context::session_serial().unwrap_or(0);
    order.claim(serial);
    let doing = match open {
        Open::Read => "a read-open of a lock",
        Open::Write => "an open of a lock",
    };
    let next = context::replay(location, |cursor| {
        cursor.thread_event(doing, location, |event| match (open, event) {
            (Open::Write, ThreadEvent::Lock { version, reads, .. }) => Some(Some((version, reads))),
            (Open::Read, ThreadEvent::ReadLock { version, .. }) => Some(Some((version, 0))),
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
