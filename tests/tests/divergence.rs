//! A replay that does not match its recording stops with a report that
//! says exactly what changed.

use std::panic::catch_unwind;

use replay_runtime::{Error, Session, deterministic};
use replay_tests::{
    Point, assert_contains, expect_panic, greet, rt_now_nanos, rt_point_jitter, scratch_dir,
};

#[deterministic]
fn scale(value: u64, factor: u64) -> u64 {
    value * factor + rt_now_nanos() % 2
}

#[deterministic]
fn checksum(data: &[u8]) -> u64 {
    data.iter().map(|&b| u64::from(b)).sum::<u64>() + rt_now_nanos() % 2
}

/// Records `record`, then replays `replay` and returns its panic message
/// and the replay session's outcome.
fn diverge(
    name: &str,
    record: impl FnOnce(),
    replay: impl FnOnce(),
) -> (String, Result<replay_runtime::Summary, Error>) {
    let dir = scratch_dir(name);
    let recording = dir.join("r.replay");
    let session = Session::record(&recording).expect("start recording");
    record();
    session.finish().expect("finish recording");
    let session = Session::replay(&recording).expect("start replaying");
    let message = expect_panic("the replay must diverge", replay);
    (message, session.finish())
}

#[test]
fn another_function_names_both_functions_the_call_number_and_the_caller() {
    let line = std::cell::Cell::new(0);
    let (message, finished) = diverge(
        "other-function",
        || {
            rt_now_nanos();
            greet("a");
        },
        || {
            rt_now_nanos();
            line.set(line!() + 1);
            scale(1, 2);
        },
    );
    assert!(
        message.starts_with("replay diverged at call #2 on thread 0"),
        "{message}"
    );
    assert_contains!(message, "expected: a call to `replay_tests::greet`");
    assert_contains!(message, "actual:   a call to `divergence::scale`");
    assert_contains!(message, format!("at {}:{}:", file!(), line.get()));
    assert_contains!(message, "r.replay");
    // Two different functions: no note comparing their signatures.
    assert!(!message.contains("signature changed"), "{message}");
    match finished {
        Err(Error::Diverged { message: again }) => assert_eq!(again, message),
        other => panic!("finish must report the divergence, got {other:?}"),
    }
}

#[test]
fn a_changed_argument_is_named_with_both_values() {
    let (message, _) = diverge(
        "argument",
        || {
            scale(7, 3);
        },
        || {
            scale(7, 4);
        },
    );
    assert_contains!(
        message,
        "argument 2 (`factor`) of `divergence::scale` differs"
    );
    assert_contains!(
        message,
        "expected: a call to `divergence::scale` with factor = 3"
    );
    assert_contains!(
        message,
        "actual:   a call to `divergence::scale` with factor = 4"
    );
}

#[test]
fn struct_and_string_arguments_are_shown_with_debug() {
    let (message, _) = diverge(
        "struct-argument",
        || {
            rt_point_jitter(Point { x: 1, y: 2 }, 10);
        },
        || {
            rt_point_jitter(Point { x: 1, y: 3 }, 10);
        },
    );
    assert_contains!(message, "with p = Point { x: 1, y: 2 }");
    assert_contains!(message, "with p = Point { x: 1, y: 3 }");

    let (message, _) = diverge(
        "string-argument",
        || {
            greet("alice");
        },
        || {
            greet("bob");
        },
    );
    assert_contains!(message, r#"with name = "alice""#);
    assert_contains!(message, r#"with name = "bob""#);
}

#[test]
fn large_arguments_are_digested_and_still_checked() {
    let big = vec![1u8; 4096];
    let mut other = big.clone();
    other[4000] = 2;
    let (message, _) = diverge(
        "digest",
        || {
            checksum(&big);
        },
        || {
            checksum(&other);
        },
    );
    assert_contains!(
        message,
        "argument 1 (`data`) of `divergence::checksum` differs"
    );
    assert_contains!(message, "recorded as a digest");
}

#[test]
fn running_past_the_end_of_the_recording_says_it_is_exhausted() {
    let (message, _) = diverge(
        "exhausted",
        || {
            rt_now_nanos();
        },
        || {
            rt_now_nanos();
            rt_now_nanos();
        },
    );
    assert!(
        message.starts_with("replay diverged at call #2 on thread 0: the recording is exhausted"),
        "{message}"
    );
    assert_contains!(message, "expected: no more calls (the recording holds 1)");
    assert_contains!(message, "actual:   a call to `replay_tests::rt_now_nanos`");
}

#[test]
fn calls_after_a_divergence_panic_again() {
    let dir = scratch_dir("after");
    let recording = dir.join("r.replay");
    let session = Session::record(&recording).expect("start recording");
    scale(1, 1);
    scale(2, 2);
    session.finish().expect("finish recording");

    let session = Session::replay(&recording).expect("start replaying");
    assert!(catch_unwind(|| scale(9, 9)).is_err());
    let again = expect_panic("still diverged", || scale(2, 2));
    assert_contains!(again, "replay diverged earlier on this thread");
    assert!(matches!(session.finish(), Err(Error::Diverged { .. })));
}

#[test]
fn finishing_with_calls_left_over_names_the_next_one() {
    let dir = scratch_dir("left-over");
    let recording = dir.join("r.replay");
    let session = Session::record(&recording).expect("start recording");
    rt_now_nanos();
    greet("left");
    scale(1, 2);
    session.finish().expect("finish recording");

    let session = Session::replay(&recording).expect("start replaying");
    rt_now_nanos();
    let err = session.finish().expect_err("two calls were not made");
    match &err {
        Error::Unconsumed {
            call,
            thread,
            function,
            remaining,
            ..
        } => {
            assert_eq!(
                (*call, *thread, function.as_str(), *remaining),
                (2, 0, "`replay_tests::greet`", 2)
            );
        }
        other => panic!("expected Unconsumed, got {other:?}"),
    }
    let message = err.to_string();
    assert_contains!(message, "call #2 on thread 0: `replay_tests::greet`");
}

#[test]
fn a_divergence_panics_at_the_call_not_inside_the_runtime() {
    let dir = scratch_dir("divergence-location");
    let recording = dir.join("r.replay");
    let session = Session::record(&recording).expect("start recording");
    scale(1, 2);
    session.finish().expect("finish recording");
    let session = Session::replay(&recording).expect("start replaying");
    let line = line!() + 1;
    let (message, at) = replay_tests::catch_panic(|| scale(1, 3));
    assert!(message.starts_with("replay diverged"), "{message}");
    assert!(at.starts_with(&format!("{}:{line}:", file!())), "{at}");
    // And a call after it, too.
    let line = line!() + 1;
    let (message, at) = replay_tests::catch_panic(|| scale(1, 2));
    assert_contains!(message, "diverged earlier");
    assert!(at.starts_with(&format!("{}:{line}:", file!())), "{at}");
    assert!(session.finish().is_err());
}

/// A program that catches every divergence panic and retries forever is
/// stopped after a thousand tries, with a last word, instead of looping
/// (and filling its log) forever. In a child process: it aborts.
#[test]
fn a_retry_loop_over_a_divergence_is_stopped() {
    const TEST: &str = "a_retry_loop_over_a_divergence_is_stopped";
    if let Some(dir) = replay_tests::child_dir() {
        let path = dir.join("retry.replay");
        let session = Session::record(&path).expect("record");
        replay_tests::greet("ann");
        session.finish().expect("finish");
        let _session = Session::replay(&path).expect("replay");
        std::panic::set_hook(Box::new(|_| {}));
        loop {
            let _ = catch_unwind(|| replay_tests::greet("bob"));
        }
    }
    let dir = replay_tests::scratch_dir("divergence-retry");
    let out = replay_tests::child(TEST, &dir, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert_contains!(stderr, "went on calling 1000 more times");
    assert!(stderr.len() < 10_000, "a short log: {} bytes", stderr.len());
}
