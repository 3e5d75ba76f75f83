//! Soak test of thread replay: records a program of 16 threads that meet
//! through a `Mutex`, an `RwLock` and channels (a ring of channels between
//! the workers, and a `select` in the main thread over two more) under CPU
//! load, replays it in a fresh process, and compares what the two runs
//! observed; N times, each time a new recording. It reports how many
//! replays reproduced the recorded run exactly (goal: all of them).
//!
//! ```text
//! cargo run --release -p replay-tests --example soak            # 1000 rounds
//! cargo run --release -p replay-tests --example soak -- 20      # or SOAK_ROUNDS=20
//! ```
//!
//! Each round runs this executable twice, as a child process: once with
//! `--child record <path>`, once with `--child replay <path>`. A child
//! prints what the program observed (the order of the lock's opens, the
//! values read through the `RwLock`, the messages each thread received and
//! in which order, the `select`'s branches); the round reproduced when the
//! replay exits successfully and prints the same text. The workers' values
//! come from a real C call (`rt_now_nanos`, recorded), and their timing
//! from an *unrecorded* clock, so every run, record or replay, is scheduled
//! differently; `SOAK_LOAD` busy threads (default 4; unrecorded) keep the
//! machine's cores loaded meanwhile. A failed round's recording and the
//! outputs are kept in the scratch directory, whose path is printed.

use std::process::{Command, ExitCode};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use replay_runtime::sync::{Mutex, RwLock, mpsc};
use replay_runtime::{Session, thread};
use replay_tests::rt_now_nanos;

/// Worker threads; with the main thread, the program has 17.
const THREADS: usize = 16;
/// Steps each worker takes.
const STEPS: usize = 24;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [flag, mode, path] if flag == "--child" => child(mode, path),
        [] => parent(setting("SOAK_ROUNDS", 1000)),
        [rounds] => match rounds.parse() {
            Ok(rounds) => parent(rounds),
            Err(_) => usage(),
        },
        _ => usage(),
    }
}

fn usage() -> ExitCode {
    eprintln!("usage: soak [rounds]   (or SOAK_ROUNDS; SOAK_LOAD busy threads, default 4)");
    ExitCode::FAILURE
}

/// An unsigned setting from the environment, or `default`.
fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// Records and replays `rounds` times, each in child processes, and
/// reports how many replays reproduced the recorded run.
fn parent(rounds: usize) -> ExitCode {
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            eprintln!("soak: cannot find this executable: {e}");
            return ExitCode::FAILURE;
        }
    };
    let dir = std::env::temp_dir().join(format!("replay-soak-{}", std::process::id()));
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("soak: cannot create {}: {e}", dir.display());
        return ExitCode::FAILURE;
    }
    let started = Instant::now();
    let (mut reproduced, mut bytes) = (0usize, 0u64);
    for round in 0..rounds {
        let path = dir.join(format!("round-{round}.replay"));
        let recorded = run(&exe, "record", &path);
        let Ok(recorded) = recorded else {
            // Not a replay failure: the recording itself could not be made.
            eprintln!("round {round}: recording failed: {}", recorded.unwrap_err());
            return ExitCode::FAILURE;
        };
        bytes += std::fs::metadata(&path).map_or(0, |m| m.len());
        match run(&exe, "replay", &path) {
            Ok(replayed) if replayed == recorded => {
                reproduced += 1;
                let _ = std::fs::remove_file(&path);
            }
            outcome => {
                let why = match outcome {
                    Ok(_) => "the replay observed something else".to_owned(),
                    Err(e) => e,
                };
                eprintln!(
                    "round {round}: NOT reproduced ({why}); kept {}",
                    path.display()
                );
                let _ = std::fs::write(path.with_extension("recorded.txt"), &recorded);
                if let Ok(replayed) = run(&exe, "replay", &path) {
                    let _ = std::fs::write(path.with_extension("replayed.txt"), replayed);
                }
            }
        }
        if (round + 1) % 50 == 0 {
            eprintln!(
                "{}/{} reproduced after {:.0?}",
                reproduced,
                round + 1,
                started.elapsed()
            );
        }
    }
    println!(
        "soak: {reproduced}/{rounds} replays reproduced the recorded run \
         ({THREADS} threads x {STEPS} steps, {} busy threads, {:.1?}, {} bytes recorded per round on average); \
         scratch: {}",
        setting("SOAK_LOAD", 4),
        started.elapsed(),
        bytes / rounds.max(1) as u64,
        dir.display()
    );
    if reproduced == rounds {
        let _ = std::fs::remove_dir(&dir);
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Runs this executable as a child in `mode` on `path`; its output, or why
/// it failed.
fn run(exe: &std::path::Path, mode: &str, path: &std::path::Path) -> Result<String, String> {
    let output = Command::new(exe)
        .arg("--child")
        .arg(mode)
        .arg(path)
        .output()
        .map_err(|e| format!("cannot start {}: {e}", exe.display()))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        let stderr = String::from_utf8_lossy(&output.stderr);
        Err(format!(
            "{mode} exited with {}: {}",
            output.status,
            stderr.lines().take(12).collect::<Vec<_>>().join("\n  ")
        ))
    }
}

/// One run of the program under a session, with busy threads alongside;
/// prints what it observed.
fn child(mode: &str, path: &str) -> ExitCode {
    let session = match mode {
        "record" => Session::record(path),
        "replay" => Session::replay(path),
        _ => return usage(),
    };
    let session = match session {
        Ok(session) => session,
        Err(e) => {
            eprintln!("soak: {e}");
            return ExitCode::FAILURE;
        }
    };
    let stop = Arc::new(AtomicBool::new(false));
    let load: Vec<_> = (0..setting("SOAK_LOAD", 4))
        .map(|_| {
            let stop = Arc::clone(&stop);
            // A std thread: no session, nothing recorded; it only competes
            // for the cores.
            std::thread::spawn(move || {
                let mut x = 1u64;
                while !stop.load(Ordering::Relaxed) {
                    x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                    std::hint::black_box(x);
                }
            })
        })
        .collect();
    let observed = program();
    stop.store(true, Ordering::Relaxed);
    load.into_iter().for_each(|t| {
        let _ = t.join();
    });
    match session.finish() {
        Ok(_) => {
            print!("{observed}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("soak: {e}");
            ExitCode::FAILURE
        }
    }
}

/// What a worker sends the main thread.
enum Note {
    /// A value the worker read from the clock, at a step.
    Value(usize, usize, u64),
    /// The worker is done.
    Done(usize),
}

/// The program: 16 workers take a lock in turns, write and read a shared
/// table, pass messages around a ring and report to the main thread. The
/// text returned says in which order all of that happened.
fn program() -> String {
    let log = Arc::new(Mutex::new(Vec::new()));
    let table = Arc::new(RwLock::new(vec![0u64; THREADS]));
    let (ring_tx, ring_rx): (Vec<_>, Vec<_>) = (0..THREADS).map(|_| mpsc::channel()).unzip();
    let (values_tx, values_rx) = mpsc::channel();
    let (done_tx, done_rx) = mpsc::sync_channel(4);

    let mut ring_rx = ring_rx.into_iter().map(Some).collect::<Vec<_>>();
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let (log, table) = (Arc::clone(&log), Arc::clone(&table));
            let next = ring_tx[(t + 1) % THREADS].clone();
            let from_left = ring_rx[t].take();
            let (values_tx, done_tx) = (values_tx.clone(), done_tx.clone());
            thread::spawn(move || {
                let Some(from_left) = from_left else {
                    return String::from("no receiver");
                };
                let mut jitter = Jitter::new(t);
                let (mut sums, mut received) = (Vec::new(), Vec::new());
                for step in 0..STEPS {
                    jitter.pause();
                    let value = rt_now_nanos();
                    log.lock().unwrap_or_else(PoisonError::into_inner).push((
                        t,
                        step,
                        value % 1000,
                    ));
                    jitter.pause();
                    if step % 4 == t % 4 {
                        table.write().unwrap_or_else(PoisonError::into_inner)[t] = value;
                    } else {
                        let table = table.read().unwrap_or_else(PoisonError::into_inner);
                        sums.push(table.iter().fold(0u64, |a, v| a.wrapping_add(*v)) % 100_000);
                    }
                    let _ = next.send((t, step));
                    if step % 3 == 0 {
                        let _ = values_tx.send(Note::Value(t, step, value % 1000));
                    }
                    // Whether the neighbour's message is there yet depends
                    // on the schedule: recorded.
                    match from_left.try_recv() {
                        Ok(message) => received.push(Some(message)),
                        Err(_) => received.push(None),
                    }
                }
                // The rest of the neighbour's messages.
                let got = received.iter().flatten().count();
                for _ in got..STEPS {
                    if let Ok(message) = from_left.recv() {
                        received.push(Some(message));
                    }
                }
                let _ = done_tx.send(Note::Done(t));
                format!("sums {sums:?}\n  received {received:?}")
            })
        })
        .collect();
    drop((ring_tx, values_tx, done_tx));

    let mut out = String::new();
    let mut branches = Vec::new();
    loop {
        match mpsc::select(&[&values_rx, &done_rx]) {
            (branch, Ok(Note::Value(t, step, value))) => {
                branches.push(format!("{branch}:{t}.{step}={value}"));
            }
            (branch, Ok(Note::Done(t))) => branches.push(format!("{branch}:done {t}")),
            (_, Err(_)) => break,
        }
    }
    for (t, worker) in workers.into_iter().enumerate() {
        match worker.join() {
            Ok(text) => out.push_str(&format!("worker {t}: {text}\n")),
            Err(_) => out.push_str(&format!("worker {t} panicked\n")),
        }
    }
    out.push_str(&format!("select {}\n", branches.join(" ")));
    let log = log.lock().unwrap_or_else(PoisonError::into_inner);
    out.push_str(&format!("lock order {:?}\n", *log));
    let table = table.read().unwrap_or_else(PoisonError::into_inner);
    out.push_str(&format!("table {:?}\n", *table));
    out
}

/// Timing that differs in every run, from an unrecorded clock: replay must
/// reproduce the recorded order however the threads are scheduled.
struct Jitter(u64);

impl Jitter {
    fn new(t: usize) -> Jitter {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(1, |d| d.subsec_nanos());
        Jitter(u64::from(nanos) ^ ((t as u64 + 1) << 32) | 1)
    }

    /// Now and then yields, spins or sleeps a few microseconds.
    fn pause(&mut self) {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        match self.0 % 8 {
            0 => std::thread::yield_now(),
            1 => std::thread::sleep(Duration::from_micros(self.0 % 50)),
            2 | 3 => {
                for i in 0..self.0 % 2000 {
                    std::hint::black_box(i);
                }
            }
            _ => {}
        }
    }
}
