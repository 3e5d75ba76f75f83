//! Running the built `replay` command, for its tests; the rest they share
//! with the other integration tests, in `replay-tests`.

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Output};

use replay_tests::{stderr, stdout};

/// The command under test; its path is known to integration tests only.
const REPLAY: &str = env!("CARGO_BIN_EXE_replay");

/// Runs `replay` with `args`.
pub fn replay<S: AsRef<OsStr>>(args: &[S]) -> Output {
    Command::new(REPLAY)
        .args(args)
        .output()
        .expect("run replay")
}

/// Runs `replay COMMAND FILE`, which must succeed, and returns its output.
pub fn replay_ok(command: &str, file: &Path) -> String {
    let out = replay(&[OsStr::new(command), file.as_os_str()]);
    assert!(out.status.success(), "replay {command}: {}", stderr(&out));
    stdout(&out)
}
