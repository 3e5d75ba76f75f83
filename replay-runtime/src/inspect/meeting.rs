//! Where threads met, as an inspected stream tells it: which thread was
//! spawned, which lock was opened at which version, whose message was
//! received and where its sender was. What `replay timeline` draws its
//! arrows from.

use std::fmt;

use crate::recording::format::{NO_LOCK, NoMessage, SENT_UNKNOWN, ThreadEvent};

/// A thread event of a recording: where the thread met another.
///
/// Format version 5 added which lock an open opened and where a received
/// message was sent; in older recordings those fields are `None`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Meeting {
    /// Spawned the thread that records into stream `thread`.
    Spawn {
        /// The spawned thread's stream.
        thread: u32,
    },
    /// Opened a lock for writing: the lock's `version`-th write-open
    /// (from 0), after `reads` read-opens of that version.
    Lock {
        /// The lock's number in the session, from 1 in the order the
        /// session first opened its locks (`None` before version 5).
        lock: Option<u64>,
        /// Write-opens of the lock before this one.
        version: u64,
        /// Read-opens since the last write-open.
        reads: u64,
    },
    /// Opened a lock for reading, after `version` write-opens.
    ReadLock {
        /// The lock's number in the session (`None` before version 5).
        lock: Option<u64>,
        /// Write-opens of the lock before this one.
        version: u64,
    },
    /// A `try_lock`, `try_read` or `try_write` found the lock taken.
    TryLockFailed,
    /// `count` receives in a row of messages from one thread.
    Receive {
        /// The sending thread's stream; `None`: a thread without a session.
        sender: Option<u32>,
        /// How many messages in a row.
        count: u64,
        /// How many calls the sender had recorded when it sent the last
        /// of them (the most, if several): the message left after its call
        /// of that number (`None` before version 5).
        sent_after: Option<u64>,
    },
    /// A receive that got no message.
    NoMessage {
        /// Why: `"empty"` (`try_recv`), `"timeout"` (`recv_timeout`) or
        /// `"disconnected"` (every sender was gone).
        why: &'static str,
    },
    /// A select: the index of the branch that won (`None`: every channel
    /// was disconnected). The receive it made follows.
    Select {
        /// The winning branch.
        branch: Option<u64>,
    },
    /// A `try_send` on a bounded channel: 0 sent, 1 full, 2 disconnected.
    TrySend {
        /// What it did.
        outcome: u64,
    },
}

impl From<ThreadEvent> for Meeting {
    fn from(event: ThreadEvent) -> Meeting {
        let lock_of = |lock| (lock != NO_LOCK).then_some(lock);
        match event {
            ThreadEvent::Spawn { stream } => Meeting::Spawn { thread: stream },
            ThreadEvent::Lock {
                lock,
                version,
                reads,
            } => Meeting::Lock {
                lock: lock_of(lock),
                version,
                reads,
            },
            ThreadEvent::ReadLock { lock, version } => Meeting::ReadLock {
                lock: lock_of(lock),
                version,
            },
            ThreadEvent::TryLockFailed => Meeting::TryLockFailed,
            ThreadEvent::Recv {
                sender,
                count,
                sent,
            } => Meeting::Receive {
                sender: (sender != u32::MAX).then_some(sender),
                count,
                sent_after: (sent != SENT_UNKNOWN).then_some(sent),
            },
            ThreadEvent::RecvNone(why) => Meeting::NoMessage {
                why: match why {
                    NoMessage::Empty => "empty",
                    NoMessage::Timeout => "timeout",
                    NoMessage::Disconnected => "disconnected",
                },
            },
            ThreadEvent::Select { branch } => Meeting::Select {
                branch: (branch != u64::MAX).then_some(branch),
            },
            ThreadEvent::TrySend { outcome } => Meeting::TrySend { outcome },
        }
    }
}

impl From<Meeting> for ThreadEvent {
    fn from(meeting: Meeting) -> ThreadEvent {
        match meeting {
            Meeting::Spawn { thread } => ThreadEvent::Spawn { stream: thread },
            Meeting::Lock {
                lock,
                version,
                reads,
            } => ThreadEvent::Lock {
                lock: lock.unwrap_or(NO_LOCK),
                version,
                reads,
            },
            Meeting::ReadLock { lock, version } => ThreadEvent::ReadLock {
                lock: lock.unwrap_or(NO_LOCK),
                version,
            },
            Meeting::TryLockFailed => ThreadEvent::TryLockFailed,
            Meeting::Receive {
                sender,
                count,
                sent_after,
            } => ThreadEvent::Recv {
                sender: sender.unwrap_or(u32::MAX),
                count,
                sent: sent_after.unwrap_or(SENT_UNKNOWN),
            },
            Meeting::NoMessage { why } => ThreadEvent::RecvNone(match why {
                "empty" => NoMessage::Empty,
                "timeout" => NoMessage::Timeout,
                _ => NoMessage::Disconnected,
            }),
            Meeting::Select { branch } => ThreadEvent::Select {
                branch: branch.unwrap_or(u64::MAX),
            },
            Meeting::TrySend { outcome } => ThreadEvent::TrySend { outcome },
        }
    }
}

impl fmt::Display for Meeting {
    /// In words, as `replay dump` and divergence reports say it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        ThreadEvent::from(*self).fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meetings_read_as_thread_events_do() {
        let events = [
            ThreadEvent::Spawn { stream: 3 },
            ThreadEvent::Lock {
                lock: 2,
                version: 7,
                reads: 1,
            },
            ThreadEvent::ReadLock {
                lock: NO_LOCK,
                version: 4,
            },
            ThreadEvent::Recv {
                sender: u32::MAX,
                count: 2,
                sent: 9,
            },
            ThreadEvent::RecvNone(NoMessage::Timeout),
            ThreadEvent::Select { branch: u64::MAX },
            ThreadEvent::TrySend { outcome: 1 },
        ];
        for event in events {
            let meeting = Meeting::from(event);
            assert_eq!(ThreadEvent::from(meeting), event);
            assert_eq!(meeting.to_string(), event.to_string());
        }
    }
}
