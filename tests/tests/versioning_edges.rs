//! Edge cases of `patched` and `deprecate_patch`, from a hostile review:
//! each asserts the behaviour a user relies on; those that once failed
//! say how. The common cases are in `versioning.rs`.

use std::cell::RefCell;

use replay_runtime::{Mode, Session, deterministic};
use replay_tests::{
    assert_contains, catch_panic, greet, greet_noise, record_then_replay, scratch_dir,
};
use serde::{Deserialize, Serialize};

#[path = "shared/edges.rs"]
mod edges;
use edges::*;

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
