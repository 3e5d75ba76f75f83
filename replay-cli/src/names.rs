//! The name of an event, as `replay dump`, `replay timeline` and
//! divergence reports give it: `thread:call`, e.g. `2:1418` for the call
//! numbered 1418 (from 1) on the thread recording into stream 2. An event
//! that is not a call (a lock's open, a receive, a callback) is named
//! after the last call begun before it: `2:1418+1` is the first such
//! event after call 1418, `2:0+1` the first on the thread, before any
//! call. Calls are numbered as they begin (a call that called back before
//! the calls its callbacks made), as replay counts them.

use replay_runtime::inspect::Entry;

/// Names one thread's events, read in order.
pub struct Namer {
    thread: u32,
    /// The number of the last call read.
    calls: u64,
    /// Events since that call.
    since: u64,
}

impl Namer {
    /// A namer for the events of `thread`, from its first.
    pub fn new(thread: u32) -> Namer {
        Namer {
            thread,
            calls: 0,
            since: 0,
        }
    }

    /// The next event's name.
    pub fn name(&mut self, entry: &Entry) -> String {
        match call_number(entry) {
            Some(number) => {
                // A call that called back is numbered as it began, before
                // the calls its callbacks made, and shown when it returned:
                // later events count on from the last call begun.
                if number > self.calls {
                    self.calls = number;
                    self.since = 0;
                }
                format!("{}:{number}", self.thread)
            }
            None => {
                self.since += 1;
                format!("{}:{}+{}", self.thread, self.calls, self.since)
            }
        }
    }
}

/// A recorded call's number on its thread (one that returned or
/// panicked); `None` for every other event.
pub fn call_number(entry: &Entry) -> Option<u64> {
    match entry {
        Entry::Call { number, .. } | Entry::Panicked { number, .. } => Some(*number),
        _ => None,
    }
}
