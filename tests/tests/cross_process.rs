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
