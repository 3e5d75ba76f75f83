//! Replays that cannot go on: two sessions on one lock, a thread that
//! opens one lock more than recorded, a thread the others wait for in
//! vain. Each is reported once, naming the thread most likely at fault and
//! its line, instead of every thread waiting out the stall limit.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Barrier, Once};

use replay_runtime::sync::{Mutex, mpsc};
use replay_runtime::{Session, thread};
use replay_tests::{assert_contains, catch_panic, panic_message, scratch_dir};

/// Sets a short stall limit, once, before any session of this binary
/// starts (sessions read it when they start): every test here calls it
/// first, so none reads the environment while it is written.
fn short_stall_limit() {
    static SET: Once = Once::new();
    // SAFETY: see above; no other thread of this binary reads the
    // environment while `SET` runs.
    SET.call_once(|| unsafe { std::env::set_var("REPLAY_STALL_TIMEOUT", "0.5") });
}

/// What each thread's replay ended with: the panic messages of the
/// threads that failed, the main thread's last.
fn failures<T>(workers: Vec<thread::JoinHandle<T>>, main: Result<(), String>) -> Vec<String> {
    let mut failed: Vec<String> = workers
        .into_iter()
        .filter_map(|w| w.join().err())
        .map(|payload| panic_message(&*payload))
        .collect();
    failed.extend(main.err());
    failed
}

/// Splits `failed` into the one full report (which must exist) and the
/// short ones, which must each say that `reporter`'s stall stopped them.
fn one_report(failed: &[String]) -> (&String, Vec<&String>) {
    let (full, short): (Vec<_>, Vec<_>) = failed.iter().partition(|m| m.contains("\n  expected: "));
    assert_eq!(full.len(), 1, "one report per stall: {failed:#?}");
    let reporter = full[0]
        .split(" on thread ")
        .nth(1)
        .and_then(|rest| rest.split(':').next())
        .expect("the report names its thread");
    for message in &short {
        assert_contains!(
            message,
            &format!("stopped by the stall reported on thread {reporter}")
        );
        assert!(message.lines().count() <= 3, "{message}");
    }
    (full[0], short)
}

/// The line of this file that `message` points to after `prefix`
/// (`<prefix>tests/tests/stalls.rs:<line>:<column>`): tests name the code
/// they expect there, which formatting cannot move.
fn source_line<'a>(message: &str, prefix: &str) -> &'a str {
    let line = message
        .split(&format!("{prefix}{}:", file!()))
        .nth(1)
        .and_then(|rest| rest.split(':').next())
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or_else(|| panic!("no `{prefix}{}:<line>` in {message}", file!()));
    include_str!("stalls.rs")
        .lines()
        .nth(line - 1)
        .unwrap_or_default()
}

const WORKERS: usize = 8;
const STEPS: usize = 10;
/// The worker that opens a lock once more in replay; it records into
/// stream 6 (the main thread is 0, workers 1 to 8).
const AT_FAULT: usize = 5;

/// Workers open `a`, then `b` inside it, and report to the main thread;
/// with `extra`, worker `AT_FAULT` opens `a` once more at step 3. Returns
/// what failed.
fn nested_locks(extra: bool) -> Vec<String> {
    let (a, b) = (Arc::new(Mutex::new(0u64)), Arc::new(Mutex::new(0u64)));
    let (tx, rx) = mpsc::channel();
    let workers: Vec<_> = (0..WORKERS)
        .map(|t| {
            let (a, b, tx) = (a.clone(), b.clone(), tx.clone());
            thread::spawn(move || {
                for step in 0..STEPS {
                    if extra && t == AT_FAULT && step == 3 {
                        // Unrecorded: takes this thread's next turn.
                        drop(a.lock().expect("lock"));
                    }
                    let a = a.lock().expect("lock");
                    *b.lock().expect("lock") += *a;
                    tx.send(t).expect("send");
                }
            })
        })
        .collect();
    drop(tx);
    let main = catch_unwind(AssertUnwindSafe(|| rx.iter().count()));
    let main = main.map(drop).map_err(|p| panic_message(&*p));
    failures(workers, main)
}

#[test]
fn a_lock_already_past_the_awaited_turn_is_reported_at_once_naming_the_thread_and_line() {
    short_stall_limit();
    let recording = scratch_dir("stalls-past").join("past.replay");
    let session = Session::record(&recording).expect("start recording");
    let failed = nested_locks(false);
    assert!(failed.is_empty(), "{failed:#?}");
    session.finish().expect("finish recording");

    let session = Session::replay(&recording).expect("start replaying");
    let failed = nested_locks(true);
    assert!(session.finish().is_err(), "the replay failed");
    let (report, short) = one_report(&failed);
    assert!(
        report.starts_with("replay diverged at call #1 on thread 6: the lock is already past"),
        "{report}"
    );
    let waits = "let a = a.lock()";
    assert_contains!(
        source_line(report, "most likely at fault: thread 6, at "),
        waits
    );
    assert_contains!(source_line(report, "\n  at "), waits);
    // At once: not after the stall limit.
    assert!(!report.contains("waited"), "{report}");
    // The main thread, stopped in `rx.iter().count()`, is reported at its
    // line, not inside `alloc`.
    let main = short.last().expect("the main thread stopped too");
    assert_contains!(main, "on thread 0: ");
    assert_contains!(
        source_line(main, "most likely at fault: thread 6 at "),
        waits
    );
    assert_contains!(source_line(main, "\n  at "), "rx.iter().count()");
}

/// Workers pass a token down a chain of channels, each opening `shared`
/// twice on its turn; the last reports to the main thread. With `extra`,
/// worker `AT_FAULT` first opens `unused`, a lock the recording never
/// opened. Returns what failed.
fn chain(extra: bool) -> Vec<String> {
    let (shared, unused) = (Arc::new(Mutex::new(0u64)), Arc::new(Mutex::new(0u64)));
    let (first_tx, mut prev_rx) = mpsc::channel::<u64>();
    drop(first_tx);
    let mut workers = Vec::new();
    for t in 0..WORKERS {
        let (tx, rx) = mpsc::channel::<u64>();
        let (shared, unused, from) = (shared.clone(), unused.clone(), prev_rx);
        workers.push(thread::spawn(move || {
            let token = if t == 0 {
                0
            } else {
                from.recv().expect("recv")
            };
            for _ in 0..2 {
                if extra && t == AT_FAULT {
                    // Unrecorded: its turn on `shared` is taken here.
                    drop(unused.lock().expect("lock"));
                }
                *shared.lock().expect("lock") += token;
            }
            tx.send(token + 1).expect("send");
        }));
        prev_rx = rx;
    }
    let main = catch_unwind(AssertUnwindSafe(|| prev_rx.recv().map(drop)));
    let main = main.map(drop).map_err(|p| panic_message(&*p));
    failures(workers, main)
}

#[test]
fn a_stall_is_reported_once_naming_the_thread_that_took_an_extra_lock_and_its_line() {
    short_stall_limit();
    let recording = scratch_dir("stalls-chain").join("chain.replay");
    let session = Session::record(&recording).expect("start recording");
    let failed = chain(false);
    assert!(failed.is_empty(), "{failed:#?}");
    session.finish().expect("finish recording");

    let session = Session::replay(&recording).expect("start replaying");
    let failed = chain(true);
    assert!(session.finish().is_err(), "the replay failed");
    let (report, short) = one_report(&failed);
    assert_contains!(report, "on thread 6: the replay stalled: it waited ");
    let extra = "drop(unused.lock()";
    assert_contains!(
        source_line(report, "most likely at fault: thread 6, at "),
        extra
    );
    assert_contains!(report, "what every waiting thread waits for:");
    assert_contains!(report, "thread 6: a lock to reach version 10");
    // The workers after it and the main thread wait for it, and are
    // stopped with a line each.
    assert_eq!(short.len(), failed.len() - 1);
    assert!(failed.len() >= 2, "{failed:#?}");
    for message in short {
        assert_contains!(
            source_line(message, "most likely at fault: thread 6 at "),
            extra
        );
    }
}

#[test]
fn a_receive_in_a_for_loop_over_the_receiver_is_reported_at_the_loop() {
    short_stall_limit();
    let recording = scratch_dir("stalls-into-iter").join("loop.replay");
    let program = |send: bool| {
        let (tx, rx) = mpsc::channel::<u32>();
        thread::spawn(move || {
            if send {
                tx.send(7).expect("the receiver is alive");
            }
        })
        .join()
        .expect("the sender ends");
        rx
    };
    let session = Session::record(&recording).expect("start recording");
    assert_eq!(program(true).into_iter().collect::<Vec<_>>(), [7]);
    session.finish().expect("finish recording");

    let session = Session::replay(&recording).expect("start replaying");
    let rx = program(false);
    let message = replay_tests::expect_panic("every sender is gone", || for _ in rx {});
    assert_contains!(message, "every sender of the channel is gone");
    assert_contains!(source_line(&message, "\n  at "), "for _ in rx");
    assert!(session.finish().is_err());
}

/// One lock for the whole test binary, as a library's global would be.
static GLOBAL: Mutex<u32> = Mutex::new(0);

#[test]
fn a_second_live_session_on_one_lock_panics_naming_the_problem_and_the_fix() {
    short_stall_limit();
    let dir = scratch_dir("stalls-two-sessions");
    let (opened, done) = (Arc::new(Barrier::new(2)), Arc::new(Barrier::new(2)));
    let first = {
        let (path, opened, done) = (dir.join("first.replay"), opened.clone(), done.clone());
        std::thread::spawn(move || {
            let session = Session::record(&path).expect("start the first session");
            *GLOBAL.lock().expect("lock") += 1;
            opened.wait(); // the second session opens the lock now
            done.wait();
            session.finish()
        })
    };
    let second = dir.join("second.replay");
    let session = Session::record(&second).expect("start the second session");
    opened.wait();
    let line = line!() + 1;
    let (message, at) = catch_panic(|| GLOBAL.lock().map(|g| *g));
    done.wait();
    first
        .join()
        .expect("the first session's thread")
        .expect("the first session records");
    assert_contains!(message, "in use by another session that is still live");
    assert_contains!(message, &format!("first opened it at {}", file!()));
    assert_contains!(message, "Give each session (each test) its own lock");
    assert_contains!(message, "--test-threads=1");
    assert!(at.starts_with(&format!("{}:{line}:", file!())), "{at}");

    // Once the first session is over, the lock counts for this one, from
    // zero, and what it records replays.
    *GLOBAL.lock().expect("lock") += 1;
    session.finish().expect("finish recording");
    let session = Session::replay(&second).expect("start replaying");
    *GLOBAL.lock().expect("lock") += 1;
    session
        .finish()
        .expect("the replay takes the lock as recorded");
}
