//! The `replay` command on real recordings, and on hostile files.

mod common;

use std::path::Path;
use std::process::Command;

use common::{REPLAY, call, crafted, define, replay, replay_ok, scratch, text};
use replay_runtime::{Session, deterministic};

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
    let dir = scratch("dump");
    let path = dir.join("a.replay");
    record(&path, &["alpha", "beta"]);
    let out = replay(&["dump", path.to_str().expect("utf-8")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = text(&out.stdout);
    assert!(out.contains("thread 0:"), "{out}");
    assert!(out.contains("#1 cli::lookup("), "{out}");
    assert!(
        out.contains("#1 cli::lookup(\"alpha\", 0) -> \"alpha@0:"),
        "{out}"
    );
    assert!(out.contains("#2 cli::lookup("), "{out}");
    assert!(out.contains("\"beta@1:"), "{out}");
    assert!(out.contains("(end)"), "{out}");
}

#[test]
fn diff_shows_where_two_recordings_first_differ() {
    let dir = scratch("diff");
    let (a, b) = (dir.join("a.replay"), dir.join("b.replay"));
    record(&a, &["alpha", "beta", "gamma", "delta"]);
    record(&b, &["alpha", "beta", "GAMMA", "delta"]);
    let (a, b) = (a.to_str().expect("utf-8"), b.to_str().expect("utf-8"));
    let out = replay(&["diff", a, b]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "different recordings exit with 1"
    );
    let out = text(&out.stdout);
    assert!(
        out.contains("first differ on thread 0, at event 3"),
        "{out}"
    );
    assert!(out.contains("\"beta\", 1"), "with context before: {out}");
    assert!(
        out.contains("\"gamma\", 2") && out.contains("\"GAMMA\", 2"),
        "{out}"
    );

    let same = replay(&["diff", a, a]);
    assert_eq!(same.status.code(), Some(0));
    assert!(text(&same.stdout).contains("the recordings hold the same events (5 compared)"));
}

#[test]
fn stats_counts_calls_per_function_and_threads() {
    let dir = scratch("stats");
    let path = dir.join("a.replay");
    record(&path, &["a", "b", "c"]);
    let out = replay(&["stats", path.to_str().expect("utf-8")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = text(&out.stdout);
    assert!(out.contains("1 thread(s)"), "{out}");
    assert!(
        out.contains("thread 0: 3 call(s), 0 thread event(s)"),
        "{out}"
    );
    assert!(
        out.lines().any(|l| l.trim_start().starts_with("3 ")
            && l.ends_with("cli::lookup  fn(& str, u32) -> String")),
        "{out}"
    );
}

#[test]
fn hostile_files_get_a_clear_error_never_a_panic() {
    let dir = scratch("hostile");
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
        let path = dir.join(format!("{name}.replay"));
        std::fs::write(&path, content).expect("write");
        for command in ["dump", "stats"] {
            let out = replay(&[command, path.to_str().expect("utf-8")]);
            let err = text(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{command} {name}: {err}");
            assert!(
                err.starts_with("replay: ") && err.contains(&format!("{name}.replay")),
                "{command} {name}: {err}"
            );
            assert!(!err.contains("panicked"), "{command} {name}: {err}");
        }
    }
    let missing = replay(&["dump", dir.join("missing.replay").to_str().expect("utf-8")]);
    assert_eq!(missing.status.code(), Some(2));
    // A path that is not UTF-8 is still a path.
    use std::os::unix::ffi::OsStrExt;
    let odd = dir.join(std::ffi::OsStr::from_bytes(b"\xff.replay"));
    std::fs::write(&odd, b"").expect("write");
    let out = Command::new(REPLAY)
        .arg("dump")
        .arg(&odd)
        .output()
        .expect("run replay");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("is empty"),
        "{}",
        text(&out.stderr)
    );
    let usage = replay(&["frobnicate"]);
    assert_eq!(usage.status.code(), Some(2));
    assert!(text(&usage.stderr).contains("Usage: replay <COMMAND>"));
}

/// A valid recording whose one function has a 1 MiB name, called 200 000
/// times: the name must not be copied per call.
#[test]
fn a_huge_function_name_does_not_blow_up_memory() {
    let dir = scratch("huge-name");
    let path = dir.join("huge.replay");
    let mut payload = Vec::new();
    define(&mut payload, 0, &"n".repeat(1 << 20), "fn");
    for _ in 0..200_000 {
        call(&mut payload, 0, &[], &[]); // 00 00 00: site 0, no arguments, no results
    }
    let file = crafted(&dir, &payload);
    std::fs::write(&path, &file).expect("write");

    let out = replay(&["stats", path.to_str().expect("utf-8")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("thread 0: 200000 call(s)"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn stats_counts_a_function_called_on_two_threads_as_one() {
    let dir = scratch("stats-threads");
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
    assert!(out.contains("2 thread(s)"), "{out}");
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
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(
            stdout.contains("Usage: replay dump <FILE>"),
            "{args:?}: {stdout}"
        );
        assert!(stderr.is_empty(), "{args:?}: {stderr}");
    }
    let out = replay(&["diff", "--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = text(&out.stdout);
    assert!(help.contains("Usage: replay diff <A> <B>"), "{help}");
    assert!(help.contains("1  the recordings differ"), "{help}");
}

#[test]
fn help_lists_the_commands_and_the_exit_statuses() {
    let out = replay(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = text(&out.stdout);
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
        assert!(help.contains(line), "{line:?} in {help}");
    }
}

#[test]
fn version_prints_the_name_and_version() {
    for flag in ["--version", "-V"] {
        let out = replay(&[flag]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert_eq!(
            text(&out.stdout),
            format!("replay {}\n", env!("CARGO_PKG_VERSION"))
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
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}
