//! How sessions end: after the threads they spawned (waited for, up to the
//! stall limit), never silently from inside one of their own calls, and
//! with reports that say what was left (issue 10).

use std::time::Duration;

use replay_runtime::{Error, Session, deterministic, thread};
use replay_tests::{assert_contains, child, child_dir, greet, scratch_dir};

/// Greets three times on a spawned thread that starts late and is never
/// joined.
fn late_worker() {
    let _detached = thread::spawn(|| {
        std::thread::sleep(Duration::from_millis(100));
        (0..3)
            .map(|i| greet(&format!("late {i}")))
            .collect::<Vec<_>>()
    });
}

#[test]
fn finish_waits_for_the_threads_the_session_spawned() {
    let dir = scratch_dir("ends-waits");
    let path = dir.join("late.replay");
    let session = Session::record(&path).expect("record");
    late_worker();
    let summary = session.finish().expect("finish");
    assert_eq!(summary.calls, 3, "the worker's calls are recorded");
    let session = Session::replay(&path).expect("replay");
    late_worker();
    assert_eq!(session.finish().expect("replayed").calls, 3);
}

/// A thread still running when the stall limit is over: `finish` says so,
/// and the recording is still published with what there is. In a child
/// process, for its own stall limit.
#[test]
fn finish_reports_threads_that_do_not_end() {
    const TEST: &str = "finish_reports_threads_that_do_not_end";
    if let Some(dir) = child_dir() {
        let path = dir.join("stuck.replay");
        let session = Session::record(&path).expect("record");
        greet("main");
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let worker = thread::spawn(move || {
            greet("before");
            wait.recv().expect("released");
            greet("after");
        });
        let error = session.finish().expect_err("a thread still runs");
        eprintln!("finish: {error}");
        release.send(()).expect("release");
        worker.join().expect("the worker");
        let inspection = replay_runtime::inspect::Inspection::open(&path).expect("published");
        eprintln!("threads: {:?}", inspection.threads());
        return;
    }
    let dir = scratch_dir("ends-stuck");
    let out = child(TEST, &dir, &[("REPLAY_STALL_TIMEOUT", "0.3")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_contains!(
        stderr,
        "finish: the session was finished while 1 thread(s) it spawned still ran"
    );
    assert_contains!(stderr, "threads: [0, 1]");
}

thread_local! {
    static HELD: std::cell::RefCell<Option<Session>> = const { std::cell::RefCell::new(None) };
    static ENDED: std::cell::RefCell<Option<replay_runtime::Result<replay_runtime::Summary>>> =
        const { std::cell::RefCell::new(None) };
}

/// A recorded call whose body finishes the session it is recorded in.
#[deterministic]
fn finishes_its_session(x: u32) -> u32 {
    let session = HELD.with(|h| h.borrow_mut().take()).expect("a session");
    ENDED.with(|e| *e.borrow_mut() = Some(session.finish()));
    x
}

#[test]
fn a_session_ended_inside_its_own_call_says_so_and_keeps_what_came_before() {
    let dir = scratch_dir("ends-inside");
    let path = dir.join("inside.replay");
    HELD.with(|h| *h.borrow_mut() = Some(Session::record(&path).expect("record")));
    let before: Vec<_> = (0..3).map(|i| greet(&format!("before {i}"))).collect();
    finishes_its_session(7);
    let ended = ENDED.with(|e| e.borrow_mut().take()).expect("it ended");
    let error = ended.expect_err("the call cannot be recorded whole");
    assert!(matches!(error, Error::SessionBusy), "{error:?}");
    assert_contains!(error.to_string(), "from inside one of its own calls");
    // The recording reads, and replays what came before the call.
    let session = Session::replay(&path).expect("a recording that reads");
    let replayed: Vec<_> = (0..3).map(|i| greet(&format!("before {i}"))).collect();
    assert_eq!(replayed, before);
    assert_eq!(session.finish().expect("everything").calls, 3);
}

#[test]
fn a_replay_that_leaves_a_thread_event_says_what_is_left() {
    let dir = scratch_dir("ends-unconsumed");
    let path = dir.join("spawn.replay");
    let session = Session::record(&path).expect("record");
    greet("main");
    thread::spawn(|| 1).join().expect("the worker");
    session.finish().expect("finish");
    let session = Session::replay(&path).expect("replay");
    greet("main");
    let error = session.finish().expect_err("the spawn was not replayed");
    let message = error.to_string();
    assert_contains!(message, "no calls were left, but thread 0 still had");
    assert_contains!(message, "spawn");
    assert!(!message.contains("0 recorded call(s)"), "{message}");
}

#[test]
fn a_second_session_on_a_thread_is_refused_whatever_its_mode() {
    let dir = scratch_dir("ends-second");
    let path = dir.join("one.replay");
    Session::record(&path)
        .expect("record")
        .finish()
        .expect("finish");
    let session = Session::record(dir.join("two.replay")).expect("record");
    // Replaying a file that does not exist: the active session is the
    // reason given, not the file.
    let error = Session::replay(dir.join("missing.replay")).expect_err("refused");
    assert!(matches!(error, Error::SessionActive), "{error:?}");
    assert_contains!(error.to_string(), "a session (recording or replaying)");
    session.finish().expect("finish");
}

/// The replay stand-in of `ended_by_stand_in`: finishes the session.
fn finishing_stand_in(x: u32) -> u32 {
    let session = HELD.with(|h| h.borrow_mut().take()).expect("a session");
    ENDED.with(|e| *e.borrow_mut() = Some(session.finish()));
    x
}

#[deterministic(replay_with = finishing_stand_in)]
fn ended_by_stand_in(x: u32) -> u32 {
    x + 1
}

#[test]
fn a_session_ended_inside_a_stand_in_leaves_the_thread_without_a_session() {
    let dir = scratch_dir("ends-stand-in");
    let path = dir.join("stand-in.replay");
    let session = Session::record(&path).expect("record");
    ended_by_stand_in(1);
    greet("after");
    session.finish().expect("finish");

    HELD.with(|h| *h.borrow_mut() = Some(Session::replay(&path).expect("replay")));
    ended_by_stand_in(1);
    assert!(ENDED.with(|e| e.borrow_mut().take()).is_some(), "it ended");
    assert_eq!(replay_runtime::current_mode(), replay_runtime::Mode::Off);
    // Calls go straight through now, as without a session.
    assert_contains!(greet("after"), "hello, after");
    // And a new session may start.
    Session::replay(&path).expect("a new session").finish().ok();
}
