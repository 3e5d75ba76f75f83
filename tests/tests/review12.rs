//! Edge cases of `patched`/`deprecate_patch` and `REPLAY_BREAK`, from a
//! hostile review: each asserts the behaviour a user relies on; those
//! that once failed say how.

use std::cell::{Cell, RefCell};
use std::ffi::{CStr, c_char};
use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use replay_runtime::inspect::{Entry, Inspection};
use replay_runtime::{Context, ContextPtr, Mode, Session, deterministic};
use replay_tests::{
    assert_contains, catch_panic, child_dir, greet, greet_noise, record_then_replay, scratch_dir,
};
use serde::{Deserialize, Serialize};

// ---------------------------------------------------------------------------
// Helpers

/// The patch names of the markers on `thread` of `recording`.
fn markers(recording: &Path, thread: u32) -> Vec<String> {
    Inspection::open(recording)
        .expect("open")
        .events(thread)
        .expect("events")
        .iter()
        .filter_map(Entry::patch)
        .collect()
}

/// `(number, function)` of every call on `thread`, as `replay dump` numbers them.
fn numbered(recording: &Path, thread: u32) -> Vec<(u64, String)> {
    Inspection::open(recording)
        .expect("open")
        .events(thread)
        .expect("events")
        .iter()
        .filter_map(|e| match e {
            Entry::Call {
                number, function, ..
            } => Some((*number, function.to_string())),
            _ => None,
        })
        .collect()
}

/// Runs `test` of this binary again as a child with `REPLAY_BREAK=breaks`
/// and the scratch dir `dir`; reads its standard error up to "waiting for
/// a debugger" (or its exit, or 30 s), kills it, and returns what it
/// wrote there and whether it was still waiting.
fn child_stops(test: &str, dir: &Path, breaks: &str) -> (String, bool) {
    let mut child = std::process::Command::new(std::env::current_exe().expect("exe"))
        .args(["--exact", test, "--nocapture", "--test-threads", "1"])
        .env(replay_tests::CHILD_VAR, dir)
        .env("RUST_BACKTRACE", "0")
        .env("REPLAY_BREAK", breaks)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the child");
    let err = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut seen = String::new();
        for line in BufReader::new(err).lines() {
            let Ok(line) = line else { break };
            seen.push_str(&line);
            seen.push('\n');
            if line.contains("waiting for a debugger") {
                break;
            }
        }
        let _ = tx.send(seen);
    });
    let seen = rx.recv_timeout(Duration::from_secs(30)).unwrap_or_default();
    let waiting = child.try_wait().expect("poll").is_none();
    let _ = child.kill();
    let _ = child.wait();
    (seen, waiting)
}

// ---------------------------------------------------------------------------
// Versioning

/// `deprecate_patch(n)` followed by `patched(n)` on the same thread (one
/// module retired the patch, another still asks): `patched` answers `true`
/// in both modes, and nothing is recorded. (It once recorded a marker that
/// the replay's `deprecate_patch` took, so that `patched` answered `false`:
/// a silently wrong replay.)
#[test]
fn patched_after_deprecate_patch_answers_true_in_both_modes() {
    let dir = scratch_dir("review12-deprecate-then-patched");
    let recording = dir.join("r.replay");
    let run = || {
        replay_runtime::deprecate_patch("shared-name");
        let answer = replay_runtime::patched("shared-name");
        // The two paths make the same boundary calls: only the answer
        // (pure logic under it) differs.
        greet("x");
        answer
    };
    let session = Session::record(&recording).expect("record");
    let recorded = run();
    session.finish().expect("finish recording");
    assert!(recorded);
    assert_eq!(markers(&recording, 0), Vec::<String>::new());

    let session = Session::replay(&recording).expect("replay");
    let replayed = run();
    let summary = session.finish();
    assert_eq!(
        (replayed, summary.as_ref().map(|s| s.predates.clone()).ok()),
        (true, Some(Vec::new())),
        "replay must answer as the recording did (and not claim it predates the patch); \
         finish: {summary:?}"
    );
}

/// The argument whose `Drop` asks `patched`.
#[derive(Serialize, Deserialize, Debug)]
struct Asks(u32);

thread_local! {
    static DROP_ANSWERS: RefCell<Vec<bool>> = const { RefCell::new(Vec::new()) };
}

impl Drop for Asks {
    fn drop(&mut self) {
        let answer = replay_runtime::patched("asked-in-drop");
        DROP_ANSWERS.with(|a| a.borrow_mut().push(answer));
    }
}

#[deterministic]
fn consume(value: Asks) -> u32 {
    value.0 + 1
}

/// `patched` asked by the `Drop` of an argument given by value to a
/// `#[deterministic]` Rust function. Recording, the body drops it inside
/// the call (`true`, no marker); replaying, the runtime drops what the
/// unrun body would have consumed, and `patched` answers `true` there too.
/// (It once looked for a marker and answered `false`: a silently wrong
/// replay.)
#[test]
fn patched_in_the_drop_of_a_replayed_calls_argument_answers_as_recorded() {
    let dir = scratch_dir("review12-drop");
    let recording = dir.join("r.replay");
    let run = |_: Mode| {
        DROP_ANSWERS.with(|a| a.borrow_mut().clear());
        let got = consume(Asks(1));
        greet("after");
        (got, DROP_ANSWERS.with(|a| a.borrow().clone()))
    };
    let session = Session::record(&recording).expect("record");
    let recorded = run(Mode::Record);
    session.finish().expect("finish");
    let session = Session::replay(&recording).expect("replay");
    let replayed = run(Mode::Replay);
    let summary = session.finish();
    assert_eq!(
        replayed, recorded,
        "the Drop's `patched` must answer as when recorded; finish: {summary:?}"
    );
    assert_eq!(summary.expect("finish").predates, Vec::<String>::new());
}

/// A patch name is at most `MAX_PATCH_NAME` bytes, so that its marker
/// keeps it whole (a longer argument would be stored as a digest, which
/// `replay stats` and reports cannot name): the longest is listed, a
/// longer one is refused with a clear panic.
#[test]
fn the_longest_patch_name_is_listed_and_a_longer_one_refused() {
    let dir = scratch_dir("review12-long-name");
    let recording = dir.join("r.replay");
    let longest = "p".repeat(replay_runtime::MAX_PATCH_NAME);
    record_then_replay(&recording, |_| {
        let answer = replay_runtime::patched(&longest);
        greet("x");
        answer
    });
    assert_eq!(
        markers(&recording, 0),
        vec![longest.clone()],
        "stats lists it"
    );

    let session = Session::record(dir.join("longer.replay")).expect("record");
    let (message, _) = catch_panic(|| replay_runtime::patched(&format!("{longest}p")));
    drop(session);
    assert_contains!(
        message,
        "a patch name is at most 256 bytes; this one has 257"
    );
}

/// The empty name and names with odd characters record and replay.
#[test]
fn holds_empty_and_odd_patch_names() {
    let dir = scratch_dir("review12-odd-names");
    let recording = dir.join("r.replay");
    let names = [
        "",
        "\u{0}",
        "\u{fffd}\u{fffd}",
        "a\"b\\c\n",
        "replay_runtime::patched",
    ];
    record_then_replay(&recording, |_| {
        names
            .iter()
            .map(|n| (replay_runtime::patched(n), greet(n)))
            .collect::<Vec<_>>()
    });
    assert_eq!(markers(&recording, 0).len(), names.len());
}

thread_local! {
    /// Whether the callback asks `patched` (changed between record and replay).
    static CALLBACK_ASKS: Cell<bool> = const { Cell::new(true) };
    static CALLBACK_ANSWERS: RefCell<Vec<bool>> = const { RefCell::new(Vec::new()) };
}

#[deterministic(callback)]
extern "C" fn asking_item(_ctx: ContextPtr, i: i32, label: *const c_char) -> i32 {
    // SAFETY: C passes a NUL-terminated label.
    let label = unsafe { CStr::from_ptr(label) }
        .to_string_lossy()
        .into_owned();
    if CALLBACK_ASKS.get() {
        let answer = replay_runtime::patched("in-callback");
        CALLBACK_ANSWERS.with(|a| a.borrow_mut().push(answer));
    }
    greet(&format!("{i}{label}"));
    0
}

#[deterministic]
unsafe extern "C" {
    fn rt_each(
        n: i32,
        cb: Option<unsafe extern "C" fn(ContextPtr, i32, *const c_char) -> i32>,
        ctx: ContextPtr,
    ) -> i32;
}

fn each(n: i32) -> (i32, Vec<bool>) {
    CALLBACK_ANSWERS.with(|a| a.borrow_mut().clear());
    let ctx = Context::new(());
    // SAFETY: `ctx` outlives the call; the callback matches the C type.
    let made = unsafe { rt_each(n, Some(asking_item), ctx.ptr()) };
    (made, CALLBACK_ANSWERS.with(|a| a.borrow().clone()))
}

/// `patched` inside a callback: recorded nested, found in replay.
#[test]
fn holds_patched_inside_a_callback() {
    let dir = scratch_dir("review12-callback");
    let recording = dir.join("r.replay");
    CALLBACK_ASKS.set(true);
    let got = record_then_replay(&recording, |_| each(3));
    assert_eq!(got.1, vec![true, true, true]);
}

/// A recording made before the callback asked: the callback's replay
/// answers `false` and goes on.
#[test]
fn holds_patched_inside_a_callback_on_an_older_recording() {
    let dir = scratch_dir("review12-callback-old");
    let recording = dir.join("r.replay");
    CALLBACK_ASKS.set(false);
    let session = Session::record(&recording).expect("record");
    let recorded = each(3);
    session.finish().expect("finish");
    CALLBACK_ASKS.set(true);
    let session = Session::replay(&recording).expect("replay");
    let replayed = each(3);
    let summary = session.finish().expect("replays");
    CALLBACK_ASKS.set(true);
    assert_eq!(replayed.0, recorded.0);
    assert_eq!(replayed.1, vec![false, false, false]);
    assert_eq!(summary.predates, vec!["in-callback".to_owned()]);
}

#[deterministic]
fn body_asks(x: u32) -> (u32, bool) {
    (x, replay_runtime::patched("in-body"))
}

#[replay_runtime::assume_deterministic(pure)]
fn assumed_asks() -> bool {
    replay_runtime::patched("in-assumed")
}

/// In a `#[deterministic]` body and an `#[assume_deterministic]`
/// function: `true`, no marker, in both modes.
#[test]
fn holds_patched_inside_a_deterministic_body_and_an_assumed_function() {
    let dir = scratch_dir("review12-body");
    let recording = dir.join("r.replay");
    let got = record_then_replay(&recording, |_| (body_asks(1), assumed_asks(), greet("x")));
    assert!(got.0.1 && got.1);
    assert!(markers(&recording, 0).is_empty());
}

/// Many markers among many calls: markers fall on chunk boundaries (64
/// KiB) and the last one is the stream's last event. Replayed by the same
/// program, by one that predates them all, and by one that deprecates.
#[test]
fn holds_markers_across_chunk_boundaries_and_at_the_end() {
    let dir = scratch_dir("review12-chunks");
    let new = dir.join("new.replay");
    let old = dir.join("old.replay");
    let run = |ask: u8| {
        let mut answers = Vec::new();
        for i in 0..400 {
            greet_noise(7);
            match ask {
                0 => {}
                1 => answers.push(replay_runtime::patched(&format!("patch-{i}"))),
                _ => replay_runtime::deprecate_patch(&format!("patch-{i}")),
            }
        }
        answers
    };
    for (path, ask) in [(&new, 1), (&old, 0)] {
        let session = Session::record(path).expect("record");
        run(ask);
        session.finish().expect("finish");
    }
    assert_eq!(markers(&new, 0).len(), 400);
    let session = Session::replay(&new).expect("replay");
    assert!(run(1).iter().all(|&a| a));
    session.finish().expect("new on new");
    let session = Session::replay(&old).expect("replay");
    assert!(run(1).iter().all(|&a| !a));
    assert_eq!(session.finish().expect("new on old").predates.len(), 400);
    for path in [&new, &old] {
        let session = Session::replay(path).expect("replay");
        run(2);
        session.finish().expect("deprecated");
    }
}

/// A marker right after a run of receives, and one in the middle of what
/// would be a run: the run is cut, replay takes the marker.
#[test]
fn holds_patched_between_receives() {
    use replay_runtime::sync::mpsc;
    let dir = scratch_dir("review12-receives");
    let recording = dir.join("r.replay");
    record_then_replay(&recording, |_| {
        let (tx, rx) = mpsc::channel();
        let sender = replay_runtime::thread::spawn(move || {
            for i in 0..6 {
                tx.send(i).expect("send");
            }
        });
        sender.join().expect("join");
        let mut got = vec![rx.recv().unwrap(), rx.recv().unwrap()];
        let p = replay_runtime::patched("between-receives");
        got.push(rx.recv().unwrap());
        got.push(rx.recv().unwrap());
        let q = replay_runtime::patched("between-receives-2");
        got.extend(rx.try_iter());
        (got, p, q)
    });
    assert_eq!(markers(&recording, 0).len(), 2);
}

/// Each session asks afresh: the answers do not leak from one session to
/// the next on the same thread (record, then replay of an older one).
#[test]
fn holds_answers_do_not_leak_between_sessions() {
    let dir = scratch_dir("review12-sessions");
    let a = dir.join("a.replay");
    let b = dir.join("b.replay");
    let session = Session::record(&a).expect("record a");
    assert!(replay_runtime::patched("x"));
    session.finish().expect("finish a");
    let session = Session::record(&b).expect("record b");
    greet("no marker in b");
    session.finish().expect("finish b");
    assert_eq!(markers(&a, 0), vec!["x".to_owned()]);
    let session = Session::replay(&a).expect("replay a");
    assert!(replay_runtime::patched("x"));
    session.finish().expect("a");
    let session = Session::replay(&b).expect("replay b");
    assert!(!replay_runtime::patched("x"));
    greet("no marker in b");
    session.finish().expect("b");
}

/// Spawned threads ask for themselves.
#[test]
fn holds_patched_on_spawned_threads() {
    let dir = scratch_dir("review12-threads");
    let recording = dir.join("r.replay");
    record_then_replay(&recording, |_| {
        let t = replay_runtime::thread::spawn(|| (replay_runtime::patched("t"), greet("t")));
        let mine = replay_runtime::patched("t");
        (mine, t.join().expect("join"))
    });
}

/// The file changed under a running replay where `patched` reads its
/// stream's first chunk: a divergence naming the change, not a `false`.
#[test]
fn holds_patched_reading_a_chunk_changed_under_the_replay() {
    let dir = scratch_dir("review12-crc");
    let recording = dir.join("r.replay");
    let session = Session::record(&recording).expect("record");
    assert!(replay_runtime::patched("first"));
    greet_noise(3000);
    session.finish().expect("finish");
    let session = Session::replay(&recording).expect("replay");
    // Validated; now corrupt the first chunk in place (the replay holds
    // the handle and reads chunks lazily).
    {
        use std::io::{Seek, SeekFrom, Write};
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .open(&recording)
            .expect("open");
        f.seek(SeekFrom::Start(300)).expect("seek");
        f.write_all(&[0x55; 64]).expect("write");
    }
    let (message, _) = catch_panic(|| replay_runtime::patched("first"));
    drop(session);
    assert_contains!(message, "changed while it was replayed");
}

// ---------------------------------------------------------------------------
// Stops

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
