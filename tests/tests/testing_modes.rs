//! How `#[replay_runtime::test]` chooses to record or replay, driven with
//! explicit settings (`REPLAY_MODE` and `CI` are process-wide, and tests
//! run in parallel).

use std::panic::{AssertUnwindSafe, catch_unwind};

use replay_runtime::internals::{TestSettings, run_test, session_for};
use replay_runtime::{Mode, current_mode};
use replay_tests::{panic_message, rt_now_nanos, scratch_dir};

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
    let dir = dir.to_str().expect("utf-8");
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
    let dir = dir.to_str().expect("utf-8");
    let caught = catch_unwind(|| clock_test(dir, &settings("", true)));
    let message = panic_message(&*caught.expect_err("CI never records"));
    assert!(
        message.contains("recorded test `clock` has no recording at"),
        "{message}"
    );
    assert!(
        message.contains("REPLAY_MODE=record cargo test clock"),
        "{message}"
    );
    assert!(
        !std::path::Path::new(dir)
            .join("tests/recordings/modes/clock.replay")
            .exists()
    );
}

#[test]
fn replay_mode_without_a_recording_fails_with_a_hint() {
    let dir = scratch_dir("modes-replay");
    let dir = dir.to_str().expect("utf-8");
    let caught = catch_unwind(|| clock_test(dir, &settings("replay", false)));
    let message = panic_message(&*caught.expect_err("nothing to replay"));
    assert!(
        message.contains("cannot replay: cannot open recording"),
        "{message}"
    );
    assert!(
        message.contains("to re-record it: REPLAY_MODE=record cargo test clock"),
        "{message}"
    );
}

#[test]
fn off_runs_for_real_and_an_unknown_mode_is_refused() {
    let dir = scratch_dir("modes-off");
    let dir = dir.to_str().expect("utf-8");
    assert_eq!(clock_test(dir, &settings("off", true)).0, Mode::Off);
    let caught = catch_unwind(|| clock_test(dir, &settings("sometimes", false)));
    let message = panic_message(&*caught.expect_err("an unknown mode"));
    assert!(
        message.contains("REPLAY_MODE is \"sometimes\""),
        "{message}"
    );
    assert!(
        message.contains("\"auto\" (the default), \"record\", \"replay\" and \"off\""),
        "{message}"
    );
}

#[test]
fn a_replay_left_unfinished_fails_the_test_with_a_hint() {
    let dir = scratch_dir("modes-unfinished");
    let dir = dir.to_str().expect("utf-8");
    let test = session_for(&settings("record", false), dir, "modes", "twice", None);
    run_test(test, || (rt_now_nanos(), rt_now_nanos()));
    let test = session_for(&settings("auto", false), dir, "modes", "twice", None);
    let caught = catch_unwind(AssertUnwindSafe(|| run_test(test, rt_now_nanos)));
    let message = panic_message(&*caught.expect_err("one call was not made"));
    assert!(
        message.contains("recorded test `twice`: replay of"),
        "{message}"
    );
    assert!(message.contains("finished early"), "{message}");
    assert!(
        message.contains("REPLAY_MODE=record cargo test twice"),
        "{message}"
    );
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
    let dir = dir.to_str().expect("utf-8");
    let replay = recorded_panicking(dir);
    let test = session_for(&replay, dir, "modes", "panics", None);
    run_panicking_test(test, Some("clock says"), || {
        panic!("clock says {}", rt_now_nanos())
    });
}

#[test]
fn a_divergence_never_passes_for_the_expected_panic() {
    let dir = scratch_dir("modes-should-panic-diverge");
    let dir = dir.to_str().expect("utf-8");
    let replay = recorded_panicking(dir);
    let test = session_for(&replay, dir, "modes", "panics", None);
    // The divergence report names the recording, whose path holds the
    // expected text: it must still fail the test.
    let caught = catch_unwind(AssertUnwindSafe(|| {
        run_panicking_test(test, Some("panics"), || {
            replay_tests::greet("not the recorded call");
        })
    }));
    let message = panic_message(&*caught.expect_err("a divergence fails the test"));
    assert!(
        message.contains("expects a panic, but its replay diverged instead"),
        "{message}"
    );
}

#[test]
fn a_test_that_does_not_panic_or_panics_otherwise_fails() {
    let dir = scratch_dir("modes-should-panic-wrong");
    let dir = dir.to_str().expect("utf-8");
    let test = session_for(&settings("off", false), dir, "modes", "quiet", None);
    let caught = catch_unwind(AssertUnwindSafe(|| run_panicking_test(test, None, || {})));
    let message = panic_message(&*caught.expect_err("no panic"));
    assert!(message.contains("did not panic as expected"), "{message}");

    let test = session_for(&settings("off", false), dir, "modes", "other", None);
    let caught = catch_unwind(AssertUnwindSafe(|| {
        run_panicking_test(test, Some("overdrawn"), || panic!("underflow"))
    }));
    let message = panic_message(&*caught.expect_err("another panic"));
    assert!(
        message.contains("does not contain the expected \"overdrawn\""),
        "{message}"
    );
}
