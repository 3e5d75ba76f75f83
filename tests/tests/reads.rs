//! How a recording is read in replay: every thread reads the file handle
//! that `Session::replay` validated (a recording replaced at its path
//! meanwhile goes unread), each chunk is checked again as it is read, and
//! a file rewritten in place under a running replay is reported as such,
//! on the session's thread and on spawned ones, never as a crash or as a
//! divergence of the program (issue 10).

use std::io::Write;
use std::path::Path;

use replay_runtime::{Error, Session, thread};
use replay_tests::{assert_contains, catch_panic, greet, scratch_dir};

/// Greets `who` on this thread, then three times on a spawned one.
fn program(who: &str) -> Vec<String> {
    let mut seen = vec![greet(who)];
    let who = who.to_owned();
    let worker = thread::spawn(move || (0..3).map(|_| greet(&who)).collect::<Vec<_>>());
    seen.extend(worker.join().expect("the worker"));
    seen
}

/// A recording of `program("ann")` in `dir`, and the bytes of another,
/// of `program` with a longer name, to write over it.
fn recording_and_another(dir: &Path) -> (std::path::PathBuf, Vec<u8>) {
    let path = dir.join("run.replay");
    record(&path, "ann");
    let other = dir.join("other.replay");
    record(&other, "bob-with-a-longer-name");
    (path, std::fs::read(&other).expect("the other"))
}

/// Writes `bytes` over the file at `path`: the same file, other bytes.
fn rewrite_in_place(path: &Path, bytes: &[u8]) {
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .and_then(|mut f| f.write_all(bytes))
        .expect("rewrite");
}

fn record(path: &Path, who: &str) -> Vec<String> {
    let session = Session::record(path).expect("record");
    let seen = program(who);
    session.finish().expect("finish");
    seen
}

#[test]
fn a_recording_replaced_at_its_path_under_a_running_replay_goes_unread() {
    let dir = scratch_dir("reads-replaced");
    let path = dir.join("run.replay");
    let recorded = record(&path, "ann");
    let other = dir.join("other.replay");
    record(&other, "bob");

    let session = Session::replay(&path).expect("replay");
    // Another process re-records it, or a `git checkout` replaces it.
    std::fs::rename(&other, &path).expect("replace");
    assert_eq!(program("ann"), recorded);
    session.finish().expect("the validated file was replayed");
}

#[test]
fn a_recording_rewritten_in_place_under_a_running_replay_is_reported() {
    let dir = scratch_dir("reads-rewritten");
    let (path, bytes) = recording_and_another(&dir);

    let session = Session::replay(&path).expect("replay");
    // Rewritten in place: the same file, other bytes.
    rewrite_in_place(&path, &bytes);
    let (message, _) = catch_panic(|| program("ann"));
    assert_contains!(message, "changed while it was replayed");
    let error = session.finish().expect_err("the replay failed");
    assert!(matches!(error, Error::Diverged { .. }), "{error:?}");
    assert_contains!(error.to_string(), "changed while it was replayed");
}

#[test]
fn a_spawned_thread_reading_a_rewritten_recording_reports_it() {
    let dir = scratch_dir("reads-rewritten-thread");
    let (path, bytes) = recording_and_another(&dir);

    let session = Session::replay(&path).expect("replay");
    greet("ann");
    // Between the main thread's chunk and the worker's first read.
    rewrite_in_place(&path, &bytes);
    let worker = thread::spawn(|| greet("ann"));
    let payload = worker.join().expect_err("the worker's replay failed");
    assert_contains!(
        replay_tests::panic_message(&*payload),
        "changed while it was replayed"
    );
    let error = session.finish().expect_err("the failure is not lost");
    assert_contains!(error.to_string(), "changed while it was replayed");
}
