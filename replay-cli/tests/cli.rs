//! The `replay` command on real recordings, and on hostile files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use replay_runtime::{Session, deterministic};

const REPLAY: &str = env!("CARGO_BIN_EXE_replay");

#[deterministic]
fn lookup(key: &str, attempt: u32) -> String {
    format!("{key}@{attempt}:{}", std::process::id())
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("replay-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

/// Records the given lookups on this thread.
fn record(path: &Path, keys: &[&str]) {
    let session = Session::record(path).expect("start recording");
    for (i, key) in keys.iter().enumerate() {
        lookup(key, i as u32);
    }
    session.finish().expect("finish recording");
}

fn replay(args: &[&str]) -> Output {
    Command::new(REPLAY)
        .args(args)
        .output()
        .expect("run replay")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
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
    assert!(out.contains("~ \"alpha\", 0)"), "{out}");
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
    assert!(text(&usage.stderr).contains("usage: replay dump FILE"));
}

/// A valid recording whose one function has a 1 MiB name, called 200 000
/// times: the name must not be copied per call.
#[test]
fn a_huge_function_name_does_not_blow_up_memory() {
    let dir = scratch("huge-name");
    let path = dir.join("huge.replay");
    let mut file = std::fs::read({
        let small = dir.join("small.replay");
        record(&small, &[]);
        small
    })
    .expect("a header");
    // Keep the header: 14 fixed bytes, the metadata, its checksum.
    let meta_len = u32::from_le_bytes([file[10], file[11], file[12], file[13]]) as usize;
    file.truncate(14 + meta_len + 4);
    let mut payload = Vec::new();
    let name = "n".repeat(1 << 20);
    let varint = |buf: &mut Vec<u8>, mut v: u64| {
        while v >= 0x80 {
            buf.push(v as u8 | 0x80);
            v >>= 7;
        }
        buf.push(v as u8);
    };
    varint(&mut payload, 2); // define site 0
    varint(&mut payload, name.len() as u64);
    payload.extend_from_slice(name.as_bytes());
    varint(&mut payload, 2);
    payload.extend_from_slice(b"fn");
    for _ in 0..200_000 {
        payload.extend_from_slice(&[0, 0, 0]); // call site 0, no arguments, no results
    }
    let mut crc = crc32fast::Hasher::new();
    crc.update(&0u32.to_le_bytes());
    crc.update(&payload);
    let crc = crc.finalize();
    file.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    file.extend_from_slice(&crc.to_le_bytes());
    file.extend_from_slice(&0u32.to_le_bytes());
    file.extend_from_slice(&payload);
    std::fs::write(&path, &file).expect("write");

    let out = replay(&["stats", path.to_str().expect("utf-8")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("thread 0: 200000 call(s)"),
        "{}",
        text(&out.stdout)
    );
}
