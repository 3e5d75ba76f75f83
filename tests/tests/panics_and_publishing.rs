//! Panics and publishing (found by the review of issue 10): a panic the
//! program catches, even one unrelated to replay, never publishes an
//! unfinished recording (the panic hook publishes only under
//! `panic = "abort"`), so a kill, a full disk or a concurrent recorder after
//! it still finds the promises of `docs/reliability.md` kept.

use std::panic::{AssertUnwindSafe, catch_unwind};

use replay_runtime::{Error, Session};
use replay_tests::{
    assert_contains, child, child_dir, partial_files, rt_now_nanos, scratch_dir, stderr,
};

/// Two sessions record `path`: one on another thread (one call), then this
/// one (`calls` calls); with both live, `between` runs; this one finishes
/// first. What each `finish` returned: this one's, the other's.
fn race(
    path: &std::path::Path,
    calls: usize,
    between: impl FnOnce(),
) -> (replay_runtime::Result<u64>, replay_runtime::Result<u64>) {
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<()>();
    let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
    let other = {
        let path = path.to_owned();
        std::thread::spawn(move || {
            let session = Session::record(&path).expect("record on the other thread");
            rt_now_nanos();
            ready_tx.send(()).unwrap();
            go_rx.recv().unwrap();
            session.finish().map(|s| s.calls)
        })
    };
    let session = Session::record(path).expect("record");
    for _ in 0..calls {
        rt_now_nanos();
    }
    ready_rx.recv().unwrap();
    between();
    let mine = session.finish().map(|s| s.calls);
    go_tx.send(()).unwrap();
    (mine, other.join().expect("the other thread"))
}

/// A complete, finished recording at `path`; its bytes.
fn good_recording(path: &std::path::Path) -> Vec<u8> {
    let session = Session::record(path).expect("record");
    rt_now_nanos();
    session.finish().expect("finish");
    std::fs::read(path).expect("read the good recording")
}

/// reliability.md: "SIGKILL, or power loss before `finish` | the recording
/// already at the path, untouched". A panic the program catches (here
/// unrelated to replay: no wrapped call is involved) publishes nothing,
/// since under unwinding the panic hook only writes complete chunks to the
/// session's `.partial`; when the process is then killed before `finish`,
/// the good recording is still at the path, byte for byte, rather than an
/// unfinished one without an end marker.
#[test]
fn a_caught_panic_then_a_kill_keeps_the_recording_already_at_the_path() {
    if let Some(dir) = child_dir() {
        let path = dir.join("run.replay");
        let session = Session::record(&path).expect("record");
        rt_now_nanos();
        // Some unrelated code panics and the program recovers.
        let _ = catch_unwind(|| panic!("a parse error, handled"));
        rt_now_nanos();
        // Killed before `finish`.
        // SAFETY: sends a signal to this process.
        unsafe { libc::kill(libc::getpid(), libc::SIGKILL) };
        drop(session);
        return;
    }
    let dir = scratch_dir("review-kill-after-caught-panic");
    let path = dir.join("run.replay");
    let before = good_recording(&path);
    let out = child(
        "a_caught_panic_then_a_kill_keeps_the_recording_already_at_the_path",
        &dir,
        &[],
    );
    assert!(!out.status.success(), "the child was killed");
    let after = std::fs::read(&path).expect("read");
    assert_eq!(
        after,
        before,
        "the recording at the path was replaced by the killed recorder's unfinished one \
         ({} bytes before, {} after); partials left: {:?}",
        before.len(),
        after.len(),
        partial_files(&dir, "run.replay")
    );
}

/// The same, seen without a kill: mid-session, right after a caught panic,
/// the file at the path is still the old recording, and the new one stays
/// in its `.partial` until `finish`. Anyone reading the path meanwhile (a
/// replay, a `git add`) gets a whole recording, never one that stops short.
#[test]
fn a_caught_panic_publishes_nothing_mid_session() {
    let dir = scratch_dir("review-caught-panic-publishes");
    let path = dir.join("run.replay");
    let before = good_recording(&path);
    let session = Session::record(&path).expect("record");
    rt_now_nanos();
    let _ = catch_unwind(|| panic!("handled"));
    let mid = std::fs::read(&path).expect("read");
    let still_partial = partial_files(&dir, "run.replay");
    session.finish().expect("finish");
    assert_eq!(
        mid, before,
        "mid-session, the path already holds the unfinished recording; \
         partials: {still_partial:?}"
    );
}

/// reliability.md: "two sessions recording one path | the first to finish
/// publishes; the other gets `Error::Replaced` and keeps its recording
/// whole". The promise holds with a caught panic in the process while both
/// sessions are live: the panic publishes neither, and a publication that
/// is refused leaves the sink unpublished, so the losing session's `finish`
/// reports `Error::Replaced` instead of an `Ok` for a recording that is not
/// at the path.
#[test]
fn after_a_panic_the_losing_recorder_of_a_path_is_still_told() {
    let dir = scratch_dir("review-two-recorders-panic");
    let path = dir.join("shared.replay");
    let (mine, theirs) = race(&path, 2, || {
        // One panic, caught, while both sessions are live.
        let _ = catch_unwind(AssertUnwindSafe(|| panic!("handled")));
    });
    let published_calls = replay_runtime::inspect::Inspection::open(&path)
        .expect("a recording is at the path")
        .events(0)
        .expect("events")
        .len();
    assert!(
        mine.is_err() || theirs.is_err(),
        "both sessions say they published {}: mine {mine:?}, theirs {theirs:?}; the path \
         holds one recording ({published_calls} events), the other is left as {:?}",
        path.display(),
        partial_files(&dir, "shared.replay")
    );
}

/// `REPLAY_STALL_TIMEOUT` set to a huge number (a user's "never time out")
/// is clamped to a limit `Duration` can hold, so `Session::record` records
/// and finishes normally instead of panicking. This matters because the
/// sink and the panic hook already exist at that point: the good recording
/// at the path is replaced only by a session that finishes, and no
/// `.partial` is left behind.
#[test]
fn a_huge_stall_timeout_is_no_panic() {
    if let Some(dir) = child_dir() {
        let path = dir.join("stall.replay");
        match catch_unwind(|| Session::record(&path)) {
            Ok(Ok(session)) => {
                session.finish().expect("finish");
                println!("OUTCOME: recorded");
            }
            Ok(Err(e)) => println!("OUTCOME: error: {e}"),
            Err(payload) => println!(
                "OUTCOME: panicked: {}",
                replay_tests::panic_message(&*payload)
            ),
        }
        return;
    }
    let dir = scratch_dir("review-huge-stall");
    let good = good_recording(&dir.join("stall.replay"));
    let out = child(
        "a_huge_stall_timeout_is_no_panic",
        &dir,
        &[("REPLAY_STALL_TIMEOUT", "1e20")],
    );
    let stdout = replay_tests::stdout(&out);
    let partials = partial_files(&dir, "stall.replay");
    let now = std::fs::read(dir.join("stall.replay")).expect("read");
    // A session that records and finishes replaces the recording, as it
    // should; anything else leaves it as it was.
    assert!(
        now == good || stdout.contains("OUTCOME: recorded"),
        "the good recording ({} bytes) was replaced by a {}-byte one; the child said: {stdout}",
        good.len(),
        now.len()
    );
    assert!(
        !stdout.contains("OUTCOME: panicked"),
        "Session::record panicked: {stdout}\n{}\npartials left: {partials:?}",
        stderr(&out)
    );
    assert_contains!(stdout, "OUTCOME:");
    assert!(partials.is_empty(), "partials left: {partials:?}");
}

/// reliability.md: "two sessions recording one path | the first to finish
/// publishes; the other gets `Error::Replaced`". The same race as above
/// without any panic: the first `finish` succeeds and the second reports
/// `Error::Replaced`, the baseline the panicking case is held to.
///
/// Run in a child process, so that no other test of this binary (several
/// panic on purpose) shares the process while the race is checked.
#[test]
fn two_recorders_without_a_panic_report_replaced() {
    let Some(dir) = child_dir() else {
        let dir = scratch_dir("review-two-recorders-control");
        let out = child("two_recorders_without_a_panic_report_replaced", &dir, &[]);
        replay_tests::assert_success(&out);
        return;
    };
    let path = dir.join("shared.replay");
    let (mine, theirs) = race(&path, 1, || {});
    assert!(mine.is_ok(), "{mine:?}");
    assert!(matches!(theirs, Err(Error::Replaced { .. })), "{theirs:?}");
}

/// reliability.md: "a full disk (a write fails) | the recording already at
/// the path; `finish` returns `Error::WriteFailed`". The promise holds after
/// a caught panic too: the panic published nothing, so when the disk fills
/// the good recording is still at the path, `finish` reports the failed
/// write, and the `.partial` it names as kept is still there for
/// `replay salvage`.
#[test]
fn a_full_disk_after_a_caught_panic_keeps_the_good_recording() {
    const TEST: &str = "a_full_disk_after_a_caught_panic_keeps_the_good_recording";
    if let Some(dir) = child_dir() {
        let path = dir.join("good.replay");
        replay_tests::limit_file_size(4 * 1024);
        let session = Session::record(&path).expect("the header fits");
        replay_tests::greet("before");
        let _ = catch_unwind(|| panic!("handled"));
        replay_tests::greet_noise(3000);
        let error = session.finish().expect_err("the write failed");
        eprintln!("finish: {error}");
        return;
    }
    let dir = scratch_dir("review-full-disk-after-panic");
    let path = dir.join("good.replay");
    let good = good_recording(&path);
    let out = child(TEST, &dir, &[]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert_contains!(err, "finish: cannot write recording");
    let now = std::fs::read(&path).expect("read");
    assert!(
        now == good,
        "the good recording ({} bytes) was replaced by the failed one ({} bytes); \
         finish said: {}",
        good.len(),
        now.len(),
        err.lines()
            .find(|l| l.starts_with("finish:"))
            .unwrap_or_default()
    );
}
