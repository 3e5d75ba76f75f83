//! Mutex and channel operations: std against ours without a session,
//! recording and replaying, with 1, 2 and 8 threads.
//!
//! ```text
//! cargo bench -p replay-runtime --bench sync
//! ```
//!
//! Each case runs the same total number of operations split over the
//! threads, five times; the table shows the median time per operation and
//! its ratio to std measured in the same run. Sessions follow threads
//! spawned by `replay_runtime::thread`, so this harness times whole runs
//! instead of divan's per-thread loops.

use std::sync::Arc;
use std::time::{Duration, Instant};

use replay_runtime::sync::{Mutex, mpsc};
use replay_runtime::{Session, thread};

const OPS: u64 = 200_000;
const RUNS: usize = 5;

fn main() {
    let dir = std::env::temp_dir().join(format!("replay-bench-sync-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    println!(
        "{:<28} {:>8} {:>12} {:>10}",
        "case", "threads", "ns/op", "vs std"
    );
    for threads in [1, 2, 8] {
        report("mutex lock+unlock", threads, |mode| {
            mutex_run(mode, threads, &dir)
        });
        report("channel send+recv", threads, |mode| {
            channel_run(mode, threads, &dir)
        });
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Std,
    Off,
    Record,
    Replay,
}

fn report(name: &str, threads: u64, run: impl Fn(Mode) -> Duration) {
    let median = |mode| {
        let mut times: Vec<_> = (0..RUNS).map(|_| run(mode)).collect();
        times.sort();
        times[RUNS / 2].as_nanos() as f64 / OPS as f64
    };
    let std = median(Mode::Std);
    // Replay needs the recording: record once first.
    run(Mode::Record);
    for (label, mode) in [
        ("std", Mode::Std),
        ("off", Mode::Off),
        ("record", Mode::Record),
        ("replay", Mode::Replay),
    ] {
        let ns = if mode == Mode::Std { std } else { median(mode) };
        println!(
            "{:<28} {threads:>8} {ns:>12.1} {:>9.2}x",
            format!("{name}, {label}"),
            ns / std
        );
    }
}

/// Runs `work` under the session `mode` asks for, and times it.
fn timed(mode: Mode, recording: &std::path::Path, work: impl FnOnce()) -> Duration {
    let session = match mode {
        Mode::Record => Some(Session::record(recording).expect("record")),
        Mode::Replay => Some(Session::replay(recording).expect("replay")),
        Mode::Std | Mode::Off => None,
    };
    let started = Instant::now();
    work();
    if let Some(session) = session {
        session.finish().expect("a clean session");
    }
    started.elapsed()
}

fn mutex_run(mode: Mode, threads: u64, dir: &std::path::Path) -> Duration {
    let per_thread = OPS / threads;
    let recording = dir.join(format!("mutex-{threads}.replay"));
    timed(mode, &recording, || {
        if mode == Mode::Std {
            let counter = Arc::new(std::sync::Mutex::new(0u64));
            let workers: Vec<_> = (0..threads)
                .map(|_| {
                    let counter = counter.clone();
                    std::thread::spawn(move || {
                        for _ in 0..per_thread {
                            *counter.lock().expect("lock") += 1;
                        }
                    })
                })
                .collect();
            workers.into_iter().for_each(|w| w.join().expect("join"));
        } else {
            let counter = Arc::new(Mutex::new(0u64));
            let workers: Vec<_> = (0..threads)
                .map(|_| {
                    let counter = counter.clone();
                    thread::spawn(move || {
                        for _ in 0..per_thread {
                            *counter.lock().expect("lock") += 1;
                        }
                    })
                })
                .collect();
            workers.into_iter().for_each(|w| w.join().expect("join"));
        }
    })
}

fn channel_run(mode: Mode, threads: u64, dir: &std::path::Path) -> Duration {
    let per_thread = OPS / threads;
    let recording = dir.join(format!("channel-{threads}.replay"));
    timed(mode, &recording, || {
        if mode == Mode::Std {
            let (tx, rx) = std::sync::mpsc::channel();
            let senders: Vec<_> = (0..threads)
                .map(|t| {
                    let tx = tx.clone();
                    std::thread::spawn(move || {
                        (0..per_thread).for_each(|i| tx.send((t, i)).expect("send"))
                    })
                })
                .collect();
            drop(tx);
            assert_eq!(rx.iter().count() as u64, per_thread * threads);
            senders.into_iter().for_each(|s| s.join().expect("join"));
        } else {
            let (tx, rx) = mpsc::channel();
            let senders: Vec<_> = (0..threads)
                .map(|t| {
                    let tx = tx.clone();
                    thread::spawn(move || {
                        (0..per_thread).for_each(|i| tx.send((t, i)).expect("send"))
                    })
                })
                .collect();
            drop(tx);
            assert_eq!(rx.iter().count() as u64, per_thread * threads);
            senders.into_iter().for_each(|s| s.join().expect("join"));
        }
    })
}
