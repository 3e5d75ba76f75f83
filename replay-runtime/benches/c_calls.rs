//! Per-call cost of what C APIs pass through pointers: a C string argument
//! (libc's `strlen`) and a callback round trip (libc's `qsort` of two
//! elements calls its comparator once), each in record and replay, against
//! the same C call made directly, in the same run.
//!
//! ```text
//! CARGO_TARGET_DIR=/work/target-bench cargo bench -p replay-runtime --bench c_calls
//! ```
//!
//! Every timed benchmark runs exactly `SAMPLES * SAMPLE_SIZE` iterations;
//! replay benchmarks first record that many calls (untimed). The machine
//! is noisy: compare figures only as ratios within one run.

use std::ffi::{c_char, c_int};
use std::path::Path;

use common::TempDir;
use divan::{Bencher, black_box};
use replay_runtime::{Session, deterministic};

mod common;

const SAMPLES: u32 = 100;
const SAMPLE_SIZE: u32 = 5_000;
const ITERS: u64 = SAMPLES as u64 * SAMPLE_SIZE as u64;

/// The string `strlen` measures: 24 bytes, a typical short key or name.
const TEXT: &std::ffi::CStr = c"a-typical-short-c-string";

unsafe extern "C" {
    #[link_name = "strlen"]
    fn strlen_raw(s: *const c_char) -> usize;
    #[link_name = "qsort"]
    fn qsort_raw(
        base: *mut i32,
        n: usize,
        size: usize,
        compar: Option<unsafe extern "C" fn(*const i32, *const i32) -> c_int>,
    );
}

#[deterministic]
unsafe extern "C" {
    fn strlen(s: *const c_char) -> usize;
    fn qsort(
        #[inout(len = n)] base: *mut i32,
        n: usize,
        size: usize,
        compar: Option<unsafe extern "C" fn(*const i32, *const i32) -> c_int>,
    );
}

/// The comparator, unwrapped.
unsafe extern "C" fn compare_raw(a: *const i32, b: *const i32) -> c_int {
    // SAFETY: qsort passes two elements.
    unsafe { (*a).cmp(&*b) as c_int }
}

/// The comparator, as a recorded callback.
#[deterministic(callback)]
extern "C" fn compare(#[input(len = 1)] a: *const i32, #[input(len = 1)] b: *const i32) -> c_int {
    // SAFETY: qsort passes two elements.
    unsafe { (*a).cmp(&*b) as c_int }
}

fn c_string() -> usize {
    // SAFETY: a NUL-terminated string.
    unsafe { strlen(black_box(TEXT.as_ptr())) }
}

fn callback() -> usize {
    let mut values = [black_box(9i32), 7];
    // SAFETY: two `i32`s, a comparator of the C type.
    unsafe { qsort(values.as_mut_ptr(), 2, 4, Some(compare)) };
    values[0] as usize
}

/// Records `calls` calls of `call` to `path`.
fn record_sequence(path: &Path, calls: u64, call: fn() -> usize) {
    let session = Session::record(path).expect("record session");
    for _ in 0..calls {
        black_box(call());
    }
    session.finish().expect("recording written");
}

/// Records (one session for all samples), or replays `ITERS` calls
/// recorded first, of `call`.
fn bench(bencher: Bencher, replay: bool, call: fn() -> usize) {
    let dir = TempDir::new(if replay { "replay" } else { "record" });
    let path = dir.path("bench.replay");
    let session = if replay {
        record_sequence(&path, ITERS, call);
        Session::replay(&path).expect("replay session")
    } else {
        Session::record(&path).expect("record session")
    };
    bencher.bench_local(call);
    // `cargo test --benches` runs each benchmark once: a replay is then
    // left with calls, which is no failure here.
    drop(session);
}

fn main() {
    divan::main();
}

/// The C string argument, C called directly.
#[divan::bench(sample_count = SAMPLES, sample_size = SAMPLE_SIZE)]
fn c_string_raw(bencher: Bencher) {
    // SAFETY: a NUL-terminated string.
    bencher.bench_local(|| unsafe { strlen_raw(black_box(TEXT.as_ptr())) });
}

/// The C string argument, wrapped, no session.
#[divan::bench(sample_count = SAMPLES, sample_size = SAMPLE_SIZE)]
fn c_string_off(bencher: Bencher) {
    bencher.bench_local(c_string);
}

#[divan::bench(sample_count = SAMPLES, sample_size = SAMPLE_SIZE)]
fn c_string_record(bencher: Bencher) {
    bench(bencher, false, c_string);
}

#[divan::bench(sample_count = SAMPLES, sample_size = SAMPLE_SIZE)]
fn c_string_replay(bencher: Bencher) {
    bench(bencher, true, c_string);
}

/// The callback round trip, C called directly.
#[divan::bench(sample_count = SAMPLES, sample_size = SAMPLE_SIZE)]
fn callback_raw(bencher: Bencher) {
    bencher.bench_local(|| {
        let mut values = [black_box(9i32), 7];
        // SAFETY: as in `callback`.
        unsafe { qsort_raw(values.as_mut_ptr(), 2, 4, Some(compare_raw)) };
        values[0] as usize
    });
}

/// The callback round trip, wrapped, no session.
#[divan::bench(sample_count = SAMPLES, sample_size = SAMPLE_SIZE)]
fn callback_off(bencher: Bencher) {
    bencher.bench_local(callback);
}

#[divan::bench(sample_count = SAMPLES, sample_size = SAMPLE_SIZE)]
fn callback_record(bencher: Bencher) {
    bench(bencher, false, callback);
}

#[divan::bench(sample_count = SAMPLES, sample_size = SAMPLE_SIZE)]
fn callback_replay(bencher: Bencher) {
    bench(bencher, true, callback);
}
