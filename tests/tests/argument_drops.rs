//! An argument's `Drop` that reads the stream in replay: the function's
//! body does not run, so the argument is dropped inside the wrapper, after
//! the call is checked and before its results are decoded. Whatever it
//! reads (a lock's event, another call), the call returns its own recorded
//! results, also across a chunk boundary (found by review, issue 11).

use std::cell::RefCell;

use replay_runtime::{Session, deterministic};
use replay_tests::{rt_now_nanos, scratch_dir};
use serde::Serialize;

static LOCK: replay_runtime::sync::Mutex<u32> = replay_runtime::sync::Mutex::new(0);

/// A value whose `Drop` opens a replay lock (a thread event).
struct Locks(u32);

impl Serialize for Locks {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl Drop for Locks {
    fn drop(&mut self) {
        *LOCK.lock().expect("lock") += 1;
    }
}

/// A value whose `Drop` makes a boundary call.
struct Calls(u32);

impl Serialize for Calls {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl Drop for Calls {
    fn drop(&mut self) {
        plain(self.0);
    }
}

#[deterministic]
fn plain(x: u32) -> u32 {
    x + 1
}

thread_local! {
    /// Where the real function keeps what it is given (as C keeps a handle
    /// it "takes over"); the program empties it after each call.
    static KEPT_LOCKS: RefCell<Vec<Locks>> = const { RefCell::new(Vec::new()) };
    static KEPT_CALLS: RefCell<Vec<Calls>> = const { RefCell::new(Vec::new()) };
}

/// Takes `l` over (keeps it) and returns a clock reading.
#[deterministic]
fn keep_locks(l: Locks) -> u64 {
    KEPT_LOCKS.with(|k| k.borrow_mut().push(l));
    rt_now_nanos()
}

#[deterministic]
fn keep_calls(c: Calls) -> u64 {
    KEPT_CALLS.with(|k| k.borrow_mut().push(c));
    rt_now_nanos()
}

/// Record: the argument is kept by the body and dropped by the program
/// right after the call (its lock recorded after the call). Replay: the body
/// does not run, so the argument is dropped inside the wrapper (still
/// replaying), and its lock reads the very event recorded after the call.
/// Both runs see the same events in the same order; every replayed call
/// returns what it returned when recorded. 20 000 calls span several
/// chunks: reading the lock's event may load the next one.
#[test]
fn an_arguments_drop_that_opens_a_lock_gets_the_recorded_results() {
    same_results_when_replayed("drop-opens-a-lock", 20_000, |i| {
        let t = keep_locks(Locks(i));
        KEPT_LOCKS.with(|k| k.borrow_mut().clear());
        t
    });
}

/// The same with a boundary call in the argument's `Drop`.
#[test]
fn an_arguments_drop_that_makes_a_call_gets_the_recorded_results() {
    same_results_when_replayed("drop-makes-a-call", 10, |i| {
        let t = keep_calls(Calls(i));
        KEPT_CALLS.with(|k| k.borrow_mut().clear());
        t
    });
}

/// Records `step(i)` for `i` in `0..n`, replays it, and checks that every
/// replayed call returned what it returned when recorded.
fn same_results_when_replayed(name: &str, n: u32, step: impl Fn(u32) -> u64) {
    let path = scratch_dir(name).join("drops.replay");
    let session = Session::record(&path).expect("record");
    let recorded: Vec<u64> = (0..n).map(&step).collect();
    session.finish().expect("finish");

    let session = Session::replay(&path).expect("replay");
    let replayed: Vec<u64> = (0..n).map(&step).collect();
    let finished = session.finish();
    let wrong: Vec<_> = (0..n as usize)
        .filter(|&i| recorded[i] != replayed[i])
        .map(|i| (i, recorded[i], replayed[i]))
        .collect();
    assert!(
        wrong.is_empty(),
        "{} of {n} replayed calls returned other than recorded, e.g. {:?}; finish: {finished:?}",
        wrong.len(),
        &wrong[..wrong.len().min(5)]
    );
    finished.expect("replayed everything");
}
