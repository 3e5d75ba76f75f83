//! A call that panics is recorded as such (its site, arguments and panic
//! message), and replay raises the same panic at the same call: a recorded
//! crash replays to the crash, on the session's thread and on spawned
//! threads, and a program that catches the panic and goes on replays too.

use std::panic::{AssertUnwindSafe, catch_unwind};

use replay_runtime::inspect::{Entry, Inspection};
use replay_runtime::{Mode, Session, deterministic, thread};
use replay_tests::{assert_contains, catch_panic, record_then_replay, rt_now_nanos, scratch_dir};

/// Panics on a zero divisor, inside the recorded call.
#[deterministic]
fn divide(a: u64, b: u64) -> u64 {
    if b == 0 {
        panic!("cannot divide {a} by zero");
    }
    a / b
}

/// Fails three times in four, by the clock: a flaky service.
#[deterministic]
fn flaky() -> u64 {
    let now = rt_now_nanos();
    if now % 4 != 0 {
        panic!("the service is unavailable ({})", now % 4);
    }
    now
}

#[test]
fn a_call_that_panics_replays_to_the_same_panic() {
    let dir = scratch_dir("crash-same-panic");
    let recording = dir.join("divide.replay");
    let seen = record_then_replay(&recording, |_| {
        let now = rt_now_nanos();
        let results: Vec<_> = (0..4u64)
            .map(|b| {
                catch_unwind(|| divide(now, b % 2))
                    .map_err(|payload| replay_tests::panic_message(&*payload))
            })
            .collect();
        (now, results)
    });
    assert_eq!(seen.1[1], Ok(seen.0));
    let first = seen.1[0].as_ref().expect_err("a panic");
    assert_contains!(first, "cannot divide");
    assert_contains!(first, "by zero");
    // The recording says so.
    let panics: Vec<_> = Inspection::open(&recording)
        .expect("reads")
        .events(0)
        .expect("events")
        .into_iter()
        .filter_map(|e| match e {
            Entry::Panicked {
                number,
                function,
                message,
                ..
            } => Some((number, function.to_string(), message)),
            _ => None,
        })
        .collect();
    assert_eq!(panics.len(), 2, "{panics:?}");
    assert_eq!(panics[0].0, 2, "call #2: after the clock");
    assert_eq!(panics[0].1, "crash_capture::divide");
    assert_eq!(panics[0].2, format!("cannot divide {} by zero", seen.0));
}

/// A catch-and-retry loop around a call that panicked when recorded
/// retries exactly as often in replay, and the replay ends cleanly.
#[test]
fn a_retry_loop_around_a_panicking_call_replays() {
    let dir = scratch_dir("crash-retry");
    let recording = dir.join("retry.replay");
    let (tries, value) = record_then_replay(&recording, |_| {
        let mut tries = 0;
        loop {
            tries += 1;
            match catch_unwind(flaky) {
                Ok(value) => break (tries, value),
                Err(_) if tries < 1000 => continue,
                Err(_) => panic!("no luck in 1000 tries"),
            }
        }
    });
    assert_eq!(value % 4, 0);
    assert!(tries >= 1);
}

/// A spawned thread whose call panics: joined as an error in both runs,
/// with the same message.
#[test]
fn a_panic_on_a_spawned_thread_replays() {
    let dir = scratch_dir("crash-thread");
    let recording = dir.join("thread.replay");
    let message = record_then_replay(&recording, |_| {
        let now = rt_now_nanos();
        let worker = thread::spawn(move || divide(now, 0));
        let payload = worker.join().expect_err("the worker panicked");
        replay_tests::panic_message(&*payload)
    });
    assert_contains!(message, "by zero");
}

/// The program goes on after a panic it caught, making more calls: they
/// replay in order after the replayed panic.
#[test]
fn calls_after_a_caught_panic_replay_in_order() {
    let dir = scratch_dir("crash-after");
    let recording = dir.join("after.replay");
    let session = Session::record(&recording).expect("record");
    let before = rt_now_nanos();
    let caught = catch_unwind(AssertUnwindSafe(|| divide(before, 0))).is_err();
    let after = rt_now_nanos();
    session.finish().expect("finish");
    assert!(caught);

    let session = Session::replay(&recording).expect("replay");
    assert_eq!(replay_runtime::current_mode(), Mode::Replay);
    assert_eq!(rt_now_nanos(), before);
    let (message, location) = catch_panic(|| divide(before, 0));
    assert_eq!(message, format!("cannot divide {before} by zero"));
    // Raised at the caller's line: the body does not run in replay.
    assert_contains!(location, "crash_capture.rs");
    assert_eq!(rt_now_nanos(), after);
    assert_eq!(session.finish().expect("replayed everything").calls, 3);
}
