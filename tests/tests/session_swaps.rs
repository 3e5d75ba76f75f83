//! Sessions ended and started inside calls: the thread's mode afterwards
//! is the new session's, whatever address the allocator gives it, and the
//! old session's open call never lands in the new recording.

use std::cell::RefCell;
use std::path::PathBuf;

use replay_runtime::{Mode, Session, assume_deterministic, current_mode, deterministic};
use replay_tests::{expect_panic, scratch_dir};

thread_local! {
    static HELD: RefCell<Option<Session>> = const { RefCell::new(None) };
    static NEXT_PATH: RefCell<Option<(bool, PathBuf)>> = const { RefCell::new(None) };
}

#[deterministic]
fn plain(x: u32) -> u32 {
    x + 1
}

/// Ends the held session and starts another one, as `NEXT_PATH` says.
#[assume_deterministic]
fn swap_session(tag: u32) {
    let _ = tag;
    let old = HELD.with(|h| h.borrow_mut().take()).expect("held");
    old.finish().expect("finish old");
    let (record, path) = NEXT_PATH
        .with(|p| p.borrow_mut().take())
        .expect("next path");
    let new = if record {
        Session::record(&path).expect("record")
    } else {
        Session::replay(&path).expect("replay")
    };
    HELD.with(|h| *h.borrow_mut() = Some(new));
}

fn make_recording(path: &std::path::Path, n: u32) {
    let s = Session::record(path).unwrap();
    for i in 0..n {
        plain(i);
    }
    s.finish().unwrap();
}

/// Record session A; inside an assumed call end it and start a *replay*
/// session B. After the call the thread should be in Replay mode.
#[test]
fn record_then_replay_inside_assumed_call() {
    let dir = scratch_dir("swaps-scope-a");
    let b = dir.join("b.replay");
    make_recording(&b, 1);

    HELD.with(|h| *h.borrow_mut() = Some(Session::record(dir.join("a.replay")).unwrap()));
    NEXT_PATH.with(|p| *p.borrow_mut() = Some((false, b.clone())));
    swap_session(0);
    eprintln!("mode after swap: {:?}", current_mode());
    assert_eq!(current_mode(), Mode::Replay, "the new session is a replay");
}

/// The reverse: replay session A, swap to a *record* session B.
#[test]
fn replay_then_record_inside_assumed_call() {
    let dir = scratch_dir("swaps-scope-b");
    let a = dir.join("a.replay");
    make_recording(&a, 0);

    HELD.with(|h| *h.borrow_mut() = Some(Session::replay(&a).unwrap()));
    NEXT_PATH.with(|p| *p.borrow_mut() = Some((true, dir.join("b.replay"))));
    swap_session(0);
    eprintln!("mode after swap: {:?}", current_mode());
    assert_eq!(current_mode(), Mode::Record, "the new session records");
    // In record mode a wrapped call must not panic.
    assert_eq!(plain(1), 2);
    let s = HELD.with(|h| h.borrow_mut().take()).unwrap();
    assert_eq!(s.finish().unwrap().calls, 1);
}

/// Silently wrong consequence: mode says Record but the session replays.
/// The wrapped call runs for real, unchecked, and is not consumed.
#[test]
fn stale_record_mode_on_a_replay_session_runs_calls_unchecked() {
    let dir = scratch_dir("swaps-scope-c");
    let b = dir.join("b.replay");
    make_recording(&b, 1); // records plain(0)

    HELD.with(|h| *h.borrow_mut() = Some(Session::record(dir.join("a.replay")).unwrap()));
    NEXT_PATH.with(|p| *p.borrow_mut() = Some((false, b.clone())));
    swap_session(0);
    // In a replay of b this call has the wrong argument: it must diverge.
    let r = std::panic::catch_unwind(|| plain(77));
    eprintln!("plain(77) in the replay of b: {r:?} (Ok = ran unchecked)");
    let s = HELD.with(|h| h.borrow_mut().take()).unwrap();
    let fin = s.finish();
    eprintln!("finish: {fin:?}");
    assert!(
        r.is_err(),
        "a call with the wrong argument must diverge in replay"
    );
}

/// A stand-in (Live call) that ends the replay session and starts a record
/// session: the new record session must work.
fn swapping_stand_in() -> u32 {
    swap_session_inner();
    5
}
fn swap_session_inner() {
    let old = HELD.with(|h| h.borrow_mut().take()).expect("held");
    let _ = old.finish();
    let (_, path) = NEXT_PATH
        .with(|p| p.borrow_mut().take())
        .expect("next path");
    let new = Session::record(&path).expect("record");
    HELD.with(|h| *h.borrow_mut() = Some(new));
}

#[deterministic(replay_with = swapping_stand_in)]
fn swapped() -> u32 {
    5
}

#[test]
fn record_session_started_in_a_stand_in_is_usable() {
    let dir = scratch_dir("swaps-scope-d");
    let a = dir.join("a.replay");
    let s = Session::record(&a).unwrap();
    swapped();
    s.finish().unwrap();

    HELD.with(|h| *h.borrow_mut() = Some(Session::replay(&a).unwrap()));
    NEXT_PATH.with(|p| *p.borrow_mut() = Some((true, dir.join("b.replay"))));
    let r = std::panic::catch_unwind(swapped);
    eprintln!(
        "swapped(): {:?}; mode now {:?}",
        r.as_ref().map_err(|e| replay_tests::panic_message(&**e)),
        current_mode()
    );
    assert!(
        r.is_ok(),
        "the stand-in ran fine; the new record session is not to blame"
    );
    assert_eq!(plain(1), 2);
    let s = HELD.with(|h| h.borrow_mut().take()).unwrap();
    assert_eq!(s.finish().unwrap().calls, 1);
}

/// Inside a *recorded* call (record mode), end the session and start a new
/// record session: the new recording must be valid and hold later calls.
#[deterministic]
fn recorded_swapper(x: u32) -> u32 {
    swap_session_inner();
    x
}

#[test]
fn record_session_restarted_inside_a_recorded_call_writes_a_valid_file() {
    let dir = scratch_dir("swaps-scope-e");
    let a = dir.join("a.replay");
    let b = dir.join("b.replay");
    // Pad the first session's buffer so the open call starts at a large offset.
    HELD.with(|h| *h.borrow_mut() = Some(Session::record(&a).unwrap()));
    for i in 0..50 {
        plain(i);
    }
    NEXT_PATH.with(|p| *p.borrow_mut() = Some((true, b.clone())));
    recorded_swapper(12345);
    plain(1);
    let s = HELD.with(|h| h.borrow_mut().take()).unwrap();
    let fin = s.finish();
    eprintln!("finish b: {fin:?}");
    // b should hold exactly plain(1).
    let r = Session::replay(&b);
    eprintln!("open b for replay: {:?}", r.as_ref().err());
    let r = r.expect("b must be a valid recording");
    assert_eq!(plain(1), 2);
    r.finish().expect("b holds exactly plain(1)");
}

/// A session that diverged: end it and start a fresh replay inside an
/// assumed call. The fresh session must not be spent.
#[test]
fn diverged_mode_restored_onto_a_fresh_session() {
    let dir = scratch_dir("swaps-scope-f");
    let a = dir.join("a.replay");
    make_recording(&a, 1);
    HELD.with(|h| *h.borrow_mut() = Some(Session::replay(&a).unwrap()));
    let _ = expect_panic("wrong arg", || plain(9));
    NEXT_PATH.with(|p| *p.borrow_mut() = Some((false, a.clone())));
    // An assumed call runs in Diverged mode? (it may be refused)
    let r = std::panic::catch_unwind(|| swap_session(0));
    eprintln!(
        "swap in diverged: {:?}",
        r.as_ref().map_err(|e| replay_tests::panic_message(&**e))
    );
    eprintln!("mode: {:?}", current_mode());
    let r2 = std::panic::catch_unwind(|| plain(0));
    eprintln!(
        "plain(0) on the fresh replay: {:?}",
        r2.as_ref().map_err(|e| replay_tests::panic_message(&**e))
    );
    assert!(r2.is_ok(), "a fresh replay session is not spent");
}
