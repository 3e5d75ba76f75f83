//! Fuzz target: `Session::replay` on fuzzed bytes, then the program of
//! `replay_fuzz::program` (calls, threads, locks, channels, select)
//! replayed from them.
//!
//! Each input is tried twice: as it is (the reader's validation: the file
//! format promises an `Error` for any bad file, never a panic, a hang or an
//! unbounded allocation), and with its CRC-32s recomputed
//! (`replay_fuzz::fix_checksums`), so that mutations reach event decoding,
//! thread ordering and the replayed calls behind the checksums.
//!
//! What counts as a finding: a panic out of `Session::replay` or
//! `Session::finish`; a replayed thread still running after the program
//! returned; a panic during the replayed program whose message
//! does not start with `replay diverged` (divergences panic by design, and
//! a stall is reported as one); and what libFuzzer itself catches (an
//! abort, an AddressSanitizer report, a timeout, running out of memory).
//! `REPLAY_STALL_TIMEOUT` is set to 0.05 s (unless already set) so that
//! stalled replays end fast.
//!
//! ```text
//! cargo +nightly run --manifest-path fuzz/Cargo.toml --bin seed -- fuzz/corpus/replay_program
//! cargo +nightly fuzz run replay_program -- -max_total_time=60 -timeout=20
//! ```
//!
//! (`.ci/fuzz` does both.)

#![no_main]

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use libfuzzer_sys::fuzz_target;
use replay_runtime::Session;

/// Panic messages (with their location) caught since the last input.
static PANICS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// A new file for each replay: a thread left over from an earlier one (a
/// finding) keeps reading its own file, never the next input.
fn path() -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!(
        "replay-fuzz-program-{}-{n}.replay",
        std::process::id()
    ))
}

fuzz_target!(
    init: {
        // Unless set otherwise (to reproduce a finding with other timing).
        if std::env::var_os("REPLAY_STALL_TIMEOUT").is_none() {
            // SAFETY: set before any thread of this process is started.
            unsafe { std::env::set_var("REPLAY_STALL_TIMEOUT", "0.05") };
        }
        // Replaces libFuzzer's hook (which aborts on every panic): panics
        // are collected quietly and judged after each input.
        std::panic::set_hook(Box::new(|info| {
            let message = info
                .payload()
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| info.payload().downcast_ref::<&str>().copied())
                .unwrap_or("(a panic without a message)");
            let at = info.location().map(|l| l.to_string()).unwrap_or_default();
            let thread = std::thread::current();
            let mut report = format!(
                "{message}\n  (panicked at {at}, on thread {:?})",
                thread.name().unwrap_or("unnamed")
            );
            if !message.starts_with("replay diverged") {
                // Only a finding's stack is worth its cost.
                let stack = std::backtrace::Backtrace::force_capture();
                report.push_str(&format!("\n{stack}"));
            }
            if let Ok(mut panics) = PANICS.lock() {
                panics.push(report);
            }
        }));
    },
    |data: &[u8]| replay_fuzz::as_it_is_and_fixed(data, replay)
);

fn replay(bytes: &[u8]) {
    let path = path();
    if std::fs::write(&path, bytes).is_err() {
        return;
    }
    let opened = std::panic::catch_unwind(|| Session::replay(&path));
    let session = match opened {
        Ok(Ok(session)) => session,
        Ok(Err(_)) => {
            // A bad file, reported as an error: fine.
            let _ = std::fs::remove_file(&path);
            return;
        }
        Err(_) => fail("Session::replay panicked instead of returning an error"),
    };
    let _ = std::panic::catch_unwind(replay_fuzz::program);
    let finished = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| session.finish()));
    if finished.is_err() {
        fail("Session::finish panicked instead of returning an error");
    }
    let _ = std::fs::remove_file(&path);
    // A worker that outlived its session would carry on with a stale view
    // of this input: every one must have been joined.
    if replay_fuzz::LIVE_WORKERS.load(Ordering::SeqCst) != 0 {
        fail("a replayed thread outlived its session");
    }
    let panics = std::mem::take(&mut *PANICS.lock().unwrap_or_else(|e| e.into_inner()));
    if let Some(other) = panics.iter().find(|m| !m.starts_with("replay diverged")) {
        eprintln!("a panic that is not a divergence:\n{other}");
        std::process::abort();
    }
}

fn fail(what: &str) -> ! {
    let panics = PANICS.lock().map(|p| p.join("\n")).unwrap_or_default();
    eprintln!("{what}:\n{panics}");
    std::process::abort();
}
