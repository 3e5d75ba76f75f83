//! Pure functions, Rust or foreign, run for real in every mode and are
//! never recorded: `#[assume_deterministic(pure)]` may return a value.

use std::ffi::{CString, c_char};
use std::sync::atomic::{AtomicUsize, Ordering};

use replay_runtime::{Session, assume_deterministic};
use replay_tests::files::{self, Fd};
use replay_tests::{
    assert_contains, expect_panic, greet, path_str, record_then_replay, scratch_dir, write_file,
};

#[assume_deterministic(pure)]
unsafe extern "C" {
    /// libc's `strlen`, declared as the header declares it.
    fn strlen(s: *const c_char) -> usize;
    /// libc's `abs`: safe to call with any value.
    safe fn abs(n: i32) -> i32;
}

static RAN: AtomicUsize = AtomicUsize::new(0);

/// A pure Rust computation that counts its real runs.
#[assume_deterministic(pure)]
fn checksum(bytes: &[u8]) -> u32 {
    RAN.fetch_add(1, Ordering::SeqCst);
    bytes
        .iter()
        .fold(7u32, |h, &b| h.wrapping_mul(31).wrapping_add(u32::from(b)))
}

fn c_strlen(s: &str) -> usize {
    let s = CString::new(s).expect("no NUL");
    // SAFETY: a NUL-terminated string.
    unsafe { strlen(s.as_ptr()) }
}

#[test]
fn pure_functions_run_for_real_in_replay_and_are_not_recorded() {
    let dir = scratch_dir("pure-run");
    let recording = dir.join("pure.replay");
    let mut extra = false;
    let before = RAN.load(Ordering::SeqCst);
    let seen = record_then_replay(&recording, |_| {
        let greeting = greet("ada");
        // More pure calls in replay than when recording: not recorded, so
        // the replay does not notice.
        let times = if extra { 3 } else { 1 };
        extra = true;
        let mut sums = Vec::new();
        for _ in 0..times {
            sums.push(checksum(greeting.as_bytes()));
        }
        (greeting.clone(), sums[0], c_strlen(&greeting), abs(-5))
    });
    assert_eq!(
        RAN.load(Ordering::SeqCst) - before,
        4,
        "ran for real in both modes"
    );
    assert_eq!(seen.2, seen.0.len(), "strlen ran on the replayed greeting");
    assert_eq!(seen.3, 5);
}

/// Runs for real: asks whether the descriptor is open.
#[assume_deterministic(pure)]
fn is_open(fd: &Fd) -> bool {
    // SAFETY: `fcntl(F_GETFD)` only reads the descriptor's flags.
    unsafe { libc::fcntl(fd.raw_fd(), libc::F_GETFD) != -1 }
}

#[test]
fn a_pure_function_given_a_placeholder_handle_stops_saying_why() {
    let dir = scratch_dir("pure-placeholder");
    let path = write_file(&dir, "data.txt", "data");
    let path = path_str(&path);
    let recording = dir.join("placeholder.replay");
    let session = Session::record(&recording).expect("record");
    let fd = files::open(path).expect("open");
    assert!(is_open(&fd));
    files::close(fd);
    session.finish().expect("finish");

    let session = Session::replay(&recording).expect("replay");
    let fd = files::open(path).expect("open");
    let message = expect_panic("a placeholder has no real value", || is_open(&fd));
    assert_contains!(message, "replay cannot run `is_open`");
    assert_contains!(message, "argument `fd` is Fd #0.0");
    assert_contains!(message, "pure_functions.rs");
    drop(session);
}
