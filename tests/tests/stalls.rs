//! Replays that cannot go on: two sessions on one lock, a thread that
//! opens one lock more than recorded, a thread the others wait for in
//! vain. Each is reported once, naming the thread most likely at fault and
//! its line, instead of every thread waiting out the stall limit.

use std::sync::{Arc, Barrier};

use replay_runtime::Session;
use replay_runtime::sync::Mutex;
use replay_tests::{assert_contains, catch_panic, scratch_dir};

/// One lock for the whole test binary, as a library's global would be.
static GLOBAL: Mutex<u32> = Mutex::new(0);

#[test]
fn a_second_live_session_on_one_lock_panics_naming_the_problem_and_the_fix() {
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
