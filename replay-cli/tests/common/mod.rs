//! What the `replay` command's tests share: running the built binary, and
//! crafting recordings byte by byte where a real program cannot make them.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const REPLAY: &str = env!("CARGO_BIN_EXE_replay");

/// A fresh directory for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("replay-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

/// Runs `replay` with `args`.
pub fn replay(args: &[&str]) -> Output {
    Command::new(REPLAY)
        .args(args)
        .output()
        .expect("run replay")
}

/// Runs `replay COMMAND FILE`, which must succeed, and returns its output.
pub fn replay_ok(command: &str, file: &Path) -> String {
    let out = Command::new(REPLAY)
        .arg(command)
        .arg(file)
        .output()
        .expect("run replay");
    assert!(
        out.status.success(),
        "replay {command}: {}",
        text(&out.stderr)
    );
    text(&out.stdout)
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Appends `v` as a varint (unsigned LEB128), as the format writes lengths.
pub fn varint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push(v as u8 | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

/// A recording whose stream 0 holds `payload`, a sequence of events as
/// docs/format.md describes them: the header is copied from a real (empty)
/// recording, and the one chunk checksummed as the reader checks it.
pub fn crafted(dir: &Path, payload: &[u8]) -> Vec<u8> {
    let empty = dir.join("empty.replay");
    let session = replay_runtime::Session::record(&empty).expect("start recording");
    session.finish().expect("finish recording");
    let mut file = std::fs::read(&empty).expect("a header");
    // Keep the header: 14 fixed bytes, the metadata, its checksum.
    let meta_len = u32::from_le_bytes([file[10], file[11], file[12], file[13]]) as usize;
    file.truncate(14 + meta_len + 4);
    let mut crc = crc32fast::Hasher::new();
    crc.update(&0u32.to_le_bytes());
    crc.update(payload);
    file.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    file.extend_from_slice(&crc.finalize().to_le_bytes());
    file.extend_from_slice(&0u32.to_le_bytes());
    file.extend_from_slice(payload);
    file
}

/// A define event: site `site` is `name` with `signature`.
pub fn define(payload: &mut Vec<u8>, site: u64, name: &str, signature: &str) {
    varint(payload, site << 2 | 2);
    varint(payload, name.len() as u64);
    payload.extend_from_slice(name.as_bytes());
    varint(payload, signature.len() as u64);
    payload.extend_from_slice(signature.as_bytes());
}

/// A call event of site `site` with these argument and result bytes.
pub fn call(payload: &mut Vec<u8>, site: u64, args: &[u8], results: &[u8]) {
    varint(payload, site << 2);
    varint(payload, args.len() as u64);
    payload.extend_from_slice(args);
    varint(payload, results.len() as u64);
    payload.extend_from_slice(results);
}
