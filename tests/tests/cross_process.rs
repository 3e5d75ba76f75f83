//! Recording in one process and replaying in another: the way recordings
//! are really used.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use replay_tests::{
    assert_contains, assert_success, expect_panic, fixture_values, path_str, scratch_dir, stderr,
    stdout, write_file,
};

/// The fixture program; its path is known to integration tests only.
const FIXTURE: &str = env!("CARGO_BIN_EXE_replay-fixture");

/// Runs the fixture with `args` in `REPLAY_MODE=mode` on `REPLAY_PATH=path`.
fn run(mode: &str, path: &Path, args: &[&str]) -> Output {
    run_with_env(mode, path, args, &[])
}

/// [`run`], with more variables in the fixture's environment.
fn run_with_env(mode: &str, path: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(FIXTURE)
        .args(args)
        .env("REPLAY_MODE", mode)
        .env("REPLAY_PATH", path)
        .envs(env.iter().copied())
        .output()
        .expect("run the fixture")
}

/// Runs the fixture with `args` recording to `recording`, then replaying
/// it: both runs must succeed. Returns their outputs.
fn record_then_replay_fixture(recording: &Path, args: &[&str]) -> (Output, Output) {
    let recorded = run("record", recording, args);
    assert_success(&recorded);
    let replayed = run("replay", recording, args);
    assert_success(&replayed);
    (recorded, replayed)
}

#[test]
fn a_recording_made_by_one_process_replays_in_another() {
    let dir = scratch_dir("cross-process");
    let recording = dir.join("fixture.replay");

    let recorded = run("record", &recording, &[]);
    assert_success(&recorded);
    assert_contains!(stdout(&recorded), "mode=record");
    assert!(
        !stdout(&recorded).contains("c_calls=0"),
        "recording calls C"
    );

    let replayed = run("replay", &recording, &[]);
    assert_success(&replayed);
    assert_contains!(stdout(&replayed), "mode=replay");
    assert_contains!(stdout(&replayed), "c_calls=0", "replay never calls C");
    assert_eq!(fixture_values(&replayed), fixture_values(&recorded));

    let normal = run("off", &recording, &[]);
    assert_success(&normal);
    assert_ne!(
        fixture_values(&normal),
        fixture_values(&recorded),
        "a normal run is nondeterministic"
    );
}

#[test]
fn a_diverging_process_fails_with_the_report() {
    let dir = scratch_dir("cross-diverge");
    let recording = dir.join("fixture.replay");
    assert_success(&run("record", &recording, &[]));

    let diverged = run("replay", &recording, &["diverge"]);
    assert_eq!(diverged.status.code(), Some(101), "a divergence panics");
    let err = stderr(&diverged);
    assert_contains!(err, "replay diverged at call #3 on thread 0");
    assert_contains!(
        err,
        "argument 2 (`spread`) of `replay_tests::rt_point_jitter` differs"
    );
    assert_contains!(err, "with spread = 1000");
    assert_contains!(err, "with spread = 7");
    assert_contains!(err, "replay-fixture.rs:", "names the caller");
}

/// The fixture built with `panic = "abort"`, in a target directory of its
/// own (the whole dependency tree is built again with that strategy).
fn abort_fixture() -> std::path::PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target = manifest.join("..").join("target").join("panic-abort");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let built = Command::new(cargo)
        .args([
            "build",
            "--quiet",
            "-p",
            "replay-tests",
            "--bin",
            "replay-fixture",
        ])
        .arg("--manifest-path")
        .arg(manifest.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target)
        .env("CARGO_PROFILE_DEV_PANIC", "abort")
        .output()
        .expect("run cargo");
    assert_success(&built);
    target.join("debug").join("replay-fixture")
}

/// Under `panic = "abort"` nothing unwinds: the panic hook records the
/// call that panicked as such, writes the thread's stream and publishes
/// the recording before the process aborts; replay aborts at the same call
/// with the same panic.
#[test]
fn a_panic_inside_a_call_under_panic_abort_is_recorded_and_replayed() {
    let fixture = abort_fixture();
    let dir = scratch_dir("cross-panic-abort");
    let recording = dir.join("abort.replay");
    let run = |mode: &str| {
        Command::new(&fixture)
            .arg("panic-in-call")
            .env("REPLAY_MODE", mode)
            .env("REPLAY_PATH", &recording)
            .output()
            .expect("run the fixture")
    };
    let crashed = run("record");
    assert_eq!(crashed.status.code(), None, "killed by SIGABRT");
    let message = stderr(&crashed)
        .lines()
        .find(|l| l.contains("exploded inside a recorded call"))
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("the panic: {}", stderr(&crashed)));

    let events = replay_runtime::inspect::Inspection::open(&recording)
        .expect("the recording was published before the abort")
        .events(0)
        .expect("events");
    assert!(
        events.iter().any(|e| matches!(e,
            replay_runtime::inspect::Entry::Panicked { function, .. }
                if function.ends_with("explode"))),
        "the panicking call is recorded: {events:?}"
    );

    let replayed = run("replay");
    assert_eq!(replayed.status.code(), None, "aborts again");
    assert_contains!(stderr(&replayed), message.trim());
    assert_eq!(fixture_values(&replayed), fixture_values(&crashed));
}

/// A panic whose hook aborts the process (the fixture's own hook, after
/// replay's): nothing unwinds and nothing is published, but what was
/// recorded is in the session's `.partial` file, which salvage makes a
/// recording that replays.
#[test]
fn a_process_that_aborts_on_panic_keeps_its_recording() {
    let dir = scratch_dir("cross-crash");
    let recording = dir.join("fixture.replay");
    let crashed = run("record", &recording, &["crash"]);
    assert_eq!(crashed.status.code(), None, "killed by SIGABRT");
    assert_contains!(stderr(&crashed), "crashed on purpose");
    assert!(
        !recording.exists(),
        "an unfinished recording is not published"
    );

    let partial = replay_tests::partial_files(&dir, "fixture.replay.");
    assert_eq!(partial.len(), 1, "{partial:?}");
    replay_runtime::inspect::salvage(dir.join(&partial[0]), &recording).expect("salvage");
    let replayed = run("replay", &recording, &[]);
    assert_success(&replayed);
    assert_eq!(fixture_values(&replayed), fixture_values(&crashed));
}

#[test]
fn bad_mode_and_bad_files_are_clear_errors_in_a_real_process() {
    let dir = scratch_dir("cross-bad");
    let recording = dir.join("fixture.replay");

    let bogus = run("sideways", &recording, &[]);
    assert_eq!(bogus.status.code(), Some(2));
    let err = stderr(&bogus);
    assert_contains!(err, "REPLAY_MODE");
    assert_contains!(err, "\"sideways\"");
    assert_contains!(err, "\"off\", \"record\" and \"replay\"");

    let missing = run("replay", &recording, &[]);
    assert_eq!(missing.status.code(), Some(2));
    assert_contains!(stderr(&missing), "cannot open recording");

    std::fs::write(&recording, b"{\"not\": \"a recording\"}").expect("write");
    let foreign = run("replay", &recording, &[]);
    assert_eq!(foreign.status.code(), Some(2));
    let err = stderr(&foreign);
    assert_contains!(err, "is not a replay recording");
    assert_contains!(err, "JSON");
}

/// A directory with the files the `files` scenario reads.
fn files_dir(name: &str) -> PathBuf {
    let dir = scratch_dir(name);
    for (file, text) in [("a", "alpha"), ("b", "beta"), ("c", "gamma")] {
        write_file(&dir, file, text);
    }
    dir
}

#[test]
fn descriptor_numbers_shift_and_get_reused_and_replay_does_not_care() {
    let dir = files_dir("cross-files");
    let recording = dir.join("files.replay");
    let dir_arg = path_str(&dir);

    let recorded = run("record", &recording, &["files", dir_arg, "0"]);
    assert_success(&recorded);
    let out = stdout(&recorded);
    assert_contains!(out, "a=Fd #0.0 alpha");
    assert_contains!(out, "b=Fd #1.0 beta");
    assert_contains!(out, "c=Fd #0.1 gamma", "the freed slot is reused");
    // The OS handed c the descriptor number a had.
    let err = stderr(&recorded);
    let number = |key: &str| {
        err.split_whitespace()
            .find_map(|w| w.strip_prefix(key))
            .and_then(|n| n.parse::<i32>().ok())
            .unwrap_or_else(|| panic!("no {key} in {err}"))
    };
    assert_eq!(number("c="), number("a="), "{err}");

    // Replay in a process with five more descriptors open, after the files
    // have changed: nothing depends on the numbers or the files.
    for file in ["a", "b", "c"] {
        write_file(&dir, file, "changed");
    }
    let replayed = run("replay", &recording, &["files", dir_arg, "5"]);
    assert_success(&replayed);
    assert_eq!(fixture_values(&replayed), fixture_values(&recorded));
}

#[test]
fn live_files_from_the_environment_are_read_for_real_in_another_process() {
    let dir = files_dir("cross-live");
    let recording = dir.join("files.replay");
    let dir_arg = path_str(&dir);
    assert_success(&run("record", &recording, &["files", dir_arg, "0"]));

    write_file(&dir, "a", "alpha v2");
    write_file(&dir, "b", "beta v2");
    let live = format!("{dir_arg}/a");
    let replayed = run_with_env(
        "replay",
        &recording,
        &["files", dir_arg, "3"],
        &[("REPLAY_LIVE_FILES", &live)],
    );
    assert_success(&replayed);
    let out = stdout(&replayed);
    assert_contains!(out, "a=Fd #0.0 alpha v2", "a is live");
    assert_contains!(out, "b=Fd #1.0 beta\n", "b is replayed");
    assert_contains!(out, "c=Fd #0.1 gamma", "c is replayed");
}

#[test]
fn a_context_pointer_resolves_to_the_live_object_in_another_process() {
    let dir = scratch_dir("cross-context");
    let recording = dir.join("context.replay");
    let (recorded, replayed) = record_then_replay_fixture(&recording, &["context"]);
    for output in [&recorded, &replayed] {
        let out = stdout(output);
        assert_contains!(out, "same_object=true");
        assert_contains!(out, "name=clicks");
        assert_contains!(out, "ptr=ContextPtr(#0.0)");
    }
    assert_contains!(stdout(&replayed), "c_calls=0");
}

#[test]
fn identity_keyed_maps_iterate_alike_when_recording_and_replaying() {
    let dir = scratch_dir("cross-identity");
    let recording = dir.join("identity.replay");
    let (recorded, replayed) = record_then_replay_fixture(&recording, &["identity"]);
    assert_eq!(fixture_values(&replayed), fixture_values(&recorded));
    let order: Vec<_> = fixture_values(&recorded)
        .iter()
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect();
    // Inserted in reverse creation order, iterated in insertion order.
    assert_eq!(
        order,
        ["node=bravo", "node=charlie", "node=alpha", "node=delta"]
    );
}

#[test]
fn a_stale_handle_in_the_replaying_process_diverges_naming_it() {
    let dir = files_dir("cross-stale");
    let recording = dir.join("stale.replay");
    let dir_arg = path_str(&dir);
    let recorded = run("record", &recording, &["stale", dir_arg]);
    assert_success(&recorded);
    assert_contains!(stdout(&recorded), "read=beta");

    let replayed = run("replay", &recording, &["stale", dir_arg, "bug"]);
    assert_eq!(replayed.status.code(), Some(101), "a divergence panics");
    let err = stderr(&replayed);
    assert_contains!(err, "replay diverged at call #4 on thread 0");
    assert_contains!(err, "stale Fd #0.0 (the slot now holds generation 1)");
}

#[test]
fn replay_with_serves_a_stand_in_in_another_process() {
    let dir = scratch_dir("cross-replay-with");
    write_file(&dir, "log", "yesterday's log");
    let recording = dir.join("log.replay");
    let dir_arg = path_str(&dir);
    let recorded = run("record", &recording, &["log", dir_arg]);
    assert_success(&recorded);
    assert_contains!(stdout(&recorded), "log=Fd #0.0 \"yesterday's log\"");

    std::fs::remove_file(dir.join("log")).expect("remove");
    let replayed = run("replay", &recording, &["log", dir_arg]);
    assert_success(&replayed);
    // The stand-in's /dev/null, read for real, through the recorded slot.
    assert_contains!(stdout(&replayed), "log=Fd #0.0 \"\"");
}

#[test]
fn a_call_made_while_unwinding_from_a_divergence_aborts_with_the_report() {
    let dir = scratch_dir("cross-unwind");
    let recording = dir.join("unwind.replay");
    let (recorded, replayed) = record_then_replay_fixture(&recording, &["unwind"]);
    assert_eq!(fixture_values(&replayed), fixture_values(&recorded));

    // The first call diverges; the `Drop` that runs during the unwind can
    // be neither replayed nor made for real: the process aborts, saying so.
    let aborted = run("replay", &recording, &["unwind", "diverge"]);
    assert_eq!(aborted.status.code(), None, "killed by SIGABRT");
    let err = stderr(&aborted);
    assert_contains!(
        err,
        "argument 2 (`spread`) of `replay_tests::rt_point_jitter` differs"
    );
    assert_contains!(err, "can neither panic nor be replayed; aborting");
}

#[test]
fn a_thread_taking_another_lock_stalls_replay_with_a_report_of_every_wait() {
    let dir = scratch_dir("cross-stall");
    let recording = dir.join("locks.replay");
    record_then_replay_fixture(&recording, &["locks"]);

    let started = std::time::Instant::now();
    let stalled = run_with_env(
        "replay",
        &recording,
        &["locks", "swap"],
        &[("REPLAY_STALL_TIMEOUT", "0.5")],
    );
    assert!(!stalled.status.success());
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "no hang"
    );
    let err = stderr(&stalled);
    assert_contains!(err, "on thread 2: the replay stalled");
    assert_contains!(err, "for a lock to reach version 1 after 0 read(s)");
    assert_contains!(err, "note: the lock is at version 0");
    // Every waiting thread is listed: the swapped one and the one it blocks.
    assert_contains!(err, "    thread 1: a message from thread 2");
    assert_contains!(err, "    thread 2: a lock to reach version 1");
    assert_contains!(err, "REPLAY_STALL_TIMEOUT");
}

/// Peak resident memory a fixture run reported, in kB.
fn peak_kb(output: &Output) -> u64 {
    stderr(output)
        .lines()
        .find_map(|l| l.strip_prefix("peak "))
        .and_then(|kb| kb.trim_end_matches(" kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no peak in {}", stderr(output)))
}

#[test]
fn sixteen_threads_by_a_hundred_thousand_events_replay_in_bounded_memory() {
    let dir = scratch_dir("cross-stress");
    let recording = dir.join("stress.replay");
    let args = ["stress", "16", "100000"];
    let recorded = run("record", &recording, &args);
    assert_success(&recorded);
    // Its events' size, uncompressed: what replay would hold if it read
    // the whole recording at once.
    let file = std::fs::read(&recording).expect("the recording");
    let size = replay_tests::recording_files::unpack(&file).len() as u64;
    assert!(
        size > 10_000_000,
        "1.6M calls and their messages: {size} bytes"
    );

    let replayed = run("replay", &recording, &args);
    assert_success(&replayed);
    assert_eq!(fixture_values(&replayed), fixture_values(&recorded));
    // One chunk per stream in memory at a time, not the recording.
    let peak = peak_kb(&replayed) * 1024;
    assert!(
        peak < size / 2,
        "replay peaked at {peak} bytes for a {size}-byte recording"
    );
}

#[test]
fn replaying_another_programs_recording_says_which_program_made_it() {
    let dir = scratch_dir("cross-other-program");
    let recording = dir.join("fixture.replay");
    let recorded = run("record", &recording, &[]);
    assert_success(&recorded);

    // This test binary is not the fixture: its first call is another one.
    let session = replay_runtime::Session::replay(&recording).expect("start replaying");
    let message = expect_panic("another program's calls", || replay_tests::greet("x"));
    assert_contains!(message, "another function was called");
    assert_contains!(
        message,
        "note: the recording was made by another program, `replay-fixture`"
    );
    assert!(session.finish().is_err());
}

#[test]
fn the_same_program_gets_no_note_about_another_program() {
    let dir = scratch_dir("cross-same-program");
    let recording = dir.join("fixture.replay");
    let recorded = run("record", &recording, &[]);
    assert_success(&recorded);
    let diverged = run("replay", &recording, &["diverge"]);
    assert!(!diverged.status.success());
    let err = stderr(&diverged);
    assert_contains!(err, "replay diverged");
    assert!(!err.contains("another program"), "{err}");
}
