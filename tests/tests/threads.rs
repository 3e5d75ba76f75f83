//! Threads, locks and channels: recorded with random timing, replayed with
//! none or other timing, always in the recorded order.

use std::time::Duration;

use replay_runtime::sync::mpsc;
use replay_runtime::sync::{Mutex, RwLock};
use replay_runtime::{Mode, Session, thread};
use replay_tests::{
    assert_contains, expect_panic, panic_message, record_then_replay, rt_now_nanos, scratch_dir,
};

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
    record_then_replay(&recording, |_| run());
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
        // Recording waits until the message is there; replay does not,
        // and must still find it.
        let sender = if wait {
            sender.join().expect("join");
            None
        } else {
            Some(sender)
        };
        let maybe = rx.try_recv().ok();
        if let Some(sender) = sender {
            sender.join().expect("join");
        }
        let rest = rx.recv().ok();
        (early, timed_out, maybe, rest)
    };
    // Without the wait the message might not be there yet: replay says it is.
    let recorded = record_then_replay(&recording, |mode| run(mode == Mode::Record));
    assert_eq!(recorded, (true, true, Some(7), None));
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
    assert_eq!(record_then_replay(&recording, |_| run()), (false, true));
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
    assert_eq!(record_then_replay(&recording, |_| run()), (true, 101));
}

static COUNTER: Mutex<u32> = Mutex::new(0);

#[test]
fn a_static_lock_counts_afresh_in_each_session() {
    let dir = scratch_dir("threads-static");
    let recording = dir.join("static.replay");
    let run = || {
        for _ in 0..2 {
            *COUNTER.lock().expect("lock") += 1;
        }
    };
    // The replay must not wait for the versions the recording left.
    record_then_replay(&recording, |_| run());
}

/// B sends twice, A once and then takes a lock the receiver holds back:
/// with a bound of 1, replaying B's second send early must not block A.
fn bounded(recording: bool) -> Vec<&'static str> {
    let (tx, rx) = mpsc::sync_channel::<&'static str>(1);
    let lock = std::sync::Arc::new(Mutex::new(()));
    let to_b = tx.clone();
    let b = thread::spawn(move || {
        to_b.send("b1").expect("send");
        if recording {
            std::thread::sleep(Duration::from_millis(300));
        }
        to_b.send("b2").expect("send");
    });
    let (a_lock, to_a) = (lock.clone(), tx);
    let a = thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        to_a.send("a1").expect("send");
        drop(a_lock.lock().expect("lock"));
    });
    let mut got = vec![rx.recv().expect("recv")];
    std::thread::sleep(Duration::from_millis(150));
    drop(lock.lock().expect("lock"));
    got.push(rx.recv().expect("recv"));
    got.push(rx.recv().expect("recv"));
    a.join().expect("join");
    b.join().expect("join");
    got
}

#[test]
fn bounded_channels_do_not_block_replay_on_early_sends() {
    let dir = scratch_dir("threads-bounded");
    let recording = dir.join("bounded.replay");
    // Usually ["b1", "a1", "b2"], the order that could block replay; a
    // loaded machine may record another, which replay must match as well.
    let recorded = record_then_replay(&recording, |mode| bounded(mode == Mode::Record));
    assert_eq!(recorded.len(), 3);
}

#[test]
fn try_send_outcomes_replay_as_recorded() {
    let dir = scratch_dir("threads-try-send");
    let recording = dir.join("try-send.replay");
    let run = |recording: bool| {
        let (tx, rx) = mpsc::sync_channel::<u32>(1);
        let sender = thread::spawn(move || {
            let first = tx.try_send(1).is_ok();
            if recording {
                std::thread::sleep(Duration::from_millis(100));
            }
            let second = tx.try_send(2).is_ok();
            vec![first, second]
        });
        if !recording {
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = rx.recv().expect("recv");
        sender.join().expect("join")
    };
    record_then_replay(&recording, |mode| run(mode == Mode::Record));
}

/// Locks in its `Serialize`: part of the call, recorded in neither run.
struct LockingArgument(std::sync::Arc<Mutex<u32>>);

impl serde::Serialize for LockingArgument {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let value = *self.0.lock().expect("lock");
        s.serialize_u32(value)
    }
}

#[replay_runtime::deterministic]
fn report(value: &LockingArgument) -> u64 {
    rt_now_nanos() + u64::from(*value.0.lock().expect("lock"))
}

#[test]
fn locks_taken_while_encoding_a_call_are_part_of_it() {
    let dir = scratch_dir("threads-serialize");
    let recording = dir.join("serialize.replay");
    let run = || {
        let shared = LockingArgument(std::sync::Arc::new(Mutex::new(3)));
        let reported = report(&shared);
        *shared.0.lock().expect("lock") += 1;
        reported
    };
    record_then_replay(&recording, |_| run());
}

#[test]
fn a_recorded_empty_receive_does_not_fit_a_blocking_receive() {
    let dir = scratch_dir("threads-empty-fit");
    let recording = dir.join("fit.replay");
    let (_tx, rx) = mpsc::channel::<u32>();
    let session = Session::record(&recording).expect("start recording");
    assert!(rx.try_recv().is_err());
    session.finish().expect("finish recording");
    let session = Session::replay(&recording).expect("start replaying");
    let message = expect_panic("must diverge", || rx.recv());
    assert_contains!(message, "a receive that got no message (Empty)");
    assert_contains!(message, "actual:   a recv");
    assert!(session.finish().is_err());
}

/// Records a receive of a message another thread sent, then replays with
/// that thread sending nothing; returns the caught panic and the finish.
fn receive_from_a_silent_sender(
    name: &str,
) -> (
    String,
    Result<replay_runtime::Summary, replay_runtime::Error>,
) {
    let dir = scratch_dir(name);
    let recording = dir.join("silent.replay");
    let program = |send: bool| {
        let (tx, rx) = mpsc::channel::<u32>();
        let sender = thread::spawn(move || {
            if send {
                tx.send(7).expect("the receiver is alive");
            }
        });
        sender.join().expect("the sender ends");
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| rx.recv()))
    };
    let session = Session::record(&recording).expect("start recording");
    assert_eq!(program(true).expect("no panic"), Ok(7));
    session.finish().expect("finish recording");

    let session = Session::replay(&recording).expect("start replaying");
    let caught = program(false).expect_err("every sender is gone: the receive diverges");
    let message = panic_message(&*caught);
    // The thread is spent: its next receive panics again.
    let (_tx, rx) = mpsc::channel::<u32>();
    let again = expect_panic("the thread is spent", || rx.try_recv());
    assert_contains!(again, "replay diverged earlier on this thread");
    (message, session.finish())
}

#[test]
fn a_receive_whose_senders_are_gone_diverges_and_finish_reports_it() {
    let (message, finished) = receive_from_a_silent_sender("threads-silent-sender");
    assert!(
        message.starts_with("replay diverged at call #1 on thread 0"),
        "{message}"
    );
    assert_contains!(message, "every sender of the channel is gone");
    assert_contains!(message, "expected: a message from thread 1");
    match finished {
        Err(replay_runtime::Error::Diverged { message: kept }) => assert_eq!(kept, message),
        other => panic!("finish must report the divergence, got {other:?}"),
    }
}

#[test]
fn a_select_with_fewer_branches_than_recorded_diverges_and_finish_reports_it() {
    let dir = scratch_dir("threads-select-branches");
    let recording = dir.join("select.replay");
    let session = Session::record(&recording).expect("start recording");
    let (_tx0, rx0) = mpsc::channel::<u32>();
    let (tx1, rx1) = mpsc::channel::<u32>();
    tx1.send(5).expect("send");
    assert_eq!(mpsc::select(&[&rx0, &rx1]), (1, Ok(5)));
    session.finish().expect("finish recording");

    let session = Session::replay(&recording).expect("start replaying");
    let (tx0, rx0) = mpsc::channel::<u32>();
    tx0.send(5).expect("send");
    let message = expect_panic("branch 1 does not exist", || mpsc::select(&[&rx0]));
    assert_contains!(message, "the select has fewer branches");
    assert_contains!(message, "a select won by branch 1");
    assert!(
        matches!(
            session.finish(),
            Err(replay_runtime::Error::Diverged { .. })
        ),
        "finish must report the divergence"
    );
}

#[test]
fn a_receive_whose_senders_are_gone_panics_at_the_callers_line() {
    let recording = scratch_dir("threads-gone-location").join("gone.replay");
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
    assert_eq!(program(true).recv(), Ok(7));
    session.finish().expect("finish recording");

    let session = Session::replay(&recording).expect("start replaying");
    let rx = program(false);
    let line = line!() + 1;
    let (message, at) = replay_tests::catch_panic(|| rx.recv());
    replay_tests::assert_contains!(message, "every sender of the channel is gone");
    assert!(at.starts_with(&format!("{}:{line}:", file!())), "{at}");
    // And a try_send after it is spent too, instead of sending.
    let (tx, _rx) = mpsc::sync_channel::<u32>(1);
    let (message, _) = replay_tests::catch_panic(|| tx.try_send(1));
    replay_tests::assert_contains!(message, "replay diverged earlier on this thread");
    assert!(session.finish().is_err());
}
