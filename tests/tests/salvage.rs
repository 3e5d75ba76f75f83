//! Salvage: a recorder killed mid-write leaves its file under its own
//! `.partial` name, cut anywhere, even inside a chunk; `Session::replay`
//! refuses it whole, and `inspect::salvage` (the CLI's `replay salvage`)
//! recovers every complete chunk into a recording that replays (issue 10).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use replay_runtime::inspect::{Inspection, salvage};
use replay_runtime::{Error, Session};
use replay_tests::{assert_contains, greet, partial_files, scratch_dir};

const FIXTURE: &str = env!("CARGO_BIN_EXE_replay-fixture");

/// `n` greetings of names that compress little (a hash of `i` in hex), so
/// that they fill several chunks whatever the compression does.
fn greetings(n: usize) -> Vec<String> {
    (0..n as u64)
        .map(|i| {
            let name = i.wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(17);
            greet(&format!("visitor {name:016x}"))
        })
        .collect()
}

/// A recording cut inside its last chunk: refused by replay, salvaged up to
/// the chunk before, and the salvaged recording replays as far as it goes.
#[test]
fn a_recording_cut_inside_a_chunk_is_salvaged_up_to_the_chunk_before() {
    let dir = scratch_dir("salvage-cut");
    let path = dir.join("full.replay");
    let session = Session::record(&path).expect("record");
    let recorded = greetings(20_000);
    session.finish().expect("finish");
    let bytes = std::fs::read(&path).expect("the recording");
    assert!(bytes.len() > 3 * 64 * 1024, "several chunks");

    let cut = dir.join("cut.replay");
    std::fs::write(&cut, &bytes[..bytes.len() - 1000]).expect("cut");
    let refused = Session::replay(&cut).expect_err("cut short");
    assert!(matches!(refused, Error::Truncated { .. }), "{refused:?}");

    let inspection = Inspection::open_salvaging(&cut).expect("the header is whole");
    let (kept_at, why) = inspection.cut().expect("a cut");
    assert_contains!(why, "is cut short");

    let out = dir.join("salvaged.replay");
    let saved = salvage(&cut, &out).expect("salvage");
    assert_eq!(saved.kept, kept_at);
    assert_eq!(saved.kept + saved.dropped, bytes.len() as u64 - 1000);
    assert!(saved.calls > 10_000 && saved.calls < 20_000, "{saved:?}");
    assert_eq!(
        std::fs::read(&out).expect("salvaged"),
        bytes[..kept_at as usize]
    );

    let session = Session::replay(&out).expect("the salvaged recording replays");
    let replayed = greetings(saved.calls as usize);
    assert_eq!(replayed[..], recorded[..saved.calls as usize]);
    session.finish().expect("everything salvaged was replayed");
}

/// A recorder killed with SIGKILL: its `.partial` stays beside the path,
/// and salvage recovers its complete chunks.
#[test]
fn a_killed_recorder_is_salvaged() {
    let dir = scratch_dir("salvage-killed");
    let path = dir.join("killed.replay");
    let mut child = Command::new(FIXTURE)
        .args(["stress", "4", "100000000"])
        .env("REPLAY_MODE", "record")
        .env("REPLAY_PATH", &path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the recorder");
    let partial = wait_for_bytes(&dir, 2 << 20);
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");
    assert!(!path.exists(), "never published");
    let partial = dir.join(partial);
    let out = dir.join("salvaged.replay");
    let saved = salvage(&partial, &out).expect("salvage");
    assert!(saved.calls > 1000, "{saved:?}");
    let inspection = Inspection::open(&out).expect("the salvaged recording reads");
    assert!(
        inspection.threads().len() > 1,
        "the main thread and its workers"
    );
}

/// Waits until a `.partial` in `dir` holds at least `bytes`; its name.
fn wait_for_bytes(dir: &Path, bytes: u64) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(name) = partial_files(dir, "killed.replay.").pop()
            && std::fs::metadata(dir.join(&name)).is_ok_and(|m| m.len() >= bytes)
        {
            return name;
        }
        assert!(Instant::now() < deadline, "the recorder wrote too little");
        std::thread::sleep(Duration::from_millis(20));
    }
}
