//! `replay timeline` on real recordings of threads, locks and channels,
//! checked in a real browser: headless Chromium loads the page, runs its
//! script, and the drawn DOM must hold one lane per thread, as many calls
//! per lane as `replay stats` counts, and one arrow per event that waited
//! for another thread. Without Chromium the browser tests fail under `CI`
//! (saying how to install it) and are skipped loudly elsewhere.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{replay, replay_ok};
use replay_runtime::inspect::{Entry, Inspection, Meeting};
use replay_runtime::sync::{Mutex, mpsc};
use replay_runtime::{Session, deterministic, thread};
use replay_tests::recording_files::{call, define, recording_of};
use replay_tests::{
    assert_contains, assert_success, catch_panic, path_str, scratch_dir, stderr, stdout, write_file,
};

#[deterministic]
fn add(total: u64, n: u64) -> u64 {
    total + n
}

#[deterministic]
fn label(name: &str, worker: u64) -> String {
    format!("{name}-{worker}")
}

/// A run with threads meeting every way the timeline draws: spawns, a
/// mutex taken in turns, messages to the main thread, and C calls.
fn program(workers: u64, first_label: &str) {
    label(first_label, 0);
    let total = Arc::new(Mutex::new(0u64));
    let (tx, rx) = mpsc::channel();
    let handles: Vec<_> = (1..=workers)
        .map(|w| {
            let (total, tx) = (total.clone(), tx.clone());
            thread::spawn(move || {
                for n in 0..5 {
                    let mut total = total.lock().expect("the lock");
                    *total = add(*total, n);
                }
                replay_tests::c_calls();
                tx.send(label("done", w)).expect("send");
            })
        })
        .collect();
    drop(tx);
    for _ in 0..workers {
        let done = rx.recv().expect("a message");
        label(&done, 0);
    }
    for handle in handles {
        handle.join().expect("join");
    }
}

fn record(path: &Path) {
    let session = Session::record(path).expect("start recording");
    program(3, "start");
    session.finish().expect("finish recording");
}

/// Headless Chromium, or `None` (loudly) outside CI when it is missing.
fn chromium() -> Option<PathBuf> {
    let found = std::env::var_os("CHROMIUM").map(PathBuf::from).or_else(|| {
        ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.exists())
    });
    if found.is_none() {
        let how = "headless Chromium is needed to test the timeline page: install it with \
                   `apt-get install -y chromium` (Debian), or set CHROMIUM to its path";
        assert!(std::env::var_os("CI").is_none(), "{how}");
        eprintln!("\n*** SKIPPED: {how} ***\n");
    }
    found
}

/// The page's DOM after its scripts ran, as Chromium serialises it.
fn rendered(browser: &Path, page: &Path) -> String {
    // A fresh profile per page: tests run in parallel.
    let profile = page.with_extension("chromium-profile");
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().expect("wait for chromium").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish within 120 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().expect("chromium's output");
    let dom = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_contains!(
        dom,
        "data-drawn=\"yes\"",
        "the page's script ran to its end"
    );
    dom
}

/// The value of attribute `name` in each tag of the DOM starting `<tag`.
fn attributes<'a>(dom: &'a str, tag: &str, name: &str) -> Vec<&'a str> {
    let needle = format!(" {name}=\"");
    dom.split(&format!("<{tag} "))
        .skip(1)
        .filter_map(|t| {
            let t = &t[..t.find('>').unwrap_or(t.len())];
            let at = t.find(&needle)? + needle.len();
            Some(&t[at..at + t[at..].find('"')?])
        })
        .collect()
}

/// Calls per thread, as `replay stats` counts them.
fn stats_calls(path: &Path) -> HashMap<u32, u64> {
    replay_ok("stats", path)
        .lines()
        .filter_map(|l| {
            let rest = l.trim_start().strip_prefix("thread ")?;
            let (thread, rest) = rest.split_once(": ")?;
            let calls = rest.split_once(" call(s)")?.0;
            Some((thread.parse().ok()?, calls.parse().ok()?))
        })
        .collect()
}

/// Events that waited for another thread, from the recording itself:
/// spawns, lock opens after another thread's open, messages from another
/// thread whose send is known.
fn expected_arrows(path: &Path) -> usize {
    let recording = Inspection::open(path).expect("open");
    let mut spawns = 0;
    let mut write_opens: HashMap<(u64, u64), u32> = HashMap::new();
    let mut lock_opens = Vec::new();
    let mut receives = 0;
    for thread in recording.threads() {
        for entry in recording.entries(thread).expect("entries") {
            match entry.expect("an entry") {
                Entry::Thread(Meeting::Spawn { .. }) => spawns += 1,
                Entry::Thread(Meeting::Lock {
                    lock: Some(lock),
                    version,
                    reads,
                }) => {
                    assert_eq!(reads, 0, "a mutex has no reads");
                    write_opens.insert((lock, version), thread);
                    lock_opens.push((thread, lock, version));
                }
                Entry::Thread(Meeting::Receive {
                    sender: Some(sender),
                    sent_after: Some(_),
                    ..
                }) if sender != thread => receives += 1,
                _ => {}
            }
        }
    }
    let handed_over = lock_opens
        .iter()
        .filter(|(thread, lock, version)| {
            version
                .checked_sub(1)
                .and_then(|v| write_opens.get(&(*lock, v)))
                .is_some_and(|before| before != thread)
        })
        .count();
    spawns + handed_over + receives
}

#[test]
fn timeline_draws_every_call_and_every_meeting_between_threads() {
    let dir = scratch_dir("timeline-threads");
    let path = dir.join("threads.replay");
    record(&path);
    let page = dir.join("threads.html");
    let out = replay(&["timeline", path_str(&path), "-o", path_str(&page)]);
    assert_success(&out);
    assert_contains!(stdout(&out), "4 thread(s)");

    let html = std::fs::read_to_string(&page).expect("the page");
    for external in ["src=", "href=", "@import", "url(http", "fetch("] {
        assert!(
            !html.contains(external),
            "the page loads nothing: {external}"
        );
    }
    // The details hold each call decoded as `replay dump` decodes it.
    let dump = replay_ok("dump", &path);
    let first = dump
        .lines()
        .find(|l| l.trim_start().starts_with("0:1 "))
        .expect("call 0:1 in the dump")
        .trim_start()
        .to_owned();
    assert_contains!(first, "timeline::label(\"start\", 0)");
    let as_json = first
        .replace('"', "\\\"")
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026");
    assert_contains!(html, &as_json);

    let Some(browser) = chromium() else {
        return;
    };
    let dom = rendered(&browser, &page);
    // One lane per thread, in spawn order.
    let lanes = attributes(&dom, "g", "data-thread");
    assert_eq!(lanes, ["0", "1", "2", "3"]);
    // Per lane, the calls its boxes hold are the calls `stats` counts.
    let stats = stats_calls(&path);
    for (i, part) in dom.split("<g class=\"lane\"").skip(1).enumerate() {
        let thread: u32 = lanes[i].parse().expect("a thread");
        let calls: u64 = attributes(part, "rect", "data-calls")
            .iter()
            .map(|n| n.parse::<u64>().expect("a count"))
            .sum();
        assert_eq!(Some(&calls), stats.get(&thread), "thread {thread}");
    }
    // The workers' runs of `add` are aggregated.
    assert_contains!(dom, "add ×5");
    // One arrow per event that waited for another thread.
    let arrows = attributes(&dom, "path", "data-kind");
    assert_eq!(arrows.len(), expected_arrows(&path), "{arrows:?}");
    assert_eq!(arrows.iter().filter(|k| **k == "spawn").count(), 3);
    assert_eq!(arrows.iter().filter(|k| **k == "message").count(), 3);
    assert!(arrows.contains(&"lock"), "{arrows:?}");
    // Each arrow names its ends `thread:call`.
    for from in attributes(&dom, "path", "data-from") {
        let (thread, call) = from.split_once(':').expect("thread:call");
        assert!(thread.parse::<u32>().is_ok() && !call.is_empty(), "{from}");
    }
}

#[test]
fn timeline_marks_where_a_replay_diverged() {
    let dir = scratch_dir("timeline-divergence");
    let path = dir.join("run.replay");
    record(&path);
    let (message, _) = catch_panic(|| {
        let session = Session::replay(&path).expect("start replay");
        program(3, "changed");
        session.finish()
    });
    assert_contains!(message, "replay diverged at call #1 on thread 0");
    let page = dir.join("run.html");
    let marked = |report: &Path| {
        let out = replay(&[
            "timeline",
            path_str(&path),
            "-o",
            path_str(&page),
            "--divergence",
            path_str(report),
        ]);
        assert_success(&out);
        stdout(&out)
    };
    let report = write_file(&dir, "report.txt", &message);
    assert_contains!(marked(&report), "event 0:1");

    // The line REPLAY_BREAK prints names an event the same way.
    let report = write_file(&dir, "break.txt", "stop here: REPLAY_BREAK=2:3\n");
    assert_contains!(marked(&report), "event 2:3");

    let Some(browser) = chromium() else {
        return;
    };
    let dom = rendered(&browser, &page);
    let marked: Vec<_> = dom
        .split("<rect ")
        .map(|r| &r[..r.find('>').unwrap_or(r.len())])
        .filter(|r| r.starts_with("class=\"box") && r.contains("diverged"))
        .collect();
    assert_eq!(marked.len(), 1, "{marked:?}");
    assert_contains!(marked[0], "data-name=\"2:3\"");
}

#[test]
fn timeline_draws_old_recordings_without_the_arrows_they_cannot_know() {
    let old = Path::new(env!("CARGO_MANIFEST_DIR")).join(
        "../tests/tests/recordings/recorded_v4/c_library_calls_replay_from_a_committed_recording.replay",
    );
    let dir = scratch_dir("timeline-old");
    let page = dir.join("old.html");
    let out = replay(&["timeline", path_str(&old), "-o", path_str(&page)]);
    assert_success(&out);
    assert_contains!(
        stdout(&out),
        "format version 4, which does not record which lock"
    );
    let html = std::fs::read_to_string(&page).expect("the page");
    assert_contains!(html, "no lock or message arrows");
}

#[test]
fn timeline_keeps_hostile_names_as_text() {
    let dir = scratch_dir("timeline-hostile");
    let name = "</script><script>document.title='owned'</script><img src=x onerror=alert(1)>";
    let events = [
        define(0, name, "fn(u8) -> u8"),
        call(0, &[1], &[2]),
        call(0, &[3], &[4]),
    ]
    .concat();
    let path = write_file(&dir, "hostile.replay", recording_of(&events));
    let page = dir.join("hostile.html");
    assert_success(&replay(&[
        "timeline",
        path_str(&path),
        "-o",
        path_str(&page),
    ]));
    let html = std::fs::read_to_string(&page).expect("the page");
    assert_eq!(html.matches("<script").count(), 2, "only the page's own");
    assert!(!html.contains("<img"));

    let Some(browser) = chromium() else {
        return;
    };
    let dom = rendered(&browser, &page);
    assert!(!dom.contains("<img"), "no element from the recording");
    assert!(
        !dom.contains("<title>owned"),
        "no script from the recording ran"
    );
    assert_contains!(dom, "data-calls=\"2\"");
}

#[test]
fn timeline_rejects_bad_input_with_a_clear_error() {
    let dir = scratch_dir("timeline-bad");
    let path = dir.join("run.replay");
    record(&path);
    let page = dir.join("out.html");
    let fails = |args: &[&str], expected: &str| {
        let out = replay(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert_contains!(err, expected, "{args:?}");
        assert!(!err.contains("panicked"), "{err}");
    };
    let missing = dir.join("missing.replay");
    fails(
        &["timeline", path_str(&missing), "-o", path_str(&page)],
        "missing.replay",
    );
    let corrupt = write_file(&dir, "corrupt.replay", b"\x89RPLAY\r\n\x05\x00garbage");
    fails(
        &["timeline", path_str(&corrupt), "-o", path_str(&page)],
        "corrupt.replay",
    );
    fails(&["timeline", path_str(&path)], "--output");
    fails(
        &["timeline", path_str(&path), "-o", path_str(&dir)],
        "cannot write the page",
    );
    let with_report = |report: &Path| {
        [
            "timeline".to_owned(),
            path_str(&path).to_owned(),
            "-o".to_owned(),
            path_str(&page).to_owned(),
            "--divergence".to_owned(),
            path_str(report).to_owned(),
        ]
    };
    let args = with_report(&dir.join("no-report.txt"));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    fails(&args, "cannot read the divergence report");
    for (text, expected) in [
        ("all is well", "names no event"),
        (
            "replay diverged at call #999 on thread 0: x",
            "thread 0 has 4 recorded call(s)",
        ),
        (
            "replay diverged at call #1 on thread 7: x",
            "the recording has no thread 7 (its threads: 0, 1, 2, 3)",
        ),
        ("stop here: REPLAY_BREAK=1:0", "thread 1 has"),
    ] {
        let report = write_file(&dir, "report.txt", text);
        let args = with_report(&report);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        fails(&args, expected);
    }
    assert!(!page.exists(), "no page is written for bad input");
}
