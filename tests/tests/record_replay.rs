//! Recording real foreign calls and replaying them in the same process.

use std::io::Write;
use std::path::Path;

use replay_runtime::{Mode, Session, assume_deterministic, deterministic};
use replay_tests::{
    Point, assert_contains, c_calls, greet, libc_calls, path_str, rt_fill_random, rt_now_nanos,
    rt_point_jitter, rt_read_some, scratch_dir, stats, write_file,
};

/// Reads the integer stored in `path` (0 if there is none), stores it plus
/// one, and returns the new value: a real side effect on a real file.
#[deterministic]
fn increment_counter(path: &str) -> u64 {
    let current = std::fs::read_to_string(path)
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or(0);
    std::fs::write(path, (current + 1).to_string()).expect("write the counter");
    current + 1
}

fn counter_value(path: &Path) -> String {
    std::fs::read_to_string(path).expect("read the counter")
}

#[test]
fn counter_file_is_one_normally_two_recorded_and_two_replayed() {
    let dir = scratch_dir("counter");
    let counter = dir.join("counter.txt");
    let counter_str = path_str(&counter);
    let recording = dir.join("counter.replay");

    // A normal run: no session, the function runs for real.
    assert_eq!(increment_counter(counter_str), 1);

    let session = Session::record(&recording).expect("start recording");
    assert_eq!(session.mode(), Mode::Record);
    assert_eq!(increment_counter(counter_str), 2);
    session.finish().expect("finish recording");
    assert_eq!(counter_value(&counter), "2");

    let session = Session::replay(&recording).expect("start replaying");
    assert_eq!(increment_counter(counter_str), 2);
    let summary = session.finish().expect("replay consumed everything");
    assert_eq!(summary.calls, 1);
    // Replay did not touch the file.
    assert_eq!(counter_value(&counter), "2");
}

/// Everything the C library is asked in one run, with the values it gave.
#[derive(Debug, PartialEq)]
struct CRun {
    now: u64,
    point: Point,
    random: [u8; 16],
    some: Vec<u8>,
    greeting: String,
    sum: i64,
    max: i32,
}

fn talk_to_c() -> CRun {
    let now = rt_now_nanos();
    let point = rt_point_jitter(Point { x: 10, y: -4 }, 1000);
    let mut random = [0u8; 16];
    // SAFETY: the buffer holds 16 bytes.
    let filled = unsafe { rt_fill_random(random.as_mut_ptr(), random.len()) };
    assert_eq!(filled, 16);
    let mut some = vec![0u8; 32];
    // SAFETY: the buffer holds 32 bytes.
    let n = unsafe { rt_read_some(some.as_mut_ptr(), some.len()) };
    some.truncate(n as usize);
    let greeting = greet("replay");
    let (mut sum, mut max) = (0, 0);
    stats(&[3, -7, 12, 5], &mut sum, &mut max);
    CRun {
        now,
        point,
        random,
        some,
        greeting,
        sum,
        max,
    }
}

#[test]
fn replay_returns_recorded_values_without_calling_c() {
    let dir = scratch_dir("c-library");
    let recording = dir.join("c.replay");

    let session = Session::record(&recording).expect("start recording");
    let before = c_calls();
    let recorded = talk_to_c();
    assert!(c_calls() > before, "recording calls the real library");
    session.finish().expect("finish recording");
    assert_eq!((recorded.sum, recorded.max), (13, 12));
    assert!(recorded.greeting.starts_with("hello, replay (call "));

    let session = Session::replay(&recording).expect("start replaying");
    let before = c_calls();
    let replayed = talk_to_c();
    assert_eq!(c_calls(), before, "replay must not call into C");
    session.finish().expect("replay consumed everything");
    assert_eq!(replayed, recorded);

    // And a normal run really is nondeterministic, which is the point.
    let normal = talk_to_c();
    assert_ne!(normal.now, recorded.now);
}

#[test]
fn raw_output_buffers_write_back_only_what_was_written() {
    let dir = scratch_dir("raw-out");
    let recording = dir.join("raw.replay");
    let session = Session::record(&recording).expect("start recording");
    let mut recorded = [b'.'; 32];
    // SAFETY: the buffer holds 32 bytes.
    let n = unsafe { rt_read_some(recorded.as_mut_ptr(), recorded.len()) };
    session.finish().expect("finish recording");

    let session = Session::replay(&recording).expect("start replaying");
    let mut replayed = [b'#'; 32];
    // SAFETY: the buffer holds 32 bytes.
    let m = unsafe { rt_read_some(replayed.as_mut_ptr(), replayed.len()) };
    session.finish().expect("replay consumed everything");
    assert_eq!(m, n);
    let n = n as usize;
    assert_eq!(replayed[..n], recorded[..n]);
    assert!(
        replayed[n..].iter().all(|&b| b == b'#'),
        "bytes past `written` are untouched"
    );
}

#[test]
fn libc_getpid_rand_time_and_read_replay() {
    let dir = scratch_dir("libc");
    let recording = dir.join("libc.replay");
    let input = write_file(&dir, "input.txt", "recorded input");

    let run = || {
        let pid = libc_calls::getpid();
        // SAFETY: plain libc calls; `time` may be given a null pointer, and
        // `read` gets a buffer of the size it is told.
        unsafe {
            libc_calls::srand(pid as u32);
            let r = libc_calls::rand();
            let mut t: libc::time_t = 0;
            let now = libc_calls::time(&mut t);
            let also = libc_calls::time(std::ptr::null_mut());
            let file = std::fs::File::open(&input).expect("open input");
            // A descriptor number of its own: the lowest free one depends
            // on what the tests running beside this one have open.
            let fd = 300 + (std::process::id() % 7) as i32;
            assert_eq!(libc::dup2(std::os::fd::AsRawFd::as_raw_fd(&file), fd), fd);
            let mut buf = [0u8; 64];
            let n = libc_calls::read(fd, buf.as_mut_ptr().cast(), buf.len());
            libc::close(fd);
            (pid, r, now, t, also, buf[..n.max(0) as usize].to_vec())
        }
    };
    let session = Session::record(&recording).expect("start recording");
    let recorded = run();
    session.finish().expect("finish recording");
    assert_eq!(recorded.0, std::process::id() as i32);
    assert_eq!(recorded.2, recorded.3, "time() wrote through its pointer");
    assert_eq!(recorded.5, b"recorded input");

    // The file changes; replay still sees what was read when recording.
    std::fs::write(&input, "something else entirely").expect("rewrite input");
    let session = Session::replay(&recording).expect("start replaying");
    let replayed = run();
    session.finish().expect("replay consumed everything");
    assert_eq!(replayed, recorded);
}

struct Clock {
    offset: u64,
}

impl Clock {
    /// A method: recorded under the type's name.
    #[deterministic]
    fn now(&self) -> u64 {
        rt_now_nanos() + self.offset
    }
}

#[test]
fn methods_are_recorded_and_nested_calls_are_covered_by_the_outer_one() {
    let dir = scratch_dir("method");
    let recording = dir.join("method.replay");
    let clock = Clock { offset: 5 };
    let session = Session::record(&recording).expect("start recording");
    let recorded = clock.now();
    // One call: the inner `rt_now_nanos` is part of `Clock::now`.
    assert_eq!(session.finish().expect("finish").calls, 1);

    let session = Session::replay(&recording).expect("start replaying");
    assert_eq!(clock.now(), recorded);
    session.finish().expect("replay consumed everything");
}

static LOG: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

#[assume_deterministic]
fn log(line: &str) {
    // Even a boundary call in here is not recorded.
    let _ = rt_now_nanos();
    LOG.lock().expect("log lock").push(line.to_owned());
}

fn program_v1() -> (u64, String) {
    (rt_now_nanos(), greet("v1"))
}

/// The same boundary calls as `program_v1`, with prints, pure calls and
/// logging added around them.
fn program_v2() -> (u64, String) {
    log("starting");
    let squares: u64 = (1..=10u64).map(|i| i * i).sum();
    println!("pure work: {squares}");
    let now = rt_now_nanos();
    log(&format!("now = {now}"));
    let _ = std::io::stdout().flush();
    let greeting = greet("v1");
    log("done");
    (now, greeting)
}

#[test]
fn recording_survives_added_prints_pure_calls_and_assumed_calls() {
    let dir = scratch_dir("resilience");
    let recording = dir.join("v1.replay");
    let session = Session::record(&recording).expect("start recording");
    let recorded = program_v1();
    session.finish().expect("finish recording");

    let session = Session::replay(&recording).expect("start replaying");
    let replayed = program_v2();
    session
        .finish()
        .expect("the edited program replays the old recording");
    assert_eq!(replayed, recorded);
    assert_eq!(
        LOG.lock().expect("log lock").len(),
        3,
        "assumed calls ran for real"
    );
}

#[test]
fn threads_without_a_session_run_for_real() {
    let dir = scratch_dir("other-thread");
    let recording = dir.join("main.replay");
    let session = Session::record(&recording).expect("start recording");
    let recorded = rt_now_nanos();
    let other = std::thread::spawn(|| {
        let before = c_calls();
        let _ = rt_now_nanos();
        c_calls() - before
    })
    .join()
    .expect("thread");
    assert_eq!(other, 1, "the other thread called C for real");
    assert_eq!(session.finish().expect("finish").calls, 1);

    let session = Session::replay(&recording).expect("start replaying");
    assert_eq!(rt_now_nanos(), recorded);
    session.finish().expect("replay consumed everything");
}

#[test]
fn dropping_an_unfinished_record_session_still_flushes() {
    let dir = scratch_dir("drop-flush");
    let recording = dir.join("dropped.replay");
    let recorded = {
        let _session = Session::record(&recording).expect("start recording");
        (rt_now_nanos(), greet("dropped"))
    };
    let session = Session::replay(&recording).expect("the dropped session wrote its calls");
    assert_eq!((rt_now_nanos(), greet("dropped")), recorded);
    session.finish().expect("replay consumed everything");
}

#[test]
fn a_panic_while_recording_keeps_the_calls_before_it() {
    let dir = scratch_dir("panic-flush");
    let recording = dir.join("panicked.replay");
    let path = recording.clone();
    let recorded = std::thread::spawn(move || {
        let session = Session::record(&path).expect("start recording");
        let now = rt_now_nanos();
        let result = std::panic::catch_unwind(move || {
            let _session = session;
            panic!("the program crashed after calling C");
        });
        assert!(result.is_err());
        now
    })
    .join()
    .expect("thread");
    let session = Session::replay(&recording).expect("the panicking session wrote its calls");
    assert_eq!(rt_now_nanos(), recorded);
    session.finish().expect("replay consumed everything");
}

#[test]
fn a_second_session_on_the_same_thread_is_refused() {
    let dir = scratch_dir("nested");
    let session = Session::record(dir.join("a.replay")).expect("start recording");
    let err = Session::record(dir.join("b.replay")).expect_err("one session per thread");
    assert_contains!(err.to_string(), "already active");
    session.finish().expect("finish");
    // Once finished, a new one may start.
    Session::record(dir.join("c.replay"))
        .expect("start again")
        .finish()
        .expect("finish");
}

#[test]
fn an_unfinished_re_recording_leaves_the_old_recording_intact() {
    let dir = scratch_dir("atomic-record");
    let recording = dir.join("kept.replay");
    let session = Session::record(&recording).expect("start recording");
    let recorded = rt_now_nanos();
    session.finish().expect("finish recording");
    let before = std::fs::read(&recording).expect("the recording");

    // A re-recording that never finishes (the process is killed, say).
    let session = Session::record(&recording).expect("start re-recording");
    let _ = rt_now_nanos();
    std::mem::forget(session);
    assert_eq!(
        std::fs::read(&recording).expect("the recording"),
        before,
        "untouched"
    );
    let aside: Vec<_> = std::fs::read_dir(&dir)
        .expect("the directory")
        .map(|e| {
            e.expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.starts_with("kept.replay.") && name.ends_with(".partial"))
        .collect();
    assert_eq!(aside.len(), 1, "the new one is kept aside: {aside:?}");

    // A finished re-recording replaces it.
    std::thread::spawn(move || {
        let session = Session::record(&recording).expect("start re-recording");
        let again = rt_now_nanos();
        session.finish().expect("finish re-recording");
        assert_ne!(again, recorded);
        assert_ne!(std::fs::read(&recording).expect("the recording"), before);
    })
    .join()
    .expect("re-record on a thread of its own");
}

#[test]
fn identities_of_threads_without_a_session_never_collide() {
    use replay_runtime::identity::Identity;
    let here = Identity::next();
    let there = std::thread::spawn(Identity::next)
        .join()
        .expect("the thread ends");
    assert_ne!(here, there, "two threads without a session, two identities");
    assert_ne!(here.thread(), there.thread());
    // A session restarts the numbering deterministically at thread 0; its
    // end gives the thread a fresh id again.
    let dir = replay_tests::scratch_dir("identity-sessions");
    let session = Session::record(dir.join("i.replay")).expect("start recording");
    let inside = Identity::next();
    session.finish().expect("finish");
    assert_eq!((inside.thread(), inside.get()), (0, 0));
    let after = Identity::next();
    assert_ne!(after, inside);
    assert_ne!(after.thread(), here.thread());
}

#[test]
fn structs_asserted_plain_cross_an_output_buffer_byte_for_byte() {
    let recording = replay_tests::scratch_dir("plain-structs").join("p.replay");
    let recorded = replay_tests::record_then_replay(&recording, |_| {
        let mut points = [replay_tests::Point { x: 0, y: 0 }; 4];
        // SAFETY: `points` holds 4 points.
        let n = unsafe { replay_tests::rt_scatter(points.as_mut_ptr(), points.len()) };
        (n, points)
    });
    assert_eq!(recorded.0, 4);
}
