//! Per-call cost of a `#[deterministic]` wrapper, in each mode, against the
//! raw function, against a naive JSON-line-per-call log, and against the
//! physical limit: a minimal hand-written recorder and replayer
//! (`minimal/mod.rs`).
//!
//! ```text
//! CARGO_TARGET_DIR=/work/target-bench cargo bench -p replay-runtime --bench calls
//! ```
//!
//! Before divan runs, `check_sizes_and_allocations` records the same
//! 1,000,000-call sequence with our format and with the JSON log, prints the
//! bytes per call of each, and counts heap allocations per call in every
//! mode (it panics if record mode allocates per call). Divan's
//! `AllocProfiler` additionally prints `alloc`/`grow` rows for any benchmark
//! that allocates; the record, replay and off benchmarks should have none.
//!
//! Every timed benchmark runs exactly `SAMPLES * SAMPLE_SIZE` iterations, and
//! each iteration is one call with fresh arguments `(i, i * 7)`, so replay
//! can be checked call by call against a recording of the same sequence.
//! The machine is noisy: compare figures only as ratios within one run.
//! `compare_to_the_limit` prints those ratios first: record and replay
//! against the minimal ones, and the JSON log against record, timed
//! interleaved in this run (best of five rounds).

use std::alloc::{GlobalAlloc, Layout};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use common::TempDir;
use divan::{Bencher, black_box};
use replay_runtime::{Error, Session, deterministic};
use serde::Serialize;

mod common;
mod minimal;

/// Divan's profiler (per-iteration allocation rows in its table), wrapped to
/// also keep a process-wide count that the pre-run check reads directly.
struct Counting(divan::AllocProfiler);

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every method delegates to the inner allocator unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { self.0.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { self.0.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { self.0.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { self.0.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting(divan::AllocProfiler::system());

fn allocations() -> u64 {
    ALLOCATIONS.load(Ordering::Relaxed)
}

/// Samples per benchmark and iterations per sample: fixed, so every
/// benchmark makes exactly `ITERS` calls (replay needs to know how many).
const SAMPLES: u32 = 200;
const SAMPLE_SIZE: u32 = 10_000;
const ITERS: u64 = SAMPLES as u64 * SAMPLE_SIZE as u64;

/// Calls in the size and allocation check.
const CHECK_CALLS: u64 = 1_000_000;

/// The body, without the attribute.
fn add_raw(a: u64, b: u64) -> u64 {
    a.wrapping_add(b)
}

/// The same body, wrapped.
#[deterministic]
fn add(a: u64, b: u64) -> u64 {
    a.wrapping_add(b)
}

/// As `add_raw`, but never inlined, as a call across the FFI boundary is not.
#[inline(never)]
fn add_raw_noinline(a: u64, b: u64) -> u64 {
    a.wrapping_add(b)
}

/// As `add`, but never inlined (the attribute is kept on the wrapper).
#[deterministic]
#[inline(never)]
fn add_noinline(a: u64, b: u64) -> u64 {
    a.wrapping_add(b)
}

/// The name our recording stores for `add`, logged in full on every line.
const ADD_PATH: &str = concat!(module_path!(), "::add");

/// One line of the naive log.
#[derive(Serialize)]
struct LogLine<'a> {
    function: &'a str,
    args: (u64, u64),
    ret: u64,
}

/// The naive recorder: the real call, then one JSON line.
#[inline]
fn add_logged(log: &mut impl Write, a: u64, b: u64) -> u64 {
    let ret = add_raw(a, b);
    serde_json::to_writer(
        &mut *log,
        &LogLine {
            function: ADD_PATH,
            args: (a, b),
            ret,
        },
    )
    .expect("the log is writable");
    log.write_all(b"\n").expect("the log is writable");
    ret
}

/// Records `add(i, i * 7)` for `i` in `0..calls` to `path`.
fn record_sequence(path: &Path, calls: u64) -> u64 {
    let session = Session::record(path).expect("record session");
    for i in 0..calls {
        black_box(add(black_box(i), black_box(i * 7)));
    }
    let summary = session.finish().expect("recording written");
    assert_eq!(summary.calls, calls);
    summary.bytes
}

/// Bytes per call of both formats, and heap allocations per call in each
/// mode, over the same `CHECK_CALLS`-call sequence.
fn check_sizes_and_allocations() {
    let dir = TempDir::new("check");
    let n = CHECK_CALLS;

    // Off: no session.
    let before = allocations();
    for i in 0..n {
        black_box(add(black_box(i), black_box(i * 7)));
    }
    let off_allocs = allocations() - before;

    // Record. The first call defines the site (one map insert); it is
    // counted apart from the steady state.
    let ours = dir.path("calls.replay");
    let session = Session::record(&ours).expect("record session");
    let before = allocations();
    black_box(add(black_box(0), black_box(0)));
    let record_first = allocations() - before;
    // The first half fills the background writer's queue, whose buffers
    // are then reused: the second half is the steady state.
    let before = allocations();
    for i in 1..n / 2 {
        black_box(add(black_box(i), black_box(i * 7)));
    }
    let record_warmup = allocations() - before;
    let before = allocations();
    for i in n / 2..n {
        black_box(add(black_box(i), black_box(i * 7)));
    }
    let record_allocs = allocations() - before;
    let summary = session.finish().expect("recording written");
    assert_eq!(summary.calls, n);
    let our_bytes = std::fs::metadata(&ours).expect("recording").len();
    assert_eq!(our_bytes, summary.bytes);

    // The same sequence with about 100 ns of other work between calls, as
    // a program does: the background writer keeps up, and compresses every
    // chunk as well as it can (in the tight loop above it falls behind,
    // and compresses less rather than hold the recording thread back).
    let paced = dir.path("paced.replay");
    let session = Session::record(&paced).expect("record session");
    for i in 0..n {
        let mut work = i;
        for _ in 0..40 {
            work = black_box(work.wrapping_mul(31).wrapping_add(7));
        }
        black_box(add(black_box(i), black_box(i * 7)));
    }
    let paced_bytes = session.finish().expect("recording written").bytes;

    // Replay the same file: every result must come back.
    let session = Session::replay(&ours).expect("replay session");
    let before = allocations();
    assert_eq!(add(black_box(0), black_box(0)), 0);
    let replay_first = allocations() - before;
    let before = allocations();
    let mut sum = 0u64;
    for i in 1..n {
        let ret = add(black_box(i), black_box(i * 7));
        sum = sum.wrapping_add(ret ^ (i * 8));
    }
    let replay_allocs = allocations() - before;
    assert_eq!(sum, 0, "replay returned what was recorded");
    let summary = session.finish().expect("every recorded call replayed");
    assert_eq!(summary.calls, n);

    // The naive JSON log of the same sequence.
    let json = dir.path("calls.jsonl");
    let mut log = BufWriter::new(File::create(&json).expect("log"));
    let before = allocations();
    for i in 0..n {
        black_box(add_logged(&mut log, black_box(i), black_box(i * 7)));
    }
    log.flush().expect("log written");
    let json_allocs = allocations() - before;
    drop(log);
    let json_bytes = std::fs::metadata(&json).expect("log").len();
    let first_line = std::fs::read_to_string(&json)
        .ok()
        .and_then(|s| s.lines().nth(1_000).map(str::to_owned))
        .unwrap_or_default();

    let per = |x: u64| x as f64 / n as f64;
    println!("== bytes and heap allocations per call, {n} calls add(i, i * 7) ==");
    println!(
        "recording file  {our_bytes:>10} bytes  {:>6.2} bytes/call (tight loop; header, chunk headers and site definition included)",
        per(our_bytes)
    );
    println!(
        "JSON-line log   {json_bytes:>10} bytes  {:>6.2} bytes/call  e.g. {first_line}",
        per(json_bytes)
    );
    println!(
        "JSON / ours size ratio: {:.2}x",
        json_bytes as f64 / our_bytes as f64
    );
    println!(
        "recording, paced  {paced_bytes:>8} bytes  {:>6.2} bytes/call; JSON / ours: {:.2}x",
        per(paced_bytes),
        json_bytes as f64 / paced_bytes as f64
    );
    println!(
        "allocations: off {off_allocs} in {n} calls; record {record_first} on the first call \
         (site definition), {record_warmup} in the next {} (the writer's queue filling), \
         {record_allocs} in the last {}; replay {replay_first} on the first call, \
         {replay_allocs} in the next {}; JSON log {json_allocs} in {n} calls",
        n / 2 - 1,
        n - n / 2,
        n - 1
    );
    println!();
    assert_eq!(off_allocs, 0, "off mode allocated");
    assert_eq!(record_allocs, 0, "record mode allocated per call");
}

/// Calls per round of `compare_to_the_limit`.
const LIMIT_CALLS: u64 = 1_000_000;

/// Nanoseconds per call of `calls` iterations of `f`.
fn per_call(calls: u64, f: impl FnOnce()) -> f64 {
    let start = std::time::Instant::now();
    f();
    start.elapsed().as_nanos() as f64 / calls as f64
}

// The timed loops of `compare_to_the_limit`, one function each and never
// inlined, so that callgrind counts each one's instructions alone:
// `callgrind_annotate --inclusive=yes` lists them as `calls::loop_*`.

#[inline(never)]
fn loop_record(n: u64) {
    for i in 0..n {
        black_box(add(black_box(i), black_box(i * 7)));
    }
}

#[inline(never)]
fn loop_minimal_record(recorder: &mut minimal::Recorder, n: u64) {
    for i in 0..n {
        black_box(recorder.add(black_box(i), black_box(i * 7)));
    }
}

#[inline(never)]
fn loop_replay(n: u64) {
    for i in 0..n {
        black_box(add(black_box(i), black_box(i * 7)));
    }
}

#[inline(never)]
fn loop_minimal_replay(replayer: &mut minimal::Replayer, n: u64) {
    for i in 0..n {
        black_box(replayer.add(black_box(i), black_box(i * 7)));
    }
}

#[inline(never)]
fn loop_json(log: &mut impl Write, n: u64) {
    for i in 0..n {
        black_box(add_logged(log, black_box(i), black_box(i * 7)));
    }
}

/// Our record and replay against the minimal ones, and the JSON log
/// against our record: each timed over `LIMIT_CALLS` calls of
/// `add(i, i * 7)`, the rounds interleaved, the best of each kept.
/// `CALLS_ROUNDS` sets the rounds (default 5; 1 under callgrind).
fn compare_to_the_limit() {
    let dir = TempDir::new("limit");
    let n = LIMIT_CALLS;
    let rounds: usize = std::env::var("CALLS_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    let ours = dir.path("ours.replay");
    let least = dir.path("least.bin");
    let mut best = [f64::INFINITY; 6];
    for _ in 0..rounds {
        let session = Session::record(&ours).expect("record session");
        let record = per_call(n, || loop_record(n));
        session.finish().expect("recording written");

        let mut recorder = minimal::Recorder::create(&least);
        let minimal_record = per_call(n, || loop_minimal_record(&mut recorder, n));
        recorder.finish();

        // Opening validates every chunk and event of the file first.
        let mut session = None;
        let open = per_call(n, || {
            session = Some(Session::replay(&ours).expect("replay session"))
        });
        let replay = per_call(n, || loop_replay(n));
        session
            .expect("opened")
            .finish()
            .expect("every call replayed");

        let mut replayer = minimal::Replayer::open(&least);
        let minimal_replay = per_call(n, || loop_minimal_replay(&mut replayer, n));
        assert!(replayer.done(), "every minimal call replayed");

        let mut log = BufWriter::new(File::create(dir.path("log.jsonl")).expect("log"));
        let json = per_call(n, || loop_json(&mut log, n));
        log.flush().expect("log written");

        for (best, now) in
            best.iter_mut()
                .zip([record, minimal_record, replay, minimal_replay, json, open])
        {
            *best = best.min(now);
        }
    }
    let [record, minimal_record, replay, minimal_replay, json, open] = best;
    println!("== against the physical limit, {n} calls add(i, i * 7), best of {rounds} ==");
    println!(
        "record  {record:>6.2} ns/call  minimal {minimal_record:>6.2}  ratio {:.2}x",
        record / minimal_record
    );
    println!(
        "replay  {replay:>6.2} ns/call  minimal {minimal_replay:>6.2}  ratio {:.2}x",
        replay / minimal_replay
    );
    println!(
        "JSON log {json:>6.2} ns/call: {:.2}x our record",
        json / record
    );
    println!("replay / record: {:.2}x", replay / record);
    println!("open (validating every chunk) {open:>6.2} ns per recorded call");
    println!();
}

fn main() {
    // `CALLS_LIMIT_ONLY=1`: only the comparison, as callgrind runs it.
    if std::env::var_os("CALLS_LIMIT_ONLY").is_some() {
        compare_to_the_limit();
        return;
    }
    check_sizes_and_allocations();
    compare_to_the_limit();
    divan::main();
}

/// Case 1: The raw body.
#[divan::bench(sample_count = SAMPLES, sample_size = SAMPLE_SIZE)]
fn raw(bencher: Bencher) {
    let mut i = 0u64;
    bencher.bench_local(|| {
        i += 1;
        add_raw(black_box(i), black_box(i * 7))
    });
}

/// Case 2: The wrapper without a session.
#[divan::bench(sample_count = SAMPLES, sample_size = SAMPLE_SIZE)]
fn off(bencher: Bencher) {
    let mut i = 0u64;
    bencher.bench_local(|| {
        i += 1;
        add(black_box(i), black_box(i * 7))
    });
}

/// Case 1': The raw body, not inlined.
#[divan::bench(sample_count = SAMPLES, sample_size = SAMPLE_SIZE)]
fn raw_noinline(bencher: Bencher) {
    let mut i = 0u64;
    bencher.bench_local(|| {
        i += 1;
        add_raw_noinline(black_box(i), black_box(i * 7))
    });
}

/// Case 2': The wrapper without a session, not inlined.
#[divan::bench(sample_count = SAMPLES, sample_size = SAMPLE_SIZE)]
fn off_noinline(bencher: Bencher) {
    let mut i = 0u64;
    bencher.bench_local(|| {
        i += 1;
        add_noinline(black_box(i), black_box(i * 7))
    });
}

/// Case 3: The wrapper recording to a file: one session for all samples, on this
/// (divan's only) thread.
#[divan::bench(sample_count = SAMPLES, sample_size = SAMPLE_SIZE)]
fn record(bencher: Bencher) {
    let dir = TempDir::new("record");
    let session = Session::record(dir.path("bench.replay")).expect("record session");
    // The first call defines the site; keep it out of the samples.
    add(0, 0);
    let mut i = 0u64;
    bencher.bench_local(|| {
        i += 1;
        add(black_box(i), black_box(i * 7))
    });
    let summary = session.finish().expect("recording written");
    // Every timed call was recorded, so the session was active where they ran.
    assert_eq!(summary.calls, i + 1);
}

/// Case 3': As case 3, but recording to `/dev/null`: the same encoding and
/// chunking, with writes that cost next to nothing. The difference from
/// case 3 is what the file writes cost.
#[cfg(unix)]
#[divan::bench(sample_count = SAMPLES, sample_size = SAMPLE_SIZE)]
fn record_devnull(bencher: Bencher) {
    let session = Session::record("/dev/null").expect("record session");
    add(0, 0);
    let mut i = 0u64;
    bencher.bench_local(|| {
        i += 1;
        add(black_box(i), black_box(i * 7))
    });
    let summary = session.finish().expect("recording written");
    assert_eq!(summary.calls, i + 1);
}

/// Case 4: The wrapper replaying: `ITERS + 1` calls are recorded first (untimed),
/// then each iteration replays the next one, whose recorded arguments must
/// equal the actual ones or the replay panics.
#[divan::bench(sample_count = SAMPLES, sample_size = SAMPLE_SIZE)]
fn replay(bencher: Bencher) {
    let dir = TempDir::new("replay");
    let path = dir.path("bench.replay");
    record_sequence(&path, ITERS + 1);
    let session = Session::replay(&path).expect("replay session");
    assert_eq!(add(0, 0), 0);
    let mut i = 0u64;
    bencher.bench_local(|| {
        i += 1;
        add(black_box(i), black_box(i * 7))
    });
    match session.finish() {
        Ok(summary) => assert_eq!(summary.calls, i + 1),
        // `cargo test --benches` runs each benchmark once.
        Err(Error::Unconsumed { call, .. }) if i < ITERS => assert_eq!(call, i + 2),
        Err(e) => panic!("replay failed: {e}"),
    }
}

/// Case 4': The minimal hand-written recorder (`minimal/mod.rs`): the
/// physical limit of case 3.
#[divan::bench(sample_count = SAMPLES, sample_size = SAMPLE_SIZE)]
fn minimal_record(bencher: Bencher) {
    let dir = TempDir::new("minimal-record");
    let mut recorder = minimal::Recorder::create(&dir.path("bench.bin"));
    let mut i = 0u64;
    bencher.bench_local(|| {
        i += 1;
        recorder.add(black_box(i), black_box(i * 7))
    });
    recorder.finish();
}

/// Case 4'': The minimal hand-written replayer: the physical limit of case 4.
#[divan::bench(sample_count = SAMPLES, sample_size = SAMPLE_SIZE)]
fn minimal_replay(bencher: Bencher) {
    let dir = TempDir::new("minimal-replay");
    let path = dir.path("bench.bin");
    let mut recorder = minimal::Recorder::create(&path);
    for i in 1..=ITERS {
        recorder.add(i, i * 7);
    }
    recorder.finish();
    let mut replayer = minimal::Replayer::open(&path);
    let mut i = 0u64;
    bencher.bench_local(|| {
        i += 1;
        replayer.add(black_box(i), black_box(i * 7))
    });
}

/// Case 5: A naive recorder: one JSON line per call into a `BufWriter<File>`
/// (default 8 KiB buffer).
#[divan::bench(sample_count = SAMPLES, sample_size = SAMPLE_SIZE)]
fn json_log(bencher: Bencher) {
    let dir = TempDir::new("json");
    let mut log = BufWriter::new(File::create(dir.path("bench.jsonl")).expect("log"));
    let mut i = 0u64;
    bencher.bench_local(|| {
        i += 1;
        add_logged(&mut log, black_box(i), black_box(i * 7))
    });
    log.flush().expect("log written");
}

/// Case 5': The same with a 64 KiB buffer, the size of our chunks: the I/O is
/// batched alike and only the encoding differs.
#[divan::bench(sample_count = SAMPLES, sample_size = SAMPLE_SIZE)]
fn json_log_64k(bencher: Bencher) {
    let dir = TempDir::new("json64k");
    let file = File::create(dir.path("bench.jsonl")).expect("log");
    let mut log = BufWriter::with_capacity(64 * 1024, file);
    let mut i = 0u64;
    bencher.bench_local(|| {
        i += 1;
        add_logged(&mut log, black_box(i), black_box(i * 7))
    });
    log.flush().expect("log written");
}
