//! Edge cases of `REPLAY_BREAK` and of how calls are named
//! (`thread:call`), from a hostile review: each asserts the behaviour a
//! user relies on; those that once failed say how. The common cases are
//! in `breakpoints.rs`.

use replay_runtime::{Session, deterministic};
use replay_tests::{assert_contains, catch_panic, child_dir, greet, scratch_dir};
use serde::{Deserialize, Serialize};

#[path = "shared/edges.rs"]
mod edges;
use edges::*;

/// A report carries a `stop here:` line only where a stop can come
/// before the divergence: not when the recording is exhausted (no such
/// call), nor where the program meets another thread event than recorded
/// (stops come before calls, not locks).
#[test]
fn no_stop_here_line_where_no_stop_comes_before_the_divergence() {
    let dir = scratch_dir("review12-no-stop-line");
    let recording = dir.join("r.replay");
    let session = Session::record(&recording).expect("record");
    greet("a");
    session.finish().expect("finish");
    let session = Session::replay(&recording).expect("replay");
    greet("a");
    let (exhausted, _) = catch_panic(|| greet("b"));
    drop(session);
    assert_contains!(exhausted, "the recording is exhausted");
    assert!(!exhausted.contains("stop here:"), "{exhausted}");

    let run = |lock_first: bool| {
        let m = replay_runtime::sync::Mutex::new(0);
        if lock_first {
            *m.lock().unwrap() += 1;
        }
        greet("a");
        *m.lock().unwrap() += 1;
    };
    let session = Session::record(&recording).expect("record");
    run(false);
    session.finish().expect("finish");
    let session = Session::replay(&recording).expect("replay");
    let (at_a_lock, _) = catch_panic(|| run(true));
    drop(session);
    assert_contains!(at_a_lock, "replay diverged");
    assert!(!at_a_lock.contains("stop here:"), "{at_a_lock}");

    // A divergence at a call the recording holds names it.
    let session = Session::record(&recording).expect("record");
    greet("a");
    session.finish().expect("finish");
    let session = Session::replay(&recording).expect("replay");
    let (at_a_call, _) = catch_panic(|| greet("z"));
    drop(session);
    assert_contains!(at_a_call, "stop here: REPLAY_BREAK=0:1");
}

/// A stop on a patch marker's number, and one after it (numbers count
/// the marker): the stop names `replay_runtime::patched` and its name.
#[test]
fn holds_stop_on_a_marker() {
    let run = || {
        greet("a");
        let p = replay_runtime::patched("stop-on-me");
        greet("b");
        p
    };
    if let Some(dir) = child_dir() {
        let session = Session::replay(dir.join("r.replay")).expect("replay");
        run();
        drop(session);
        return;
    }
    let dir = scratch_dir("review12-stop-marker");
    let recording = dir.join("r.replay");
    let session = Session::record(&recording).expect("record");
    run();
    session.finish().expect("finish");
    let calls = numbered(&recording, 0);
    assert_eq!(calls[1].1, "replay_runtime::patched", "{calls:?}");
    let (seen, waiting) = child_stops("holds_stop_on_a_marker", &dir, " 0:2 , 0:2,");
    assert!(waiting, "{seen}");
    assert_contains!(seen, "stopped before call 0:2");
    assert_contains!(seen, "`replay_runtime::patched`(name = \"stop-on-me\")");
    let (seen, waiting) = child_stops("holds_stop_on_a_marker", &dir, "0:3");
    assert!(waiting, "{seen}");
    assert_contains!(seen, "stopped before call 0:3");
    assert_contains!(seen, "greet`(");
}

/// A run for the stop-in-callback tests: a call whose callback makes
/// calls, then one more call.
fn callback_run() {
    CALLBACK_ASKS.set(false);
    each(2);
    greet("after");
}

/// Calls are numbered in the order they begin, a call that called back
/// before the calls its callbacks made, alike by `replay dump` and by
/// `REPLAY_BREAK`: naming the first nested call stops there. (Dump once
/// numbered calls as they returned, and the stop came at the outer call.)
#[test]
fn a_stop_on_a_call_inside_a_callback_stops_there() {
    if let Some(dir) = child_dir() {
        let session = Session::replay(dir.join("r.replay")).expect("replay");
        callback_run();
        drop(session);
        return;
    }
    let dir = scratch_dir("review12-stop-callback");
    let recording = dir.join("r.replay");
    let session = Session::record(&recording).expect("record");
    callback_run();
    session.finish().expect("finish");
    let calls = numbered(&recording, 0);
    // The first nested call, as dump numbers it.
    let (number, function) = calls[0].clone();
    assert!(function.ends_with("greet"), "{calls:?}");
    let (seen, waiting) = child_stops(
        "a_stop_on_a_call_inside_a_callback_stops_there",
        &dir,
        &format!("0:{number}"),
    );
    assert!(waiting, "{seen}");
    assert_contains!(seen, &format!("stopped before call 0:{number}"));
    assert_contains!(
        seen,
        "greet`(",
        "dump's call {number} is {function}; {calls:?}"
    );
}

/// Naming the outer call of a call with callbacks, then the last call:
/// the replay stops. (With the old numbering the first stop was never
/// met exactly, and every later stop on the thread was lost.)
#[test]
fn a_stop_on_a_call_that_called_back_stops_there_and_later_stops_too() {
    if let Some(dir) = child_dir() {
        let session = Session::replay(dir.join("r.replay")).expect("replay");
        callback_run();
        session.finish().expect("replays");
        eprintln!("CHILD: ran to the end");
        return;
    }
    let dir = scratch_dir("review12-stop-outer");
    let recording = dir.join("r.replay");
    let session = Session::record(&recording).expect("record");
    callback_run();
    session.finish().expect("finish");
    let calls = numbered(&recording, 0);
    let (outer, function) = calls
        .iter()
        .find(|(_, f)| f.ends_with("rt_each"))
        .cloned()
        .expect("the outer call");
    let last = calls.last().expect("calls").0;
    let (seen, waiting) = child_stops(
        "a_stop_on_a_call_that_called_back_stops_there_and_later_stops_too",
        &dir,
        &format!("0:{outer},0:{last}"),
    );
    assert!(
        waiting && seen.contains("stopped before call"),
        "REPLAY_BREAK=0:{outer},0:{last} ({function}, then greet): no stop; it wrote:\n{seen}\n{calls:?}"
    );
}

/// `REPLAY_BREAK` values refused at the session's start.
#[test]
fn holds_bad_break_values_are_refused() {
    if let Some(dir) = child_dir() {
        match Session::replay(dir.join("r.replay")) {
            Ok(_) => eprintln!("CHILD: started"),
            Err(e) => eprintln!("CHILD: refused: {e}"),
        }
        return;
    }
    let dir = scratch_dir("review12-bad-breaks");
    let recording = dir.join("r.replay");
    let session = Session::record(&recording).expect("record");
    greet("a");
    session.finish().expect("finish");
    for bad in [
        "0:18446744073709551616",
        "0:18446744073709551615",
        "4294967296:1",
        "1:1",
        "0:0",
        "0:-1",
        "0",
        ":1",
        "0:1:2",
        "0:1;0:1",
        "0x0:1",
    ] {
        let out = replay_tests::child(
            "holds_bad_break_values_are_refused",
            &dir,
            &[("REPLAY_BREAK", bad)],
        );
        let err = replay_tests::stderr(&out);
        assert_contains!(err, "CHILD: refused", "REPLAY_BREAK={bad:?}");
    }
    for fine in ["", " ", ",", " 0:1 ", "0:1,0:1", "+0:+1"] {
        let out = replay_tests::child(
            "holds_bad_break_values_are_refused",
            &dir,
            &[("REPLAY_BREAK", fine)],
        );
        let err = replay_tests::stderr(&out);
        assert_contains!(err, "CHILD: started", "REPLAY_BREAK={fine:?}");
    }
}

/// A divergence at a call whose foreign function called back names it
/// with the number `replay dump` gives it.
#[test]
fn a_report_numbers_a_call_that_called_back_as_dump_does() {
    let dir = scratch_dir("review12-outer-number");
    let recording = dir.join("r.replay");
    let session = Session::record(&recording).expect("record");
    callback_run();
    session.finish().expect("finish");
    let calls = numbered(&recording, 0);
    let (outer, _) = calls
        .iter()
        .find(|(_, f)| f.ends_with("rt_each"))
        .cloned()
        .expect("the outer call");
    let session = Session::replay(&recording).expect("replay");
    let (message, _) = catch_panic(|| each(3));
    drop(session);
    assert_contains!(message, "rt_each");
    assert_contains!(
        message,
        &format!("stop here: REPLAY_BREAK=0:{outer}"),
        "dump numbers it {outer}: {calls:?}"
    );
}

/// Several stops on one thread, under gdb: before a call, on a patch
/// marker, and on the call after it (numbers that count the marker);
/// duplicates and spaces in the variable. Each stop once, in order.
#[test]
fn holds_several_stops_around_a_marker_under_gdb() {
    let run = || {
        greet("a");
        let p = replay_runtime::patched("gdb-marker");
        greet("b");
        greet("c");
        p
    };
    if let Some(dir) = child_dir() {
        let session = Session::replay(dir.join("r.replay")).expect("replay");
        run();
        session.finish().expect("replays");
        eprintln!("CHILD: ran to the end");
        return;
    }
    let Ok(gdb) = which_gdb() else { return };
    let dir = scratch_dir("review12-gdb");
    let recording = dir.join("r.replay");
    let session = Session::record(&recording).expect("record");
    run();
    session.finish().expect("finish");
    let out = std::process::Command::new(gdb)
        .args(["-nx", "-batch", "-ex", "run"])
        .args([
            "-ex", "continue", "-ex", "continue", "-ex", "continue", "-ex", "continue",
        ])
        .arg("--args")
        .arg(std::env::current_exe().expect("exe"))
        .args([
            "--exact",
            "holds_several_stops_around_a_marker_under_gdb",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(replay_tests::CHILD_VAR, &dir)
        .env("REPLAY_BREAK", "0:4, 0:2,0:1,0:2 ,0:3")
        .output()
        .expect("gdb");
    let err = replay_tests::stderr(&out);
    let stops: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("replay: stopped before call"))
        .collect();
    assert_eq!(stops.len(), 4, "{err}\n{}", replay_tests::stdout(&out));
    assert_contains!(stops[0], "0:1");
    assert_contains!(stops[1], "0:2");
    assert_contains!(stops[1], "replay_runtime::patched");
    assert_contains!(stops[2], "0:3");
    assert_contains!(stops[3], "0:4");
    assert_contains!(err, "CHILD: ran to the end");
}

fn which_gdb() -> Result<std::path::PathBuf, ()> {
    let p = std::path::PathBuf::from("/usr/bin/gdb");
    if p.exists() { Ok(p) } else { Err(()) }
}

/// An argument whose `Debug` makes a boundary call (here `greet`, e.g. a
/// lookup of a name for display).
#[derive(Serialize, Deserialize)]
struct Shown(u32);

impl std::fmt::Debug for Shown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Shown({}, {})", self.0, greet("debug"))
    }
}

#[deterministic]
fn takes_shown(s: &Shown) -> u32 {
    s.0
}

/// A stop shows the arguments with their `Debug` as divergence reports
/// do, in a display scope: a `Debug` that makes a boundary call does not
/// make the stop diverge the replay. (It once did: "unavailable".)
#[test]
fn a_stop_whose_argument_debug_calls_the_boundary_does_not_diverge() {
    let run = || {
        greet("a");
        takes_shown(&Shown(7));
    };
    if let Some(dir) = child_dir() {
        let session = Session::replay(dir.join("r.replay")).expect("replay");
        run();
        drop(session);
        return;
    }
    let dir = scratch_dir("review12-stop-debug");
    let recording = dir.join("r.replay");
    let session = Session::record(&recording).expect("record");
    run();
    session.finish().expect("finish");
    // Without a stop, it replays (and a report would show it fine).
    let session = Session::replay(&recording).expect("replay");
    run();
    session.finish().expect("replays without a stop");
    let (seen, waiting) = child_stops(
        "a_stop_whose_argument_debug_calls_the_boundary_does_not_diverge",
        &dir,
        "0:2",
    );
    assert!(waiting, "the stop must hold the replay; it wrote:\n{seen}");
    assert_contains!(seen, "stopped before call 0:2");
    assert_contains!(seen, "Shown(7,");
}
