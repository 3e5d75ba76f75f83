// The recorded tests both `recorded.rs` (its committed recordings are of
// format version 1, and one of version 3) and `recorded_v4.rs` (version 4,
// compressed) replay: the same tests, against recordings of each version.
// `include!`d, so that each test's recording is named by the including
// file's module.

#[replay_runtime::test]
fn c_library_calls_replay_from_a_committed_recording() {
    let before = c_calls();
    let now = rt_now_nanos();
    let point = rt_point_jitter(Point { x: 10, y: -4 }, 1000);
    let greeting = greet("recorded");
    let (mut sum, mut max) = (0, 0);
    stats(&[3, -7, 12, 5], &mut sum, &mut max);
    assert!(now > 1_600_000_000_000_000_000, "a clock reading: {now}");
    assert!(
        (10..1010).contains(&point.x) && (-4..996).contains(&point.y),
        "{point:?}"
    );
    assert!(greeting.starts_with("hello, recorded (call "), "{greeting}");
    assert_eq!((sum, max), (13, 12));
    if current_mode() == Mode::Replay {
        assert_eq!(c_calls(), before, "a replay never calls into C");
    }
}

#[replay_runtime::test]
fn a_test_returning_result_is_recorded_too() -> Result<(), String> {
    let pid = libc_calls::getpid();
    if pid <= 0 {
        return Err(format!("a pid is positive, got {pid}"));
    }
    let n: i32 = greet("result")
        .len()
        .try_into()
        .map_err(|e| format!("{e}"))?;
    assert!(n > 10);
    Ok(())
}

/// A crash captured while recording replays to the same panic.
#[replay_runtime::test]
#[should_panic(expected = "the C library greeted us")]
fn a_recorded_crash_replays_to_the_same_panic() {
    let greeting = greet("crash");
    if greeting.starts_with("hello") {
        panic!("the C library greeted us: {greeting}");
    }
}

#[replay_runtime::test]
fn a_test_may_return_impl_termination() -> impl std::process::Termination {
    let greeting = greet("termination");
    assert!(greeting.starts_with("hello, termination"), "{greeting}");
}

/// A nondeterministic check that panics inside a boundary call.
#[replay_runtime::deterministic]
fn must_be_short(s: &str) -> usize {
    if s.len() > 5 {
        panic!("checked inside a recorded call: {s:?} is too long");
    }
    s.len()
}

/// A crash inside a recorded call (its body panics) is recorded as such
/// and replays to the same panic: the body does not run in replay.
#[replay_runtime::test]
#[should_panic(expected = "checked inside a recorded call")]
fn a_panic_inside_a_recorded_call_replays_to_the_same_panic() {
    let greeting = greet("inside");
    must_be_short(&greeting);
}
