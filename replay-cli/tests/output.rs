//! The commands when their output cannot be written: a reader that stops
//! reading (`replay dump FILE | head -1`) ends them quietly, as if they
//! had finished; a full disk is an error (exit status 2); neither is a
//! panic. Real pipes, the real binary.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};

use replay_tests::recording_files::{END, call, define, recording_of};
use replay_tests::{assert_contains, path_str, scratch_dir, stderr, write_file};

/// The command under test.
const REPLAY: &str = env!("CARGO_BIN_EXE_replay");

/// A recording of one thread calling 10 000 functions once each, the last
/// returning `last_result`: its dump and its stats are far longer than a
/// pipe holds (64 KiB), so that writing them fails once the pipe closes.
fn many_functions(last_result: u8) -> Vec<u8> {
    let mut payload = Vec::new();
    for site in 0..10_000 {
        payload.extend(define(site, format!("m::f{site}"), "fn() -> u8"));
        let result = if site == 9_999 { last_result } else { 0 };
        payload.extend(call(site, &[], &[result]));
    }
    payload.push(END);
    recording_of(&payload)
}

/// Runs `replay args` writing into a pipe, reads a line from it, closes
/// it, and returns the line, how the command exited and what it wrote to
/// standard error.
fn first_line_then_close(args: &[&str]) -> (String, ExitStatus, String) {
    let mut child = Command::new(REPLAY)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run replay");
    let mut reader = BufReader::new(child.stdout.take().expect("a pipe"));
    let mut line = String::new();
    reader.read_line(&mut line).expect("read a line");
    drop(reader);
    let out = child.wait_with_output().expect("wait for replay");
    (line, out.status, stderr(&out))
}

/// The writing end of a pipe whose reader has already exited: every write
/// to it fails with `EPIPE`, however soon it comes.
fn closed_pipe() -> Stdio {
    let mut reader = Command::new("true")
        .stdin(Stdio::piped())
        .spawn()
        .expect("run true");
    let writer = reader.stdin.take().expect("a pipe");
    reader.wait().expect("wait for true");
    Stdio::from(writer)
}

#[test]
fn dump_and_stats_end_quietly_when_the_reader_stops_reading() {
    let dir = scratch_dir("output-closed");
    let path = write_file(&dir, "a.replay", many_functions(0));
    for (command, first) in [
        ("dump", "a.replay: recorded by replay-tests"),
        ("stats", "a.replay: "),
    ] {
        let (line, status, err) = first_line_then_close(&[command, path_str(&path)]);
        assert_contains!(line, first, "{command}");
        assert_eq!(status.code(), Some(0), "{command}: {err}");
        assert!(err.is_empty(), "{command} wrote to standard error: {err}");
    }
}

#[test]
fn diff_keeps_its_verdict_when_the_reader_stops_reading() {
    let dir = scratch_dir("output-closed-diff");
    let a = write_file(&dir, "a.replay", many_functions(0));
    let b = write_file(&dir, "b.replay", many_functions(1));
    let (a, b) = (path_str(&a), path_str(&b));
    // Its report is short: written into a pipe already closed, so that
    // it fails.
    for (b, verdict) in [(b, 1), (a, 0)] {
        let out = Command::new(REPLAY)
            .args(["diff", a, b])
            .stdout(closed_pipe())
            .output()
            .expect("run replay");
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(verdict), "diff {a} {b}: {err}");
        assert!(err.is_empty(), "diff wrote to standard error: {err}");
    }
}

#[test]
fn a_full_disk_is_an_error_not_a_panic() {
    let dir = scratch_dir("output-full");
    let path = write_file(&dir, "a.replay", many_functions(0));
    for command in ["dump", "stats"] {
        let full = File::options()
            .write(true)
            .open("/dev/full")
            .expect("open /dev/full");
        let out = Command::new(REPLAY)
            .args([command, path_str(&path)])
            .stdout(full)
            .output()
            .expect("run replay");
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{command}: {err}");
        assert_contains!(err, "replay: cannot write the output: ", "{command}");
        assert!(!err.contains("panicked"), "{command}: {err}");
    }
}

#[test]
fn an_error_is_the_exit_status_when_standard_error_is_closed() {
    let missing = Path::new("/nonexistent/replay-cli/missing.replay");
    let status = Command::new(REPLAY)
        .args(["dump", path_str(missing)])
        .stderr(closed_pipe())
        .status()
        .expect("run replay");
    assert_eq!(status.code(), Some(2), "not a panic's 101");
}
