//! Calls that run for real during replay: files declared live, the
//! handles they return, and `replay_with` stand-ins.

use replay_runtime::{Session, deterministic};
use replay_tests::files;
use replay_tests::{assert_contains, expect_panic, greet, path_str, scratch_dir, write_file};

#[test]
fn live_files_are_read_for_real_and_the_others_from_the_recording() {
    let dir = scratch_dir("live-files");
    std::fs::create_dir_all(dir.join("assets")).expect("mkdir");
    let asset = write_file(&dir, "assets/banner.txt", "asset v1");
    let data = write_file(&dir, "data.txt", "data v1");
    let (asset, data) = (path_str(&asset), path_str(&data));
    let recording = dir.join("live.replay");

    let run = || {
        let a = files::open(asset).expect("open the asset");
        let b = files::open(data).expect("open the data");
        let seen = (
            files::read(&a, 64),
            files::read(&b, 64),
            a.raw_fd() >= 0,
            b.raw_fd() >= 0,
        );
        files::close(a);
        files::close(b);
        seen
    };
    let session = Session::record(&recording).expect("start recording");
    let recorded = run();
    session.finish().expect("finish recording");
    assert_eq!(
        (recorded.0.as_slice(), recorded.1.as_slice()),
        (&b"asset v1"[..], &b"data v1"[..])
    );

    // Both files change. The asset is declared live: it is read as it is
    // now, through a real descriptor. The data file is replayed.
    std::fs::write(asset, "asset v2").expect("write");
    std::fs::write(data, "data v2").expect("write");
    let pattern = format!("{}/assets/**", dir.display());
    let session = Session::replay(&recording)
        .expect("start replaying")
        .with_live_files([pattern]);
    let replayed = run();
    session.finish().expect("replay consumed everything");
    assert_eq!(replayed.0, b"asset v2", "the live asset is read for real");
    assert_eq!(
        replayed.1, b"data v1",
        "the other file comes from the recording"
    );
    assert!(replayed.2, "the live file has a real descriptor");
    assert!(!replayed.3, "the replayed file has a placeholder");

    // Without the pattern, everything comes from the recording.
    let session = Session::replay(&recording).expect("start replaying");
    let again = run();
    session.finish().expect("replay consumed everything");
    assert_eq!(
        (again.0.as_slice(), again.1.as_slice()),
        (&b"asset v1"[..], &b"data v1"[..])
    );
}

/// A lookup that would reach a server; replay uses a fixed table instead.
#[deterministic(replay_with = lookup_offline)]
fn lookup(key: &str) -> String {
    greet(key)
}

fn lookup_offline(key: &str) -> String {
    format!("offline answer for {key}")
}

#[test]
fn replay_with_calls_the_stand_in_and_still_checks_the_call() {
    let dir = scratch_dir("replay-with");
    let recording = dir.join("with.replay");
    let session = Session::record(&recording).expect("start recording");
    let recorded = lookup("alice");
    session.finish().expect("finish recording");
    assert!(recorded.starts_with("hello, alice"), "{recorded}");

    let session = Session::replay(&recording).expect("start replaying");
    assert_eq!(lookup("alice"), "offline answer for alice");
    session.finish().expect("replay consumed everything");

    let session = Session::replay(&recording).expect("start replaying");
    let message = expect_panic("another key diverges", || lookup("bob"));
    assert_contains!(message, "argument 1 (`key`) of `live::lookup` differs");
    assert!(session.finish().is_err());
}

#[test]
fn handles_a_stand_in_returns_are_bound_and_used_live() {
    let dir = scratch_dir("replay-with-handle");
    let log = write_file(&dir, "app.log", "old log lines");
    let recording = dir.join("handle.replay");
    let log = path_str(&log);

    let session = Session::record(&recording).expect("start recording");
    let fd = files::open_log(log).expect("open the log");
    let recorded = files::read(&fd, 64);
    let recorded_debug = format!("{fd:?}");
    files::close(fd);
    session.finish().expect("finish recording");
    assert_eq!(recorded, b"old log lines");

    let session = Session::replay(&recording).expect("start replaying");
    let fd = files::open_log(log).expect("open the log");
    assert!(fd.raw_fd() >= 0, "the stand-in's descriptor is real");
    assert_eq!(
        format!("{fd:?}"),
        recorded_debug,
        "bound to the recorded slot"
    );
    // The read runs for real on the stand-in's /dev/null.
    assert_eq!(files::read(&fd, 64), b"");
    files::close(fd);
    session.finish().expect("replay consumed everything");
}

static FSTATS: std::sync::Mutex<Vec<(String, i32)>> = std::sync::Mutex::new(Vec::new());

/// Runs for real in every mode: asks the OS about the descriptor.
#[replay_runtime::assume_deterministic]
fn note_fstat(tag: &str, fd: &files::Fd) {
    // SAFETY: `stat` is a plain out-buffer for fstat.
    let result = unsafe {
        let mut stat: libc::stat = std::mem::zeroed();
        libc::fstat(fd.raw_fd(), &mut stat)
    };
    FSTATS.lock().expect("lock").push((tag.to_owned(), result));
}

#[test]
fn assumed_calls_get_live_handles_and_skip_placeholders() {
    let dir = scratch_dir("assumed-handles");
    let (live, replayed) = (
        write_file(&dir, "live.txt", "live"),
        write_file(&dir, "replayed.txt", "replayed"),
    );
    let (live, replayed) = (path_str(&live), path_str(&replayed));
    let recording = dir.join("assumed.replay");
    let run = |tag: &str| {
        let a = files::open(live).expect("open");
        let b = files::open(replayed).expect("open");
        note_fstat(&format!("{tag} live"), &a);
        note_fstat(&format!("{tag} replayed"), &b);
    };
    let session = Session::record(&recording).expect("start recording");
    run("record");
    session.finish().expect("finish recording");
    let session = Session::replay(&recording)
        .expect("start replaying")
        .with_live_files([live]);
    run("replay");
    session.finish().expect("replay consumed everything");

    let seen = FSTATS.lock().expect("lock").clone();
    assert_eq!(
        seen,
        [
            ("record live".to_owned(), 0),
            ("record replayed".to_owned(), 0),
            // The live handle is a real descriptor; the placeholder is skipped.
            ("replay live".to_owned(), 0),
        ]
    );
}

#[test]
fn a_method_on_a_live_handle_runs_for_real() {
    let dir = scratch_dir("live-method");
    let asset = write_file(&dir, "asset.txt", "v1");
    let asset = path_str(&asset);
    let recording = dir.join("method.replay");
    let run = || {
        let fd = files::open(asset).expect("open");
        let read = fd.read_up_to(16);
        files::close(fd);
        read
    };
    let session = Session::record(&recording).expect("start recording");
    assert_eq!(run(), b"v1");
    session.finish().expect("finish recording");

    std::fs::write(asset, "v2").expect("write");
    let session = Session::replay(&recording)
        .expect("start replaying")
        .with_live_files([asset]);
    assert_eq!(run(), b"v2", "the live handle's method reads for real");
    session.finish().expect("replay consumed everything");
}
