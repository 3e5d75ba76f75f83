//! Lock and channel operations: std against ours without a session,
//! recording and replaying, with 1, 2 and 8 threads.
//!
//! ```text
//! cargo bench -p replay-runtime --bench sync
//! SYNC_CASES=mutex cargo bench -p replay-runtime --bench sync   # only cases containing "mutex"
//! SYNC_MODES=record cargo bench -p replay-runtime --bench sync  # std and record only (for perf)
//! ```
//!
//! Each case runs the same total number of operations split over the
//! threads, seven times; the table shows the fastest run's time per
//! operation (other processes on a shared machine only ever add time) and
//! its ratio to std measured in the same run. The time is that of the
//! work, from spawning the threads to joining them: starting and finishing
//! the session (reading or publishing the file) are costs per session, not
//! per operation, and stay outside. Sessions follow threads spawned by
//! `replay_runtime::thread`, so this harness times whole runs instead of
//! divan's per-thread loops.
//!
//! The cases:
//!
//! - `mutex, own lock`: each thread locks, increments and unlocks a mutex
//!   of its own (uncontended, the threads running at once);
//! - `rwlock write, own lock`, `rwlock read, own lock`: the same with an
//!   `RwLock`'s `write` and `read`;
//! - `mutex, shared lock`: all threads on one mutex (contended from two
//!   threads on: replay then hands the lock over where the recording did);
//! - `channel send+recv`: every thread sends to one receiver.

use std::sync::Arc;
use std::time::{Duration, Instant};

use replay_runtime::sync::{Mutex, RwLock, mpsc};
use replay_runtime::{Session, thread};

const OPS: u64 = 200_000;
const RUNS: usize = 7;

fn main() {
    let dir = std::env::temp_dir().join(format!("replay-bench-sync-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    let only = std::env::var("SYNC_CASES").unwrap_or_default();
    println!(
        "{:<32} {:>8} {:>12} {:>10}",
        "case", "threads", "ns/op", "vs std"
    );
    type Run = fn(Mode, u64, &std::path::Path) -> Duration;
    let cases: [(&str, Run); 5] = [
        ("mutex, own lock", |m, t, d| own_locks(m, t, d, Lock::Mutex)),
        ("rwlock write, own lock", |m, t, d| {
            own_locks(m, t, d, Lock::Write)
        }),
        ("rwlock read, own lock", |m, t, d| {
            own_locks(m, t, d, Lock::Read)
        }),
        ("mutex, shared lock", shared_mutex),
        ("channel send+recv", channel_run),
    ];
    for threads in [1, 2, 8] {
        for (name, run) in cases.iter().filter(|(name, _)| name.contains(&only)) {
            report(name, threads, |mode| run(mode, threads, &dir));
        }
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

#[derive(Clone, Copy, PartialEq)]
enum Lock {
    Mutex,
    Write,
    Read,
}

fn report(name: &str, threads: u64, run: impl Fn(Mode) -> Duration) {
    let modes = std::env::var("SYNC_MODES").unwrap_or_default();
    let fastest = |mode| {
        let time = (0..RUNS).map(|_| run(mode)).min().expect("runs");
        time.as_nanos() as f64 / OPS as f64
    };
    let std = fastest(Mode::Std);
    // Replay needs the recording: record once first.
    run(Mode::Record);
    for (label, mode) in [
        ("std", Mode::Std),
        ("off", Mode::Off),
        ("record", Mode::Record),
        ("replay", Mode::Replay),
    ] {
        if mode != Mode::Std && !label.contains(modes.as_str()) {
            continue;
        }
        let ns = if mode == Mode::Std {
            std
        } else {
            fastest(mode)
        };
        println!(
            "{:<32} {threads:>8} {ns:>12.1} {:>9.2}x",
            format!("{name}, {label}"),
            ns / std
        );
    }
}

/// Runs `work` under the session `mode` asks for, and times `work` alone.
fn timed(mode: Mode, recording: &std::path::Path, work: impl FnOnce()) -> Duration {
    let session = match mode {
        Mode::Record => Some(Session::record(recording).expect("record")),
        Mode::Replay => Some(Session::replay(recording).expect("replay")),
        Mode::Std | Mode::Off => None,
    };
    let started = Instant::now();
    work();
    let elapsed = started.elapsed();
    if let Some(session) = session {
        session.finish().expect("a clean session");
    }
    elapsed
}

/// Spawns `threads` threads running `work(t)` (std's threads for
/// `Mode::Std`, ours otherwise) and joins them.
fn on_threads(mode: Mode, threads: u64, work: impl Fn(u64) + Send + Sync + 'static) {
    let work = Arc::new(work);
    let run = |t| {
        let work = Arc::clone(&work);
        move || work(t)
    };
    if mode == Mode::Std {
        let workers: Vec<_> = (0..threads).map(|t| std::thread::spawn(run(t))).collect();
        workers.into_iter().for_each(|w| w.join().expect("join"));
    } else {
        let workers: Vec<_> = (0..threads).map(|t| thread::spawn(run(t))).collect();
        workers.into_iter().for_each(|w| w.join().expect("join"));
    }
}

/// Each thread opens a lock of its own, `OPS / threads` times.
fn own_locks(mode: Mode, threads: u64, dir: &std::path::Path, lock: Lock) -> Duration {
    let per_thread = OPS / threads;
    let name = match lock {
        Lock::Mutex => "own-mutex",
        Lock::Write => "own-write",
        Lock::Read => "own-read",
    };
    let recording = dir.join(format!("{name}-{threads}.replay"));
    timed(mode, &recording, || {
        on_threads(mode, threads, move |_| match (mode, lock) {
            (Mode::Std, Lock::Mutex) => {
                let counter = std::sync::Mutex::new(0u64);
                for _ in 0..per_thread {
                    *counter.lock().expect("lock") += 1;
                }
                std::hint::black_box(&counter);
            }
            (Mode::Std, Lock::Write) => {
                let counter = std::sync::RwLock::new(0u64);
                for _ in 0..per_thread {
                    *counter.write().expect("write") += 1;
                }
                std::hint::black_box(&counter);
            }
            (Mode::Std, Lock::Read) => {
                let counter = std::sync::RwLock::new(1u64);
                let mut sum = 0;
                for _ in 0..per_thread {
                    sum += *counter.read().expect("read");
                }
                std::hint::black_box(sum);
            }
            (_, Lock::Mutex) => {
                let counter = Mutex::new(0u64);
                for _ in 0..per_thread {
                    *counter.lock().expect("lock") += 1;
                }
                std::hint::black_box(&counter);
            }
            (_, Lock::Write) => {
                let counter = RwLock::new(0u64);
                for _ in 0..per_thread {
                    *counter.write().expect("write") += 1;
                }
                std::hint::black_box(&counter);
            }
            (_, Lock::Read) => {
                let counter = RwLock::new(1u64);
                let mut sum = 0;
                for _ in 0..per_thread {
                    sum += *counter.read().expect("read");
                }
                std::hint::black_box(sum);
            }
        })
    })
}

/// All threads lock one mutex.
fn shared_mutex(mode: Mode, threads: u64, dir: &std::path::Path) -> Duration {
    let per_thread = OPS / threads;
    let recording = dir.join(format!("shared-mutex-{threads}.replay"));
    timed(mode, &recording, || {
        if mode == Mode::Std {
            let counter = Arc::new(std::sync::Mutex::new(0u64));
            on_threads(mode, threads, move |_| {
                for _ in 0..per_thread {
                    *counter.lock().expect("lock") += 1;
                }
            });
        } else {
            let counter = Arc::new(Mutex::new(0u64));
            on_threads(mode, threads, move |_| {
                for _ in 0..per_thread {
                    *counter.lock().expect("lock") += 1;
                }
            });
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
