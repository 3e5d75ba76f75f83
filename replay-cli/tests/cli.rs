//! The `replay` command on real recordings, and on hostile files.

mod common;

use std::ffi::OsStr;
use std::path::Path;

use common::{replay, replay_ok};
use replay_runtime::{Session, deterministic};
use replay_tests::recording_files::{call, define, recording_of};
use replay_tests::{
    assert_contains, assert_success, path_str, scratch_dir, stderr, stdout, write_file,
};

#[deterministic]
fn lookup(key: &str, attempt: u32) -> String {
    format!("{key}@{attempt}:{}", std::process::id())
}

/// Records the given lookups on this thread.
fn record(path: &Path, keys: &[&str]) {
    let session = Session::record(path).expect("start recording");
    for (i, key) in keys.iter().enumerate() {
        lookup(key, i as u32);
    }
    session.finish().expect("finish recording");
}

#[test]
fn dump_names_each_call_with_its_arguments_and_result() {
    let dir = scratch_dir("dump");
    let path = dir.join("a.replay");
    record(&path, &["alpha", "beta"]);
    let out = replay(&["dump", path_str(&path)]);
    assert_success(&out);
    let out = stdout(&out);
    assert_contains!(out, "thread 0:");
    assert_contains!(out, "0:1  cli::lookup(");
    assert_contains!(out, "0:1  cli::lookup(\"alpha\", 0) -> \"alpha@0:");
    assert_contains!(out, "0:2  cli::lookup(");
    assert_contains!(out, "\"beta@1:");
    // Other events are named after the call before them.
    assert_contains!(out, "0:2+1  (end)");
}

#[test]
fn diff_shows_where_two_recordings_first_differ() {
    let dir = scratch_dir("diff");
    let (a, b) = (dir.join("a.replay"), dir.join("b.replay"));
    record(&a, &["alpha", "beta", "gamma", "delta"]);
    record(&b, &["alpha", "beta", "GAMMA", "delta"]);
    let (a, b) = (path_str(&a), path_str(&b));
    let out = replay(&["diff", a, b]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "different recordings exit with 1"
    );
    let out = stdout(&out);
    assert_contains!(out, "first differ on thread 0, at event 3");
    assert_contains!(out, "\"beta\", 1", "with context before");
    assert_contains!(out, "\"gamma\", 2");
    assert_contains!(out, "\"GAMMA\", 2");

    let same = replay(&["diff", a, a]);
    assert_eq!(same.status.code(), Some(0));
    assert_contains!(
        stdout(&same),
        "the recordings hold the same events (5 compared)"
    );
}

#[test]
fn stats_counts_calls_per_function_and_threads() {
    let dir = scratch_dir("stats");
    let path = dir.join("a.replay");
    record(&path, &["a", "b", "c"]);
    let out = replay(&["stats", path_str(&path)]);
    assert_success(&out);
    let out = stdout(&out);
    assert_contains!(out, "1 thread(s)");
    assert_contains!(out, "thread 0: 3 call(s), 0 thread event(s)");
    assert!(
        out.lines().any(|l| l.trim_start().starts_with("3 ")
            && l.ends_with("cli::lookup  fn(& str, u32) -> String")),
        "{out}"
    );
}

/// How the chunks are stored: the committed recordings of the same test in
/// format versions 1 and 4, the latter compressed, read alike.
#[test]
fn stats_say_how_the_chunks_are_stored() {
    let recordings = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/tests/recordings");
    let name = "c_library_calls_replay_from_a_committed_recording.replay";
    let mut calls = Vec::new();
    for (dir, storage) in [
        (
            "recorded",
            "format version 1: 1 chunk(s), 0 compressed; 262 bytes of events stored in 262 (1.0x)",
        ),
        (
            "recorded_v4",
            "format version 4: 1 chunk(s), 1 compressed; 264 bytes of events stored in 221 (1.2x)",
        ),
    ] {
        let out = replay(&["stats", path_str(&recordings.join(dir).join(name))]);
        assert_success(&out);
        let out = stdout(&out);
        assert_contains!(out, storage);
        calls.push(out.lines().nth(2).map(str::to_owned));
    }
    assert_eq!(calls[0], calls[1], "the same calls in both versions");
}

#[test]
fn hostile_files_get_a_clear_error_never_a_panic() {
    let dir = scratch_dir("hostile");
    let good = dir.join("good.replay");
    record(&good, &["alpha", "beta"]);
    let bytes = std::fs::read(&good).expect("read");
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("text", b"not a recording at all".to_vec()),
        ("truncated", bytes[..bytes.len() - 3].to_vec()),
        ("flipped", {
            let mut b = bytes.clone();
            let last = b.len() - 2;
            b[last] ^= 0xff;
            b
        }),
        (
            "random",
            (0..4096u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
                .collect(),
        ),
    ];
    for (name, content) in cases {
        let path = write_file(&dir, format!("{name}.replay"), content);
        for command in ["dump", "stats"] {
            let out = replay(&[command, path_str(&path)]);
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(2), "{command} {name}: {err}");
            assert!(err.starts_with("replay: "), "{command} {name}: {err}");
            assert_contains!(err, format!("{name}.replay"), "{command} {name}");
            assert!(!err.contains("panicked"), "{command} {name}: {err}");
        }
    }
    let missing = replay(&["dump", path_str(&dir.join("missing.replay"))]);
    assert_eq!(missing.status.code(), Some(2));
    // A path that is not UTF-8 is still a path.
    use std::os::unix::ffi::OsStrExt;
    let odd = write_file(&dir, OsStr::from_bytes(b"\xff.replay"), b"");
    let out = replay(&[OsStr::new("dump"), odd.as_os_str()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_contains!(stderr(&out), "is empty");
    let usage = replay(&["frobnicate"]);
    assert_eq!(usage.status.code(), Some(2));
    assert_contains!(stderr(&usage), "Usage: replay <COMMAND>");
}

/// A valid recording whose one function has a 1 MiB name, called 200 000
/// times: the name must not be copied per call.
#[test]
fn a_huge_function_name_does_not_blow_up_memory() {
    let dir = scratch_dir("huge-name");
    let mut payload = define(0, "n".repeat(1 << 20), "fn");
    for _ in 0..200_000 {
        payload.extend(call(0, &[], &[])); // 00 00 00: site 0, no arguments, no results
    }
    let path = write_file(&dir, "huge.replay", recording_of(&payload));

    let out = replay(&["stats", path_str(&path)]);
    assert_success(&out);
    assert_contains!(stdout(&out), "thread 0: 200000 call(s)");
}

#[test]
fn stats_counts_a_function_called_on_two_threads_as_one() {
    let dir = scratch_dir("stats-threads");
    let path = dir.join("a.replay");
    let session = Session::record(&path).expect("start recording");
    lookup("main", 0);
    replay_runtime::thread::spawn(|| {
        lookup("worker", 1);
        lookup("worker", 2);
    })
    .join()
    .expect("join");
    session.finish().expect("finish recording");

    let out = replay_ok("stats", &path);
    assert_contains!(out, "2 thread(s)");
    let lines: Vec<_> = out
        .lines()
        .filter(|l| l.ends_with("cli::lookup  fn(& str, u32) -> String"))
        .collect();
    assert_eq!(lines.len(), 1, "one line per function: {out}");
    assert!(lines[0].trim_start().starts_with("3 "), "{out}");
}

#[test]
fn help_after_a_command_shows_its_help_and_opens_no_file() {
    for args in [&["dump", "--help"][..], &["help", "dump"], &["dump", "-h"]] {
        let out = replay(args);
        let (out_text, err_text) = (stdout(&out), stderr(&out));
        assert_eq!(out.status.code(), Some(0), "{args:?}: {err_text}");
        assert_contains!(out_text, "Usage: replay dump <FILE>", "{args:?}");
        assert!(err_text.is_empty(), "{args:?}: {err_text}");
    }
    let out = replay(&["diff", "--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = stdout(&out);
    assert_contains!(help, "Usage: replay diff <A> <B>");
    assert_contains!(help, "1  the recordings differ");
}

#[test]
fn help_lists_the_commands_and_the_exit_statuses() {
    let out = replay(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = stdout(&out);
    for line in [
        "Usage: replay <COMMAND>",
        "dump ",
        "diff ",
        "stats ",
        "Exit status:",
        "0  success",
        "1  `diff` found a difference",
        "2  an error",
    ] {
        assert_contains!(help, line);
    }
}

#[test]
fn version_prints_the_name_and_version() {
    for (args, name) in [
        (&["--version"][..], "replay"),
        (&["-V"], "replay"),
        (&["dump", "--version"], "replay-dump"),
        (&["diff", "--version"], "replay-diff"),
        (&["stats", "-V"], "replay-stats"),
    ] {
        let out = replay(args);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert_eq!(
            stdout(&out),
            format!("{name} {}\n", env!("CARGO_PKG_VERSION"))
        );
    }
}

#[test]
fn bad_usage_exits_with_2_and_says_what_is_wrong() {
    for (args, says) in [
        (&[][..], "Usage: replay <COMMAND>"),
        (&["dump"], "<FILE>"),
        (&["diff", "a.replay"], "<B>"),
        (
            &["stats", "a.replay", "b.replay"],
            "unexpected argument 'b.replay'",
        ),
        (
            &["dump", "--frobnicate", "a.replay"],
            "unexpected argument '--frobnicate'",
        ),
    ] {
        let out = replay(args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_contains!(err, says, "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

#[deterministic]
fn checked(key: &str) -> u32 {
    if key.is_empty() {
        panic!("an empty key");
    }
    key.len() as u32
}

#[test]
fn dump_and_stats_show_a_call_that_panicked() {
    let dir = scratch_dir("dump-panicked");
    let path = dir.join("panicked.replay");
    let session = Session::record(&path).expect("record");
    checked("abc");
    let _ = std::panic::catch_unwind(|| checked(""));
    session.finish().expect("finish");
    let out = replay(&["dump", path_str(&path)]);
    assert_success(&out);
    assert_contains!(
        stdout(&out),
        "0:2  cli::checked(\"\") panicked: an empty key"
    );
    let out = replay(&["stats", path_str(&path)]);
    assert_success(&out);
    assert_contains!(stdout(&out), "thread 0: 2 call(s), 1 panicked");
}

#[test]
fn salvage_recovers_the_complete_chunks_of_a_cut_recording() {
    let dir = scratch_dir("salvage-cli");
    let path = dir.join("full.replay");
    let keys: Vec<String> = (0..4000).map(|i| format!("key number {i}")).collect();
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    record(&path, &keys);
    let bytes = std::fs::read(&path).expect("the recording");
    let cut = write_file(&dir, "cut.replay.1.0.partial", &bytes[..bytes.len() - 100]);
    let out_path = dir.join("saved.replay");
    let out = replay(&["salvage", path_str(&cut), "-o", path_str(&out_path)]);
    assert_success(&out);
    let said = stdout(&out);
    assert_contains!(said, "salvaged ");
    assert_contains!(said, "left out ");
    assert_contains!(said, "is cut short");
    let dump = replay(&["dump", path_str(&out_path)]);
    assert_success(&dump);
    assert_contains!(stdout(&dump), "0:1  cli::lookup(\"key number 0\", 0)");
    // Not a recording at all: a clear error.
    let junk = write_file(&dir, "junk", b"hello");
    let out = replay(&["salvage", path_str(&junk), "-o", path_str(&out_path)]);
    assert_eq!(out.status.code(), Some(2));
    assert_contains!(stderr(&out), "is not a replay recording");
}
