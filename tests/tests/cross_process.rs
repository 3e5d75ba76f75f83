//! Recording in one process and replaying in another: the way recordings
//! are really used.

use std::path::Path;
use std::process::{Command, Output};

use replay_tests::scratch_dir;

const FIXTURE: &str = env!("CARGO_BIN_EXE_replay-fixture");

fn run(mode: &str, path: &Path, args: &[&str]) -> Output {
    Command::new(FIXTURE)
        .args(args)
        .env("REPLAY_MODE", mode)
        .env("REPLAY_PATH", path)
        .output()
        .expect("run the fixture")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The values the program got, without the lines that legitimately differ.
fn values(output: &Output) -> Vec<String> {
    stdout(output)
        .lines()
        .filter(|l| !l.starts_with("mode=") && !l.starts_with("c_calls="))
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_recording_made_by_one_process_replays_in_another() {
    let dir = scratch_dir("cross-process");
    let recording = dir.join("fixture.replay");

    let recorded = run("record", &recording, &[]);
    assert!(recorded.status.success(), "{}", stderr(&recorded));
    assert!(stdout(&recorded).contains("mode=record"));
    assert!(
        !stdout(&recorded).contains("c_calls=0"),
        "recording calls C"
    );

    let replayed = run("replay", &recording, &[]);
    assert!(replayed.status.success(), "{}", stderr(&replayed));
    assert!(stdout(&replayed).contains("mode=replay"));
    assert!(
        stdout(&replayed).contains("c_calls=0"),
        "replay never calls C"
    );
    assert_eq!(values(&replayed), values(&recorded));

    let normal = run("off", &recording, &[]);
    assert!(normal.status.success(), "{}", stderr(&normal));
    assert_ne!(
        values(&normal),
        values(&recorded),
        "a normal run is nondeterministic"
    );
}

#[test]
fn a_diverging_process_fails_with_the_report() {
    let dir = scratch_dir("cross-diverge");
    let recording = dir.join("fixture.replay");
    assert!(run("record", &recording, &[]).status.success());

    let diverged = run("replay", &recording, &["diverge"]);
    assert_eq!(diverged.status.code(), Some(101), "a divergence panics");
    let err = stderr(&diverged);
    assert!(
        err.contains("replay diverged at call #3 on thread 0"),
        "{err}"
    );
    assert!(
        err.contains("argument 2 (`spread`) of `replay_tests::rt_point_jitter` differs"),
        "{err}"
    );
    assert!(err.contains("with spread = 1000"), "{err}");
    assert!(err.contains("with spread = 7"), "{err}");
    assert!(
        err.contains("replay-fixture.rs:"),
        "names the caller: {err}"
    );
}

#[test]
fn a_process_that_aborts_on_panic_keeps_its_recording() {
    let dir = scratch_dir("cross-crash");
    let recording = dir.join("fixture.replay");
    let crashed = run("record", &recording, &["crash"]);
    assert_eq!(crashed.status.code(), None, "killed by SIGABRT");
    assert!(stderr(&crashed).contains("crashed on purpose"));

    let replayed = run("replay", &recording, &[]);
    assert!(replayed.status.success(), "{}", stderr(&replayed));
    assert_eq!(values(&replayed), values(&crashed));
}

#[test]
fn bad_mode_and_bad_files_are_clear_errors_in_a_real_process() {
    let dir = scratch_dir("cross-bad");
    let recording = dir.join("fixture.replay");

    let bogus = run("sideways", &recording, &[]);
    assert_eq!(bogus.status.code(), Some(2));
    let err = stderr(&bogus);
    assert!(
        err.contains("REPLAY_MODE") && err.contains("\"sideways\""),
        "{err}"
    );
    assert!(err.contains("\"off\", \"record\" and \"replay\""), "{err}");

    let missing = run("replay", &recording, &[]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("cannot open recording"),
        "{}",
        stderr(&missing)
    );

    std::fs::write(&recording, b"{\"not\": \"a recording\"}").expect("write");
    let foreign = run("replay", &recording, &[]);
    assert_eq!(foreign.status.code(), Some(2));
    let err = stderr(&foreign);
    assert!(
        err.contains("is not a replay recording") && err.contains("JSON"),
        "{err}"
    );
}

/// A directory with the files the `files` scenario reads.
fn files_dir(name: &str) -> std::path::PathBuf {
    let dir = scratch_dir(name);
    for (file, text) in [("a", "alpha"), ("b", "beta"), ("c", "gamma")] {
        std::fs::write(dir.join(file), text).expect("write");
    }
    dir
}

#[test]
fn descriptor_numbers_shift_and_get_reused_and_replay_does_not_care() {
    let dir = files_dir("cross-files");
    let recording = dir.join("files.replay");
    let dir_arg = dir.to_str().expect("utf-8");

    let recorded = run("record", &recording, &["files", dir_arg, "0"]);
    assert!(recorded.status.success(), "{}", stderr(&recorded));
    let out = stdout(&recorded);
    assert!(out.contains("a=Fd #0.0 alpha"), "{out}");
    assert!(out.contains("b=Fd #1.0 beta"), "{out}");
    assert!(
        out.contains("c=Fd #0.1 gamma"),
        "the freed slot is reused: {out}"
    );
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
        std::fs::write(dir.join(file), "changed").expect("write");
    }
    let replayed = run("replay", &recording, &["files", dir_arg, "5"]);
    assert!(replayed.status.success(), "{}", stderr(&replayed));
    assert_eq!(values(&replayed), values(&recorded));
}

#[test]
fn live_files_from_the_environment_are_read_for_real_in_another_process() {
    let dir = files_dir("cross-live");
    let recording = dir.join("files.replay");
    let dir_arg = dir.to_str().expect("utf-8");
    assert!(
        run("record", &recording, &["files", dir_arg, "0"])
            .status
            .success()
    );

    std::fs::write(dir.join("a"), "alpha v2").expect("write");
    std::fs::write(dir.join("b"), "beta v2").expect("write");
    let replayed = Command::new(FIXTURE)
        .args(["files", dir_arg, "3"])
        .env("REPLAY_MODE", "replay")
        .env("REPLAY_PATH", &recording)
        .env("REPLAY_LIVE_FILES", format!("{dir_arg}/a"))
        .output()
        .expect("run the fixture");
    assert!(replayed.status.success(), "{}", stderr(&replayed));
    let out = stdout(&replayed);
    assert!(out.contains("a=Fd #0.0 alpha v2"), "a is live: {out}");
    assert!(out.contains("b=Fd #1.0 beta\n"), "b is replayed: {out}");
    assert!(out.contains("c=Fd #0.1 gamma"), "c is replayed: {out}");
}

#[test]
fn a_context_pointer_resolves_to_the_live_object_in_another_process() {
    let dir = scratch_dir("cross-context");
    let recording = dir.join("context.replay");
    let recorded = run("record", &recording, &["context"]);
    assert!(recorded.status.success(), "{}", stderr(&recorded));
    let replayed = run("replay", &recording, &["context"]);
    assert!(replayed.status.success(), "{}", stderr(&replayed));
    for output in [&recorded, &replayed] {
        let out = stdout(output);
        assert!(out.contains("same_object=true"), "{out}");
        assert!(out.contains("name=clicks"), "{out}");
        assert!(out.contains("ptr=ContextPtr(#0.0)"), "{out}");
    }
    assert!(stdout(&replayed).contains("c_calls=0"));
}

#[test]
fn identity_keyed_maps_iterate_alike_when_recording_and_replaying() {
    let dir = scratch_dir("cross-identity");
    let recording = dir.join("identity.replay");
    let recorded = run("record", &recording, &["identity"]);
    assert!(recorded.status.success(), "{}", stderr(&recorded));
    let replayed = run("replay", &recording, &["identity"]);
    assert!(replayed.status.success(), "{}", stderr(&replayed));
    assert_eq!(values(&replayed), values(&recorded));
    let order: Vec<_> = values(&recorded)
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
    let dir_arg = dir.to_str().expect("utf-8");
    let recorded = run("record", &recording, &["stale", dir_arg]);
    assert!(recorded.status.success(), "{}", stderr(&recorded));
    assert!(stdout(&recorded).contains("read=beta"));

    let replayed = run("replay", &recording, &["stale", dir_arg, "bug"]);
    assert_eq!(replayed.status.code(), Some(101), "a divergence panics");
    let err = stderr(&replayed);
    assert!(
        err.contains("replay diverged at call #4 on thread 0"),
        "{err}"
    );
    assert!(
        err.contains("stale Fd #0.0 (the slot now holds generation 1)"),
        "{err}"
    );
}

#[test]
fn replay_with_serves_a_stand_in_in_another_process() {
    let dir = scratch_dir("cross-replay-with");
    std::fs::write(dir.join("log"), "yesterday's log").expect("write");
    let recording = dir.join("log.replay");
    let dir_arg = dir.to_str().expect("utf-8");
    let recorded = run("record", &recording, &["log", dir_arg]);
    assert!(recorded.status.success(), "{}", stderr(&recorded));
    assert!(
        stdout(&recorded).contains("log=Fd #0.0 \"yesterday's log\""),
        "{}",
        stdout(&recorded)
    );

    std::fs::remove_file(dir.join("log")).expect("remove");
    let replayed = run("replay", &recording, &["log", dir_arg]);
    assert!(replayed.status.success(), "{}", stderr(&replayed));
    // The stand-in's /dev/null, read for real, through the recorded slot.
    assert!(
        stdout(&replayed).contains("log=Fd #0.0 \"\""),
        "{}",
        stdout(&replayed)
    );
}

#[test]
fn a_call_made_while_unwinding_from_a_divergence_aborts_with_the_report() {
    let dir = scratch_dir("cross-unwind");
    let recording = dir.join("unwind.replay");
    let recorded = run("record", &recording, &["unwind"]);
    assert!(recorded.status.success(), "{}", stderr(&recorded));
    let replayed = run("replay", &recording, &["unwind"]);
    assert!(replayed.status.success(), "{}", stderr(&replayed));
    assert_eq!(values(&replayed), values(&recorded));

    // The first call diverges; the `Drop` that runs during the unwind can
    // be neither replayed nor made for real: the process aborts, saying so.
    let aborted = run("replay", &recording, &["unwind", "diverge"]);
    assert_eq!(aborted.status.code(), None, "killed by SIGABRT");
    let err = stderr(&aborted);
    assert!(
        err.contains("argument 2 (`spread`) of `replay_tests::rt_point_jitter` differs"),
        "{err}"
    );
    assert!(
        err.contains("can neither panic nor be replayed; aborting"),
        "{err}"
    );
}

#[test]
fn a_thread_taking_another_lock_stalls_replay_with_a_report_of_every_wait() {
    let dir = scratch_dir("cross-stall");
    let recording = dir.join("locks.replay");
    let recorded = run("record", &recording, &["locks"]);
    assert!(recorded.status.success(), "{}", stderr(&recorded));
    let replayed = run("replay", &recording, &["locks"]);
    assert!(replayed.status.success(), "{}", stderr(&replayed));

    let started = std::time::Instant::now();
    let stalled = Command::new(FIXTURE)
        .args(["locks", "swap"])
        .env("REPLAY_MODE", "replay")
        .env("REPLAY_PATH", &recording)
        .env("REPLAY_STALL_TIMEOUT", "0.5")
        .output()
        .expect("run the fixture");
    assert!(!stalled.status.success());
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "no hang"
    );
    let err = stderr(&stalled);
    assert!(err.contains("on thread 2: the replay stalled"), "{err}");
    assert!(
        err.contains("for a lock to reach version 1 after 0 read(s)"),
        "{err}"
    );
    assert!(err.contains("note: the lock is at version 0"), "{err}");
    // Every waiting thread is listed: the swapped one and the one it blocks.
    assert!(
        err.contains("    thread 1: a message from thread 2"),
        "{err}"
    );
    assert!(
        err.contains("    thread 2: a lock to reach version 1"),
        "{err}"
    );
    assert!(err.contains("REPLAY_STALL_TIMEOUT"), "{err}");
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
    assert!(recorded.status.success(), "{}", stderr(&recorded));
    let size = std::fs::metadata(&recording).expect("the recording").len();
    assert!(
        size > 10_000_000,
        "1.6M calls and their messages: {size} bytes"
    );

    let replayed = run("replay", &recording, &args);
    assert!(replayed.status.success(), "{}", stderr(&replayed));
    assert_eq!(values(&replayed), values(&recorded));
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
    assert!(recorded.status.success(), "{}", stderr(&recorded));

    // This test binary is not the fixture: its first call is another one.
    let session = replay_runtime::Session::replay(&recording).expect("start replaying");
    let caught = std::panic::catch_unwind(|| replay_tests::greet("x"));
    let message = replay_tests::panic_message(&*caught.expect_err("another program's calls"));
    assert!(message.contains("another function was called"), "{message}");
    assert!(
        message.contains("note: the recording was made by another program, `replay-fixture`"),
        "{message}"
    );
    assert!(session.finish().is_err());
}

#[test]
fn the_same_program_gets_no_note_about_another_program() {
    let dir = scratch_dir("cross-same-program");
    let recording = dir.join("fixture.replay");
    let recorded = run("record", &recording, &[]);
    assert!(recorded.status.success(), "{}", stderr(&recorded));
    let diverged = run("replay", &recording, &["diverge"]);
    assert!(!diverged.status.success());
    let err = stderr(&diverged);
    assert!(err.contains("replay diverged"), "{err}");
    assert!(!err.contains("another program"), "{err}");
}
