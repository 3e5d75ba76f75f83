//! How a recording is written: under a name of its own, never through a
//! symlink, readable by its owner only, published whole or not at all, and
//! never over another session's recording without an error (issue 10).

use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;
use std::sync::mpsc;

use replay_runtime::inspect::{Entry, Inspection};
use replay_runtime::{Error, Session};
use replay_tests::{assert_contains, child, child_dir, greet, partial_files, scratch_dir};

/// Records `n` greetings of `who` at `path`.
fn record(path: &Path, who: &str, n: usize) -> replay_runtime::Result<replay_runtime::Summary> {
    let session = Session::record(path)?;
    for _ in 0..n {
        greet(who);
    }
    session.finish()
}

/// Who the recording at `path` greeted, and how many times.
fn greeted(path: &Path) -> (String, usize) {
    let events = Inspection::open(path)
        .expect("a recording that reads")
        .events(0)
        .expect("its events");
    let calls: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Entry::Call { arguments, .. } => Some(arguments.to_string()),
            _ => None,
        })
        .collect();
    (calls.first().cloned().unwrap_or_default(), calls.len())
}

fn mode_of(path: &Path) -> u32 {
    std::fs::metadata(path)
        .expect("the file")
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn a_recording_is_readable_by_its_owner_only() {
    let dir = scratch_dir("writes-mode");
    let path = dir.join("new.replay");
    record(&path, "ann", 3).expect("record");
    assert_eq!(mode_of(&path), 0o600, "it holds every argument and result");
    // Re-recording keeps the mode the user gave the recording.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    record(&path, "bob", 3).expect("re-record");
    assert_eq!(mode_of(&path), 0o640);
    assert_eq!(greeted(&path).1, 3);
}

/// Two sessions recording one path at once (two parallel tests): the one
/// that finishes first publishes; the other is told, and its recording is
/// kept whole under its own name rather than replacing the first or being
/// lost.
#[test]
fn two_recorders_of_one_path_never_replace_each_other_silently() {
    let dir = scratch_dir("writes-two");
    let path = dir.join("shared.replay");
    let (started_tx, started) = mpsc::channel();
    let (finish_tx, finish) = mpsc::channel::<()>();
    let second = {
        let path = path.clone();
        std::thread::spawn(move || {
            let session = Session::record(&path).expect("the second starts");
            for _ in 0..500 {
                greet("second");
            }
            started_tx.send(()).expect("tell");
            finish.recv().expect("wait for the first to finish");
            session.finish()
        })
    };
    started.recv().expect("the second started");
    let first = record(&path, "first", 200).expect("the first publishes");
    assert_eq!(first.calls, 200);
    finish_tx.send(()).expect("let the second finish");
    let error = second
        .join()
        .expect("no panic")
        .expect_err("the second is refused");
    assert!(matches!(error, Error::Replaced { .. }), "{error:?}");
    let message = error.to_string();
    assert_contains!(message, "another session published a recording at");
    // The first's recording is at the path, whole.
    assert_eq!(greeted(&path).1, 200);
    assert_contains!(greeted(&path).0, "first");
    // The second's is kept, whole, where the error says.
    let Error::Replaced { kept, .. } = error else {
        unreachable!()
    };
    assert_contains!(message, kept.display().to_string());
    assert_eq!(greeted(&kept).1, 500);
    assert_contains!(greeted(&kept).0, "second");
}

/// A symlink planted where a recorder might write (the old fixed
/// `.partial` name, or every name this process could pick) is never
/// followed: its target is untouched, and the recording is published.
#[test]
fn symlinks_beside_a_recording_are_never_followed() {
    let dir = scratch_dir("writes-symlink");
    let victim = dir.join("victim.txt");
    std::fs::write(&victim, b"precious").expect("write the victim");
    let path = dir.join("run.replay");
    let pid = std::process::id();
    symlink(&victim, dir.join("run.replay.partial")).expect("plant");
    for n in 0..64 {
        symlink(&victim, dir.join(format!("run.replay.{pid}.{n}.partial"))).expect("plant");
    }
    // Some names are taken: recording fails cleanly or goes to a free name.
    let mut published = false;
    for _ in 0..80 {
        match record(&path, "ann", 2) {
            Ok(_) => {
                published = true;
                break;
            }
            Err(e) => assert_contains!(e.to_string(), "File exists"),
        }
    }
    assert!(published, "a free name was found");
    assert_eq!(std::fs::read(&victim).expect("the victim"), b"precious");
    assert_eq!(greeted(&path).1, 2);
    assert!(
        std::fs::symlink_metadata(&path)
            .expect("the recording")
            .is_file()
    );
}

/// A write that fails (here: a file size limit, as a full disk would) is
/// never published: the recording already at the path stays, whether the
/// session is finished (which reports the error) or a panic ends the
/// process; and no empty temporary file is left behind. In a child process
/// (the limit is per process).
#[test]
fn a_failed_write_is_never_published() {
    const TEST: &str = "a_failed_write_is_never_published";
    if let Some(dir) = child_dir() {
        let path = dir.join("good.replay");
        replay_tests::limit_file_size(4 * 1024);
        let how = std::env::var("HOW").expect("HOW");
        let session = Session::record(&path).expect("the header fits");
        replay_tests::greet_noise(3000);
        if how == "panic" {
            panic!("the program panics after its writes failed");
        }
        let error = session.finish().expect_err("the write failed");
        eprintln!("finish: {error}");
        return;
    }
    for how in ["finish", "panic"] {
        let dir = scratch_dir(&format!("writes-failed-{how}"));
        let path = dir.join("good.replay");
        record(&path, "ann", 5).expect("a good recording");
        let good = std::fs::read(&path).expect("it");
        let out = child(TEST, &dir, &[("HOW", how)]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        if how == "finish" {
            assert!(out.status.success(), "{stderr}");
            assert_contains!(stderr, "finish: cannot write recording");
            assert_contains!(stderr, "it was not published");
        } else {
            assert!(!out.status.success(), "{stderr}");
            assert_contains!(stderr, "the program panics after its writes failed");
        }
        assert_eq!(std::fs::read(&path).expect("it"), good, "{how}: untouched");
        assert_eq!(partial_files(&dir, "good.replay."), Vec::<String>::new());
    }
}

/// A header that cannot be written at all (here `/dev/full`) is an error
/// at `Session::record`, and leaves nothing behind.
#[test]
fn a_recording_that_cannot_start_says_so() {
    let error = Session::record("/dev/full").expect_err("a full device");
    assert_contains!(error.to_string(), "/dev/full");
}
