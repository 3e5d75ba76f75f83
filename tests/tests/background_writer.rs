//! Chunks are written by the session's background writer (issue 11): a
//! recording thread goes on while the disk (here, a pipe nobody reads)
//! does not take its bytes, until a bounded queue is full; then it waits.
//! Nothing is lost or reordered on the way.

use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use replay_runtime::Session;
use replay_tests::{rt_now_nanos, scratch_dir};

/// Calls recorded: many more chunks than the queue holds.
const CALLS: u64 = 1_000_000;

/// The count once it has stopped growing for a while (or `CALLS`).
fn settled(count: &AtomicU64) -> u64 {
    let mut last = count.load(Ordering::Relaxed);
    let mut since = Instant::now();
    let start = Instant::now();
    while since.elapsed() < Duration::from_millis(700) && start.elapsed() < Duration::from_secs(60)
    {
        std::thread::sleep(Duration::from_millis(50));
        let now = count.load(Ordering::Relaxed);
        if now != last {
            (last, since) = (now, Instant::now());
        }
    }
    last
}

#[test]
fn a_recording_thread_runs_ahead_of_a_stalled_disk_then_waits_for_it() {
    let dir = scratch_dir("background-writer");
    let fifo = dir.join("stalled.replay");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("mkfifo is not available; skipping");
        return;
    }
    // A reader that reads nothing yet: the pipe fills, and every write
    // to it blocks until the test starts reading.
    let mut reader = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&fifo)
        .expect("the pipe opens for reading");

    let count = Arc::new(AtomicU64::new(0));
    let counted = Arc::clone(&count);
    let path = fifo.clone();
    let recorder = std::thread::spawn(move || {
        let session = Session::record(&path).expect("recording into a pipe");
        let clock: Vec<u64> = (0..CALLS)
            .map(|_| {
                counted.fetch_add(1, Ordering::Relaxed);
                rt_now_nanos()
            })
            .collect();
        (session.finish(), clock)
    });

    // One event is 12 bytes (a head, two lengths, and the clock's 9-byte
    // varint), so a 64 KiB chunk holds 5 461 calls. Writing for itself,
    // the recording thread would stop within two chunks of the pipe's
    // 64 KiB, at most 11 000 calls; with the writer thread it stops once
    // the queue's 8 chunks are full too (more than 43 000 calls), and then
    // waits (far short of the million calls).
    let stalled = settled(&count);
    assert!(
        stalled > 43_000,
        "the recording thread waited for the disk after {stalled} calls"
    );
    assert!(
        stalled < CALLS / 2,
        "the recording thread never waited: {stalled} calls went into an unbounded queue"
    );

    // Reading the pipe lets everything through, in order.
    let mut bytes = Vec::new();
    reader
        .set_nonblocking_off()
        .read_to_end(&mut bytes)
        .expect("the pipe reads");
    let (finished, clock) = recorder.join().expect("the recorder");
    let summary = finished.expect("the recording finishes");
    assert_eq!(summary.calls, CALLS);
    assert_eq!(summary.bytes, bytes.len() as u64);

    let file = dir.join("copied.replay");
    std::fs::write(&file, &bytes).expect("a copy");
    let session = Session::replay(&file).expect("the copy replays");
    for (i, &recorded) in clock.iter().enumerate() {
        assert_eq!(rt_now_nanos(), recorded, "call {i}");
    }
    session
        .finish()
        .expect("every call replayed, none left over");
}

/// Switches a file back to blocking reads.
trait Blocking {
    fn set_nonblocking_off(&mut self) -> &mut Self;
}

impl Blocking for std::fs::File {
    fn set_nonblocking_off(&mut self) -> &mut Self {
        use std::os::fd::AsRawFd;
        let fd = self.as_raw_fd();
        // SAFETY: plain fcntl calls on a descriptor this file owns.
        unsafe {
            let flags = libc::fcntl(fd, libc::F_GETFL);
            libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK);
        }
        self
    }
}
