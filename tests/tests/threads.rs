//! Threads, locks and channels: recorded with random timing, replayed with
//! none or other timing, always in the recorded order.

use std::time::Duration;

use replay_runtime::sync::mpsc;
use replay_runtime::sync::{Mutex, RwLock};
use replay_runtime::{Session, thread};
use replay_tests::{rt_now_nanos, scratch_dir};

/// Asks the (recorded) C clock, then sleeps: as long as it says while
/// recording, and in replay whatever `jitter` says, so that replays run
/// with other timing than the recording had.
fn pause(jitter: Jitter, k: u64) {
    let clock = rt_now_nanos();
    let micros = match jitter {
        Jitter::Recorded => clock % 300,
        Jitter::None => return,
        Jitter::Other(seed) => (seed * 7919 + k * 31) % 500,
    };
    std::thread::sleep(Duration::from_micros(micros));
}

#[derive(Clone, Copy, Debug)]
enum Jitter {
    /// Random, from a recorded boundary call.
    Recorded,
    /// No sleeps at all.
    None,
    /// Other sleeps than recorded.
    Other(u64),
}

const THREADS: usize = 4;
const STEPS: usize = 25;

/// Threads take a lock in turns and send to one receiver; the order in
/// which things happened is the result.
/// The lock log, the messages in the order received, the values read.
type Observed = (Vec<(usize, usize)>, Vec<(usize, usize)>, Vec<u64>);

fn program(jitter: Jitter) -> Observed {
    let log = std::sync::Arc::new(Mutex::new(Vec::new()));
    let seen = std::sync::Arc::new(RwLock::new(0u64));
    let (tx, rx) = mpsc::channel();
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let (log, seen, tx) = (log.clone(), seen.clone(), tx.clone());
            thread::spawn(move || {
                let mut reads = Vec::new();
                for step in 0..STEPS {
                    pause(jitter, (t * STEPS + step) as u64);
                    log.lock().expect("lock").push((t, step));
                    *seen.write().expect("write") += 1;
                    reads.push(*seen.read().expect("read"));
                    tx.send((t, step)).expect("send");
                }
                reads
            })
        })
        .collect();
    drop(tx);
    let received: Vec<_> = rx.iter().collect();
    let reads = workers
        .into_iter()
        .flat_map(|w| w.join().expect("join"))
        .collect();
    let log = std::sync::Arc::try_unwrap(log)
        .expect("workers are done")
        .into_inner()
        .expect("lock");
    (log, received, reads)
}

#[test]
fn replays_reproduce_lock_and_message_order_with_any_timing() {
    let dir = scratch_dir("threads-order");
    let recording = dir.join("threads.replay");
    let session = Session::record(&recording).expect("start recording");
    let recorded = program(Jitter::Recorded);
    session.finish().expect("finish recording");
    assert_eq!(recorded.0.len(), THREADS * STEPS);
    assert_eq!(recorded.1.len(), THREADS * STEPS);

    for (i, jitter) in [
        Jitter::None,
        Jitter::Other(1),
        Jitter::None,
        Jitter::Other(2),
        Jitter::None,
    ]
    .into_iter()
    .enumerate()
    {
        let session = Session::replay(&recording).expect("start replaying");
        let replayed = program(jitter);
        session
            .finish()
            .unwrap_or_else(|e| panic!("replay {i} ({jitter:?}): {e}"));
        assert_eq!(
            replayed.0, recorded.0,
            "lock order, replay {i} ({jitter:?})"
        );
        assert_eq!(
            replayed.1, recorded.1,
            "message order, replay {i} ({jitter:?})"
        );
        assert_eq!(
            replayed.2, recorded.2,
            "values read, replay {i} ({jitter:?})"
        );
    }
}

#[test]
fn spawned_threads_replay_their_own_boundary_calls() {
    let dir = scratch_dir("threads-calls");
    let recording = dir.join("calls.replay");
    let run = || {
        let workers: Vec<_> = (0..3)
            .map(|_| thread::spawn(|| (0..5).map(|_| rt_now_nanos()).collect::<Vec<_>>()))
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("join"))
            .collect::<Vec<_>>()
    };
    let session = Session::record(&recording).expect("start recording");
    let recorded = run();
    session.finish().expect("finish recording");
    let session = Session::replay(&recording).expect("start replaying");
    assert_eq!(run(), recorded);
    session.finish().expect("replay consumed everything");
}

#[test]
fn empty_receives_and_timeouts_replay_as_recorded() {
    let dir = scratch_dir("threads-empty");
    let recording = dir.join("empty.replay");
    let run = |wait: bool| {
        let (tx, rx) = mpsc::channel::<u32>();
        let early = rx.try_recv().is_err();
        let timed_out = rx.recv_timeout(Duration::from_millis(1)).is_err();
        let sender = thread::spawn(move || tx.send(7).expect("send"));
        if wait {
            std::thread::sleep(Duration::from_millis(20));
        }
        let maybe = rx.try_recv().ok();
        sender.join().expect("join");
        let rest = rx.recv().ok();
        (early, timed_out, maybe, rest)
    };
    let session = Session::record(&recording).expect("start recording");
    let recorded = run(true);
    session.finish().expect("finish recording");
    assert_eq!(recorded, (true, true, Some(7), None));
    // Without the wait the message might not be there yet: replay says it is.
    let session = Session::replay(&recording).expect("start replaying");
    assert_eq!(run(false), recorded);
    session.finish().expect("replay consumed everything");
}

#[test]
fn select_replays_the_winning_branch() {
    let dir = scratch_dir("threads-select");
    let recording = dir.join("select.replay");
    let run = |jitter: Jitter| {
        let (fast_tx, fast) = mpsc::channel();
        let (slow_tx, slow) = mpsc::channel();
        let a = thread::spawn(move || {
            for i in 0..10 {
                pause(jitter, i);
                fast_tx.send(i).expect("send");
            }
        });
        let b = thread::spawn(move || {
            for i in 100..110 {
                pause(jitter, i);
                slow_tx.send(i).expect("send");
            }
        });
        let mut order = Vec::new();
        loop {
            match mpsc::select(&[&fast, &slow]) {
                (_, Err(_)) => break,
                (branch, Ok(value)) => order.push((branch, value)),
            }
        }
        a.join().expect("join");
        b.join().expect("join");
        order
    };
    let session = Session::record(&recording).expect("start recording");
    let recorded = run(Jitter::Recorded);
    session.finish().expect("finish recording");
    assert_eq!(recorded.len(), 20);
    for jitter in [Jitter::None, Jitter::Other(3)] {
        let session = Session::replay(&recording).expect("start replaying");
        assert_eq!(run(jitter), recorded, "{jitter:?}");
        session.finish().expect("replay consumed everything");
    }
}

#[test]
fn a_burst_from_one_sender_costs_constant_space() {
    let dir = scratch_dir("threads-burst");
    let size = |messages: u32| {
        let recording = dir.join(format!("burst-{messages}.replay"));
        let session = Session::record(&recording).expect("start recording");
        let (tx, rx) = mpsc::channel();
        let sender = thread::spawn(move || (0..messages).for_each(|i| tx.send(i).expect("send")));
        sender.join().expect("join");
        assert_eq!(rx.iter().count(), messages as usize);
        session.finish().expect("finish recording").bytes
    };
    let (small, large) = (size(10), size(100_000));
    assert!(
        large <= small + 4,
        "10 messages: {small} bytes; 100000: {large} bytes"
    );
}

#[test]
fn try_lock_failures_replay_as_recorded() {
    let dir = scratch_dir("threads-try-lock");
    let recording = dir.join("try.replay");
    let run = || {
        let lock = std::sync::Arc::new(Mutex::new(0));
        let held = lock.lock().expect("lock");
        let other = {
            let lock = lock.clone();
            thread::spawn(move || lock.try_lock().is_ok())
        };
        let got_it = other.join().expect("join");
        drop(held);
        (got_it, lock.try_lock().is_ok())
    };
    let session = Session::record(&recording).expect("start recording");
    let recorded = run();
    session.finish().expect("finish recording");
    assert_eq!(recorded, (false, true));
    let session = Session::replay(&recording).expect("start replaying");
    assert_eq!(run(), recorded);
    session.finish().expect("replay consumed everything");
}

#[test]
fn a_panic_while_holding_a_lock_poisons_it_as_std_and_replays_alike() {
    let dir = scratch_dir("threads-poison");
    let recording = dir.join("poison.replay");
    let run = || {
        let lock = std::sync::Arc::new(Mutex::new(1));
        let holder = {
            let lock = lock.clone();
            thread::spawn(move || {
                let _held = lock.lock().expect("lock");
                panic!("poisoning the lock on purpose");
            })
        };
        assert!(holder.join().is_err());
        let poisoned = lock.is_poisoned();
        let value = match lock.lock() {
            Ok(guard) => *guard,
            Err(poisoned) => *poisoned.into_inner() + 100,
        };
        (poisoned, value)
    };
    let session = Session::record(&recording).expect("start recording");
    let recorded = run();
    session.finish().expect("finish recording");
    assert_eq!(recorded, (true, 101));
    let session = Session::replay(&recording).expect("start replaying");
    assert_eq!(run(), recorded);
    session.finish().expect("replay consumed everything");
}
