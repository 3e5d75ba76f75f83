//! Fuzz target: `replay_runtime::inspect` (what `replay dump`, `diff` and
//! `stats` read) on fuzzed bytes: `Inspection::open`, then every thread's
//! entries, each displayed (with the best guess at what its bytes hold).
//!
//! Each input is tried as it is and with its CRC-32s recomputed
//! (`replay_fuzz::fix_checksums`), so that mutations reach the event
//! decoding behind the checksums. Any panic is a finding (libFuzzer's hook
//! aborts on it): a bad file must give an `Error`.
//!
//! ```text
//! cargo +nightly fuzz run inspect -- -max_total_time=60
//! ```

#![no_main]

use std::fmt::Write as _;
use std::path::PathBuf;

use libfuzzer_sys::fuzz_target;
use replay_runtime::inspect::Inspection;

fn path() -> PathBuf {
    std::env::temp_dir().join(format!("replay-fuzz-inspect-{}.replay", std::process::id()))
}

fuzz_target!(|data: &[u8]| replay_fuzz::as_it_is_and_fixed(data, inspect));

fn inspect(bytes: &[u8]) {
    let path = path();
    if std::fs::write(&path, bytes).is_err() {
        return;
    }
    let Ok(recording) = Inspection::open(&path) else {
        return;
    };
    let mut text = format!("{} {:?}", recording.version(), recording.metadata());
    for thread in recording.threads() {
        let Ok(entries) = recording.entries(thread) else {
            continue;
        };
        for entry in entries {
            match entry {
                Ok(entry) => {
                    let _ = write!(text, "{entry}");
                }
                Err(e) => {
                    let _ = write!(text, "{e}");
                    break;
                }
            }
        }
        text.clear();
    }
}
