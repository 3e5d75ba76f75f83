//! How `#[replay_runtime::test]` chooses to record or replay, driven with
//! explicit settings (`REPLAY_MODE` and `CI` are process-wide, and tests
//! run in parallel).

use replay_runtime::internals::{TestSettings, run_test, session_for};
use replay_runtime::{Mode, current_mode};
use replay_tests::{assert_contains, expect_panic, path_str, rt_now_nanos, scratch_dir};

fn settings(mode: &str, ci: bool) -> TestSettings {
    TestSettings {
        mode: mode.to_owned(),
        ci,
    }
}

/// Runs a "test" that reads the clock, in the mode the settings choose.
fn clock_test(dir: &str, settings: &TestSettings) -> (Mode, u64) {
    let test = session_for(settings, dir, "modes", "clock", None);
    run_test(test, || (current_mode(), rt_now_nanos()))
}

#[test]
fn auto_records_when_the_recording_is_missing_then_replays_it() {
    let dir = scratch_dir("modes-auto");
    let dir = path_str(&dir);
    let (mode, recorded) = clock_test(dir, &settings("", false));
    assert_eq!(mode, Mode::Record);
    assert!(
        std::path::Path::new(dir)
            .join("tests/recordings/modes/clock.replay")
            .exists()
    );
    let (mode, replayed) = clock_test(dir, &settings("auto", false));
    assert_eq!((mode, replayed), (Mode::Replay, recorded));
    // Forced re-recording gets a new reading.
    let (mode, again) = clock_test(dir, &settings("record", false));
    assert_eq!(mode, Mode::Record);
    assert_ne!(again, recorded);
}

#[test]
fn under_ci_a_missing_recording_fails_with_the_command_that_makes_it() {
    let dir = scratch_dir("modes-ci");
    let dir = path_str(&dir);
    let message = expect_panic("CI never records", || clock_test(dir, &settings("", true)));
    assert_contains!(message, "recorded test `clock` has no recording at");
    assert_contains!(message, "REPLAY_MODE=record cargo test clock");
    assert!(
        !std::path::Path::new(dir)
            .join("tests/recordings/modes/clock.replay")
            .exists()
    );
}

#[test]
fn replay_mode_without_a_recording_fails_with_a_hint() {
    let dir = scratch_dir("modes-replay");
    let dir = path_str(&dir);
    let message = expect_panic("nothing to replay", || {
        clock_test(dir, &settings("replay", false))
    });
    assert_contains!(message, "cannot replay: cannot open recording");
    assert_contains!(
        message,
        "to re-record it: REPLAY_MODE=record cargo test clock"
    );
}

#[test]
fn off_runs_for_real_and_an_unknown_mode_is_refused() {
    let dir = scratch_dir("modes-off");
    let dir = path_str(&dir);
    assert_eq!(clock_test(dir, &settings("off", true)).0, Mode::Off);
    let message = expect_panic("an unknown mode", || {
        clock_test(dir, &settings("sometimes", false))
    });
    assert_contains!(message, "REPLAY_MODE is \"sometimes\"");
    assert_contains!(
        message,
        "\"auto\" (the default), \"record\", \"replay\" and \"off\""
    );
}

#[test]
fn a_replay_left_unfinished_fails_the_test_with_a_hint() {
    let dir = scratch_dir("modes-unfinished");
    let dir = path_str(&dir);
    let test = session_for(&settings("record", false), dir, "modes", "twice", None);
    run_test(test, || (rt_now_nanos(), rt_now_nanos()));
    let test = session_for(&settings("auto", false), dir, "modes", "twice", None);
    let message = expect_panic("one call was not made", || run_test(test, rt_now_nanos));
    assert_contains!(message, "recorded test `twice`: replay of");
    assert_contains!(message, "finished early");
    assert_contains!(message, "REPLAY_MODE=record cargo test twice");
}

use replay_runtime::internals::run_panicking_test;

/// Records `clock_then_panic` once, then returns the settings to replay it.
fn recorded_panicking(dir: &str) -> TestSettings {
    let test = session_for(&settings("record", false), dir, "modes", "panics", None);
    run_panicking_test(test, Some("clock says"), || {
        panic!("clock says {}", rt_now_nanos())
    });
    settings("auto", false)
}

#[test]
fn an_expected_panic_replays_and_passes() {
    let dir = scratch_dir("modes-should-panic");
    let dir = path_str(&dir);
    let replay = recorded_panicking(dir);
    let test = session_for(&replay, dir, "modes", "panics", None);
    run_panicking_test(test, Some("clock says"), || {
        panic!("clock says {}", rt_now_nanos())
    });
}

#[test]
fn a_divergence_never_passes_for_the_expected_panic() {
    let dir = scratch_dir("modes-should-panic-diverge");
    let dir = path_str(&dir);
    let replay = recorded_panicking(dir);
    let test = session_for(&replay, dir, "modes", "panics", None);
    // The divergence report names the recording, whose path holds the
    // expected text: it must still fail the test.
    let message = expect_panic("a divergence fails the test", || {
        run_panicking_test(test, Some("panics"), || {
            replay_tests::greet("not the recorded call");
        })
    });
    assert_contains!(message, "expects a panic, but its replay diverged instead");
}

#[test]
fn a_test_that_does_not_panic_or_panics_otherwise_fails() {
    let dir = scratch_dir("modes-should-panic-wrong");
    let dir = path_str(&dir);
    let test = session_for(&settings("off", false), dir, "modes", "quiet", None);
    let message = expect_panic("no panic", || run_panicking_test(test, None, || {}));
    assert_contains!(message, "did not panic as expected");

    let test = session_for(&settings("off", false), dir, "modes", "other", None);
    let message = expect_panic("another panic", || {
        run_panicking_test(test, Some("overdrawn"), || panic!("underflow"))
    });
    assert_contains!(message, "does not contain the expected \"overdrawn\"");
}
