//! `REPLAY_BREAK=thread:call`: a replay stops right before that recorded
//! call, says where it is, and hands over to a debugger (or waits for
//! one). Run on the fixture program, in processes of their own.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use replay_tests::{assert_contains, assert_success, scratch_dir, stderr, stderr_until, stdout};

const FIXTURE: &str = env!("CARGO_BIN_EXE_replay-fixture");

/// The fixture in `mode` on `path`, running `args`, with `REPLAY_BREAK`
/// set to `breaks` (unset when `None`).
fn fixture(mode: &str, path: &Path, args: &[&str], breaks: Option<&str>) -> Command {
    let mut command = Command::new(FIXTURE);
    command
        .args(args)
        .env("REPLAY_MODE", mode)
        .env("REPLAY_PATH", path)
        .env_remove("REPLAY_BREAK");
    if let Some(breaks) = breaks {
        command.env("REPLAY_BREAK", breaks);
    }
    command
}

/// Records the fixture running `args` at `path`.
fn record(path: &Path, args: &[&str]) {
    let recorded = fixture("record", path, args, None)
        .output()
        .expect("run the fixture");
    assert_success(&recorded);
}

/// What a replay stopped without a debugger wrote before it was killed.
struct Stopped {
    /// Standard error, up to its message that it waits for a debugger.
    err: String,
    /// Standard output, all of it.
    out: String,
    pid: u32,
}

/// Replays with `REPLAY_BREAK=breaks` and no debugger, up to the message
/// that it waits for one, then kills it.
fn stop_without_debugger(path: &Path, args: &[&str], breaks: &str) -> Stopped {
    let mut child = fixture("replay", path, args, Some(breaks))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the fixture");
    let pid = child.id();
    let seen = stderr_until(
        &mut child,
        "waiting for a debugger",
        Duration::from_secs(60),
    );
    // Still waiting (not exited): the stop holds the program.
    let still_running = child.try_wait().expect("poll the fixture").is_none();
    let _ = child.kill();
    let out = child.wait_with_output().expect("the killed fixture");
    let err = seen.expect("the replay stops and says so within a minute");
    assert!(still_running, "a stopped replay waits: {err}");
    Stopped {
        err,
        out: stdout(&out),
        pid,
    }
}

#[test]
fn a_replay_stops_right_before_the_named_call_and_waits_for_a_debugger() {
    let dir = scratch_dir("break-main");
    let recording = dir.join("run.replay");
    record(&recording, &[]);

    // Call 3 on thread 0 is `rt_point_jitter` (after the clock and getpid).
    let stopped = stop_without_debugger(&recording, &[], "0:3");
    let seen = &stopped.err;
    assert_contains!(seen, "replay: stopped before call 0:3 (REPLAY_BREAK)");
    assert_contains!(seen, "`replay_tests::rt_point_jitter`(");
    assert_contains!(seen, "spread = 1000");
    assert_contains!(seen, "at tests/src/bin/replay-fixture.rs:");
    assert_contains!(seen, &format!("rust-gdb -p {}", stopped.pid));
    // Right before the call: the program printed what the first two
    // returned, and nothing of the third.
    assert_contains!(stopped.out, "pid=");
    assert!(
        !stopped.out.contains("point="),
        "stopped before the third call, not after: {}",
        stopped.out
    );
}

#[test]
fn a_replay_stops_on_the_thread_named() {
    let dir = scratch_dir("break-thread");
    let recording = dir.join("run.replay");
    record(&recording, &["stress", "2", "10"]);

    let stopped = stop_without_debugger(&recording, &["stress", "2", "10"], "2:5");
    let seen = &stopped.err;
    assert_contains!(seen, "stopped before call 2:5 (REPLAY_BREAK)");
    assert_contains!(seen, "`replay_tests::rt_now_nanos`()");
    assert!(
        !seen.contains("call 1:"),
        "only the named thread stops: {seen}"
    );
}

#[test]
fn a_replay_without_a_stop_is_untouched_by_an_empty_variable() {
    let dir = scratch_dir("break-empty");
    let recording = dir.join("run.replay");
    record(&recording, &[]);
    let replayed = fixture("replay", &recording, &[], Some(""))
        .output()
        .expect("run the fixture");
    assert_success(&replayed);
    assert_contains!(stdout(&replayed), "greeting=");
}

/// Replays with `REPLAY_BREAK=breaks`, which must fail at the start.
fn refused(path: &Path, mode: &str, breaks: &str) -> Output {
    let output = fixture(mode, path, &[], Some(breaks))
        .output()
        .expect("run the fixture");
    assert_eq!(
        output.status.code(),
        Some(2),
        "a bad REPLAY_BREAK fails the session's start: {}",
        stderr(&output)
    );
    assert!(
        !stdout(&output).contains("now="),
        "nothing ran: {}",
        stdout(&output)
    );
    output
}

#[test]
fn an_unknown_event_is_an_error_when_the_session_starts() {
    let dir = scratch_dir("break-unknown");
    let recording = dir.join("run.replay");
    record(&recording, &[]);

    let past = refused(&recording, "replay", "0:1,0:99");
    assert_contains!(stderr(&past), "REPLAY_BREAK is \"0:1,0:99\"");
    assert_contains!(
        stderr(&past),
        "thread 0 recorded calls 1 to 4; there is no call 99"
    );

    let zero = refused(&recording, "replay", "0:0");
    assert_contains!(stderr(&zero), "there is no call 0");

    let thread = refused(&recording, "replay", "7:1");
    assert_contains!(
        stderr(&thread),
        "the recording has no thread 7 (its threads: 0)"
    );

    let syntax = refused(&recording, "replay", "call 3");
    assert_contains!(stderr(&syntax), "\"call 3\" is not `thread:call`");

    // Recording with a stop asked for is a mistake, said at once.
    let other = dir.join("other.replay");
    let recording_run = refused(&other, "record", "0:1");
    assert_contains!(stderr(&recording_run), "this session records");
    assert!(!other.exists(), "nothing recorded");
}

#[test]
fn under_a_debugger_the_replay_traps_at_the_call() {
    let Some(gdb) = tool("gdb") else { return };
    let dir = scratch_dir("break-gdb");
    let recording = dir.join("run.replay");
    record(&recording, &[]);

    let started = Instant::now();
    let output = Command::new(gdb)
        .args([
            "-batch", "-nx", "-ex", "run", "-ex", "bt", "--args", FIXTURE,
        ])
        .env("REPLAY_MODE", "replay")
        .env("REPLAY_PATH", &recording)
        .env("REPLAY_BREAK", "0:3")
        .stdin(Stdio::null())
        .output()
        .expect("run gdb");
    let all = format!("{}{}", stdout(&output), stderr(&output));
    assert_contains!(all, "stopped before call 0:3 (REPLAY_BREAK)");
    assert_contains!(all, "raising SIGTRAP for the debugger");
    assert_contains!(all, "SIGTRAP");
    // The stack is the program's, stopped at the call.
    assert_contains!(all, "replay_fixture::call_c");
    assert!(
        !all.contains("waiting for a debugger"),
        "under a debugger it does not wait: {all}"
    );
    assert!(started.elapsed() < Duration::from_secs(120));
}

/// A program the test needs, from the PATH: under `CI` (where `.ci/run`
/// installs it) its absence fails the test; elsewhere the test is skipped,
/// loudly.
fn tool(name: &str) -> Option<String> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|path| path.is_file())
    });
    match found {
        Some(path) => Some(path.to_string_lossy().into_owned()),
        None if std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0") => {
            panic!("`{name}` is needed by this test; .ci/run installs it (apt-get install {name})")
        }
        None => {
            eprintln!("SKIPPED: `{name}` is not installed (apt-get install {name})");
            None
        }
    }
}
