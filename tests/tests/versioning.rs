//! Code that changes on purpose: `patched` lets a program replay the
//! recordings made before its change and after it, in separate processes
//! as recordings are really used (the fixture's `patch` scenario).

use std::path::Path;
use std::process::{Command, Output};

use replay_tests::{assert_contains, assert_success, fixture_values, scratch_dir, stderr, stdout};

const FIXTURE: &str = env!("CARGO_BIN_EXE_replay-fixture");

/// Runs the fixture's `patch` scenario as `version` of the program.
fn run(mode: &str, path: &Path, version: &str) -> Output {
    Command::new(FIXTURE)
        .args(["patch", version])
        .env("REPLAY_MODE", mode)
        .env("REPLAY_PATH", path)
        .env_remove("REPLAY_BREAK")
        .output()
        .expect("run the fixture")
}

/// Replays `path` as `version` of the program, which must diverge: the
/// report.
fn diverging(path: &Path, version: &str) -> String {
    let replayed = run("replay", path, version);
    assert!(
        !replayed.status.success(),
        "`{version}` must diverge on {}",
        path.display()
    );
    stderr(&replayed)
}

/// Records `version` of the program at `path`.
fn record(path: &Path, version: &str) -> Output {
    let recorded = run("record", path, version);
    assert_success(&recorded);
    recorded
}

#[test]
fn the_patched_program_replays_the_recording_made_before_the_change() {
    let dir = scratch_dir("versioning-old");
    let old = dir.join("old.replay");
    let recorded = record(&old, "old");

    let replayed = run("replay", &old, "new");
    assert_success(&replayed);
    assert_contains!(stdout(&replayed), "patched=false");
    // The old path, with the recorded values.
    let mut expected = fixture_values(&recorded);
    expected.insert(1, "patched=false".to_owned());
    assert_eq!(fixture_values(&replayed), expected);
    // The session says the recording predates the patch.
    assert_contains!(
        stderr(&replayed),
        "it predates the patch `fetch-with-retry`"
    );
}

#[test]
fn the_patched_program_replays_its_own_recording_on_the_new_path() {
    let dir = scratch_dir("versioning-new");
    let new = dir.join("new.replay");
    let recorded = record(&new, "new");
    assert_contains!(stdout(&recorded), "patched=true");
    assert_contains!(stdout(&recorded), "greeting=hello, retry");
    assert_contains!(stdout(&recorded), "patched on a thread=true");

    let replayed = run("replay", &new, "new");
    assert_success(&replayed);
    assert_eq!(fixture_values(&replayed), fixture_values(&recorded));
    assert!(
        !stderr(&replayed).contains("predates"),
        "{}",
        stderr(&replayed)
    );
}

#[test]
fn a_change_without_patched_diverges_with_a_hint_naming_the_mechanism() {
    let dir = scratch_dir("versioning-unguarded");
    let old = dir.join("old.replay");
    record(&old, "old");

    let err = diverging(&old, "unguarded");
    assert_contains!(err, "replay diverged at call #3 on thread 0");
    assert_contains!(err, "the recording is exhausted");
    assert_contains!(err, "replay_runtime::patched(");
    // The recording holds no call 3: no stop can come before it.
    assert!(!err.contains("stop here:"), "{err}");
}

#[test]
fn a_program_without_the_patch_meets_its_marker_with_a_note() {
    let dir = scratch_dir("versioning-marker");
    let new = dir.join("new.replay");
    record(&new, "new");

    // The code before the change, on a recording made after it.
    let err = diverging(&new, "old");
    assert_contains!(err, "another function was called");
    assert_contains!(err, "a call to `replay_runtime::patched`");
    assert_contains!(err, "the recording has a patch marker here");
    assert_contains!(err, "replay_runtime::patched(\"fetch-with-retry\")");
}

#[test]
fn a_deprecated_patch_replays_recordings_with_and_without_its_marker() {
    let dir = scratch_dir("versioning-deprecated");
    let new = dir.join("new.replay");
    let with_marker = record(&new, "new");

    // The old path is gone: the markers of the recording made with the
    // patch are passed over, on both threads.
    let replayed = run("replay", &new, "deprecated");
    assert_success(&replayed);
    assert_eq!(fixture_values(&replayed), fixture_values(&with_marker));

    // Recorded after the deprecation: no marker, and it replays.
    let deprecated = dir.join("deprecated.replay");
    let recorded = record(&deprecated, "deprecated");
    let replayed = run("replay", &deprecated, "deprecated");
    assert_success(&replayed);
    assert_eq!(fixture_values(&replayed), fixture_values(&recorded));
    let dump = replay_tests::recording_files::unpack(&std::fs::read(&deprecated).expect("read"));
    assert!(
        !dump
            .windows(b"replay_runtime::patched".len())
            .any(|w| w == b"replay_runtime::patched"),
        "a deprecated patch records no marker"
    );
    let made_with = replay_tests::recording_files::unpack(&std::fs::read(&new).expect("read"));
    assert!(
        made_with
            .windows(b"replay_runtime::patched".len())
            .any(|w| w == b"replay_runtime::patched"),
        "the check above can see a marker"
    );
}

/// A recorded test whose committed recording was made before the patch
/// below was written (with the `else` branch as its whole body): it
/// replays on the old path, and says its recording predates the patch.
#[replay_runtime::test]
fn predates_the_retry_patch() {
    if replay_runtime::patched("fetch-with-retry") {
        replay_tests::greet("fetch");
        replay_tests::greet("retry");
    } else {
        let greeting = replay_tests::greet("fetch");
        assert!(greeting.starts_with("hello, fetch"), "{greeting}");
    }
}

#[test]
fn a_recorded_test_names_its_recording_when_it_predates_a_patch() {
    // The test harness captures what tests print; the note is not
    // captured, so it shows even when the test passes.
    let output = Command::new(std::env::current_exe().expect("this test binary"))
        .args(["--exact", "predates_the_retry_patch", "--test-threads", "1"])
        .env_remove("REPLAY_MODE")
        .env_remove("REPLAY_BREAK")
        .env("CI", "1")
        .output()
        .expect("run the recorded test");
    assert_success(&output);
    let err = stderr(&output);
    assert_contains!(
        err,
        "note: recorded test `predates_the_retry_patch` passed on a recording that predates \
         the patch `fetch-with-retry`; re-record it at leisure: REPLAY_MODE=record cargo test \
         predates_the_retry_patch"
    );
    assert_contains!(err, "predates_the_retry_patch.replay");
}

#[test]
fn without_a_session_patched_is_true_and_deprecate_patch_is_harmless() {
    assert_eq!(replay_runtime::current_mode(), replay_runtime::Mode::Off);
    assert!(replay_runtime::patched("fetch-with-retry"));
    replay_runtime::deprecate_patch("fetch-with-retry");
    assert!(replay_runtime::patched("fetch-with-retry"));
}
