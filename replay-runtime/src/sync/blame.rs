//! Which thread a stalled replay most likely waits on in vain: read from
//! what every waiting thread waits for, when the stall limit runs out.
//!
//! Locks are not named in the recording, so this is a judgement, made in
//! this order:
//!
//! 1. a thread waiting for a lock to reach version *v* while another
//!    stalled lock stands exactly at *v*: that turn is its own, and it
//!    opens another lock here than when recording (or one more or one
//!    fewer before);
//! 2. the end of a chain of receivers waiting for each other's messages:
//!    a thread that waits for nobody (it ended, or went another way,
//!    without sending) or waits for a lock's turn;
//! 3. else the thread that has waited longest: stalls spread from it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::panic::Location;
use std::time::Instant;

/// What a replaying thread waits for, for the stall report.
pub(crate) struct Wait {
    /// In words, as the report says it.
    pub(crate) what: String,
    pub(crate) location: &'static Location<'static>,
    pub(crate) since: Instant,
    pub(crate) on: On,
}

/// What a wait is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum On {
    /// A lock (by address) to reach `awaited`: version and reads, the
    /// reads mattering to a write-open only. `now` is where it stood when
    /// the waiting thread last looked.
    Lock {
        lock: usize,
        write: bool,
        awaited: (u64, u64),
        now: (u64, u64),
    },
    /// The next message of the thread recording into `sender`.
    Message { sender: u32 },
}

/// The thread most likely at fault, where it is (if it waits in a lock
/// or channel, or diverged) and why it is blamed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Verdict {
    pub(crate) thread: u32,
    pub(crate) location: Option<&'static Location<'static>>,
    pub(crate) why: String,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "most likely at fault: thread {}", self.thread)?;
        if let Some(location) = self.location {
            write!(f, ", at {location}")?;
        }
        write!(f, ": {}", self.why)
    }
}

/// The thread most likely at fault among `waits`; `None` if no thread
/// waits.
pub(crate) fn blame(waits: &BTreeMap<u32, Wait>) -> Option<Verdict> {
    wrong_lock(waits)
        .or_else(|| end_of_chain(waits))
        .or_else(|| longest(waits))
}

/// Rule 1: a thread awaiting the turn another stalled lock stands at.
fn wrong_lock(waits: &BTreeMap<u32, Wait>) -> Option<Verdict> {
    waits.iter().find_map(|(&thread, wait)| {
        let On::Lock {
            lock,
            write,
            awaited,
            ..
        } = wait.on
        else {
            return None;
        };
        let stands_there = |on: On| match on {
            On::Lock {
                lock: other, now, ..
            } => other != lock && now.0 == awaited.0 && (!write || now.1 == awaited.1),
            On::Message { .. } => false,
        };
        waits.values().any(|w| stands_there(w.on)).then(|| Verdict {
            thread,
            location: Some(wait.location),
            why: format!(
                "it waits for a lock to reach version {}, and another stalled lock stands \
                     exactly there with no thread taking that turn: this thread likely opens \
                     another lock here than when recording (or one lock more or fewer before)",
                awaited.0
            ),
        })
    })
}

/// Rule 2: follows receivers to the thread whose message they await.
fn end_of_chain(waits: &BTreeMap<u32, Wait>) -> Option<Verdict> {
    let (&start, _) = waits
        .iter()
        .find(|(_, w)| matches!(w.on, On::Message { .. }))?;
    let (mut waiter, mut at) = (start, start);
    let mut seen = BTreeSet::new();
    while let Some(On::Message { sender }) = waits.get(&at).map(|w| w.on) {
        if !seen.insert(at) {
            let location = waits.get(&at).map(|w| w.location);
            return Some(Verdict {
                thread: at,
                location,
                why: "it waits for a message from a thread that waits, in turn, for one of its \
                      own"
                .to_owned(),
            });
        }
        (waiter, at) = (at, sender);
    }
    Some(match waits.get(&at) {
        Some(wait) => Verdict {
            thread: at,
            location: Some(wait.location),
            why: format!(
                "thread {waiter} waits for its message, and it waits for {}, which does not \
                 come: it likely does something here it did not do when recording",
                wait.what
            ),
        },
        None => Verdict {
            thread: at,
            location: None,
            why: format!(
                "thread {waiter} waits for its message, and it waits for no other thread: it \
                 ended, or took another path, without sending it"
            ),
        },
    })
}

/// Rule 3: the thread that has waited longest.
fn longest(waits: &BTreeMap<u32, Wait>) -> Option<Verdict> {
    let (&thread, wait) = waits.iter().min_by_key(|(_, w)| w.since)?;
    Some(Verdict {
        thread,
        location: Some(wait.location),
        why: format!(
            "it has waited longest, for {}: the stall likely began with it",
            wait.what
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wait(on: On) -> Wait {
        Wait {
            what: "something".to_owned(),
            location: Location::caller(),
            since: Instant::now(),
            on,
        }
    }

    fn lock(lock: usize, awaited: u64, now: u64) -> On {
        On::Lock {
            lock,
            write: true,
            awaited: (awaited, 0),
            now: (now, 0),
        }
    }

    #[test]
    fn a_thread_awaiting_the_turn_another_stalled_lock_stands_at_is_blamed() {
        let waits = BTreeMap::from([
            (1, wait(lock(1, 9, 4))),
            (2, wait(lock(2, 7, 3))), // lock 1 stands at 4, lock 2 at 3
            (3, wait(lock(1, 4 + 3, 4))),
            (4, wait(lock(2, 4, 3))), // awaits 4 on lock 2: lock 1's turn
        ]);
        assert_eq!(blame(&waits).map(|v| v.thread), Some(4));
    }

    #[test]
    fn receivers_lead_to_the_thread_they_wait_for() {
        let waits = BTreeMap::from([
            (0, wait(On::Message { sender: 5 })),
            (5, wait(On::Message { sender: 6 })),
        ]);
        let verdict = blame(&waits).expect("a verdict");
        assert_eq!((verdict.thread, verdict.location), (6, None));
        assert!(verdict.why.contains("thread 5 waits for its message"));
        let waits = BTreeMap::from([
            (0, wait(On::Message { sender: 5 })),
            (5, wait(lock(1, 9, 4))),
        ]);
        assert_eq!(blame(&waits).map(|v| v.thread), Some(5));
    }
}
