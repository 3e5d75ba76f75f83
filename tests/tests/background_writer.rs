//! Chunks are written by the session's background writer (issue 11): a
//! recording thread goes on while the disk (here, a pipe nobody reads)
//! does not take its bytes, until a bounded queue is full; then it waits.
//! Nothing is lost or reordered on the way.

use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use replay_runtime::Session;
use replay_tests::{assert_contains, child, child_dir, rt_now_nanos, scratch_dir};

/// Calls recorded: many more chunks than the queue holds.
const CALLS: u64 = 1_000_000;

/// A pipe at `dir/name`, and its read end, open but not read: the pipe
/// fills, and every write to it then blocks until the test reads. `None`
/// without `mkfifo`.
fn stalled_pipe(dir: &std::path::Path, name: &str) -> Option<(PathBuf, std::fs::File)> {
    let fifo = dir.join(name);
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("mkfifo is not available; skipping");
        return None;
    }
    let reader = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&fifo)
        .expect("the pipe opens for reading");
    Some((fifo, reader))
}

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
    let Some((fifo, mut reader)) = stalled_pipe(&dir, "stalled.replay") else {
        return;
    };

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

/// A pipe at `dir/name` read slowly by a plain thread, `per` bytes every
/// `pause` (a disk slower than the program), until its writer closes it.
fn slow_pipe(dir: &std::path::Path, name: &str, per: usize, pause: Duration) -> Option<PathBuf> {
    let (fifo, mut reader) = stalled_pipe(dir, name)?;
    std::thread::spawn(move || {
        let reader = reader.set_nonblocking_off();
        let mut buf = vec![0u8; per];
        while reader.read(&mut buf).is_ok_and(|n| n > 0) {
            std::thread::sleep(pause);
        }
    });
    Some(fifo)
}

/// A panic the program catches, on one thread, while another thread of the
/// session records faster than the disk takes it: the panic hook waits for
/// the chunks its own thread handed over, not for the queue to empty (it
/// never would while the other thread goes on).
#[test]
fn a_caught_panic_does_not_wait_for_another_thread_that_keeps_recording() {
    let dir = scratch_dir("background-writer-panic");
    let Some(pipe) = slow_pipe(&dir, "slow.replay", 32 * 1024, Duration::from_millis(50)) else {
        return;
    };
    let session = Session::record(&pipe).expect("recording into a pipe");
    let stop = Arc::new(AtomicBool::new(false));
    let stopped = Arc::clone(&stop);
    let busy = replay_runtime::thread::spawn(move || {
        while !stopped.load(Ordering::Relaxed) {
            rt_now_nanos();
        }
    });
    // The queue fills up.
    std::thread::sleep(Duration::from_millis(500));
    rt_now_nanos();
    let started = Instant::now();
    let caught = std::panic::catch_unwind(|| panic!("a panic the program catches"));
    let took = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    assert!(caught.is_err());
    busy.join().expect("the busy thread");
    session.finish().expect("the recording finishes");
    assert!(
        took < Duration::from_secs(3),
        "the panic hook waited {took:?}, for another thread's chunks"
    );
}

/// `len` pseudo-random values (xorshift64) of `bits` bits each: 8 bits do
/// not compress, 4 bits compress about twofold.
fn noise(len: usize, bits: u32) -> Vec<u8> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> (64 - bits)) as u8
        })
        .collect()
}

/// 4 MiB that do not compress.
#[replay_runtime::deterministic]
fn four_mebibytes() -> Vec<u8> {
    noise(4 << 20, 8)
}

/// Calls that record 4 MiB each, into a pipe nobody reads: the queue is
/// bounded in bytes, not in chunks, so the recording thread gets one chunk
/// ahead of the one being written, not eight (32 MiB).
#[test]
fn the_queue_is_bounded_in_bytes() {
    let dir = scratch_dir("background-writer-bytes");
    let Some((fifo, mut reader)) = stalled_pipe(&dir, "stalled.replay") else {
        return;
    };
    let count = Arc::new(AtomicU64::new(0));
    let counted = Arc::clone(&count);
    let recorder = std::thread::spawn(move || {
        let session = Session::record(&fifo).expect("recording into a pipe");
        for _ in 0..6 {
            four_mebibytes();
            counted.fetch_add(1, Ordering::Relaxed);
        }
        session.finish()
    });
    // The first chunk is being written (the pipe takes 64 KiB of it), the
    // second waits in the queue, and the third call waits for room.
    let stalled = settled(&count);
    assert_eq!(
        stalled, 2,
        "calls of 4 MiB recorded ahead of a stalled disk"
    );
    let mut bytes = Vec::new();
    reader
        .set_nonblocking_off()
        .read_to_end(&mut bytes)
        .expect("the pipe reads");
    let summary = recorder.join().expect("the recorder").expect("finished");
    assert_eq!(summary.calls, 6);
    assert_eq!(summary.bytes, bytes.len() as u64);
}

/// A recording process forks, and the child ends the session it inherited
/// (as returning from `main` would): the child has no writer thread, so it
/// writes for itself rather than wait for one forever.
#[test]
fn a_forked_child_that_ends_its_session_does_not_hang() {
    const TEST: &str = "a_forked_child_that_ends_its_session_does_not_hang";
    if let Some(dir) = child_dir() {
        let session = Session::record(dir.join("forked.replay")).expect("record");
        rt_now_nanos();
        // SAFETY: the child only records, ends the session and `_exit`s.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            rt_now_nanos();
            let finished = session.finish();
            eprintln!("forked child: finish returned {:?}", finished.map(|_| ()));
            // SAFETY: ends the forked child without running the parent's
            // exit handlers twice.
            unsafe { libc::_exit(0) };
        }
        let started = Instant::now();
        let mut status = 0;
        // SAFETY: polling and, at worst, killing this process's own child.
        unsafe {
            while libc::waitpid(pid, &mut status, libc::WNOHANG) != pid {
                if started.elapsed() > Duration::from_secs(20) {
                    eprintln!("the forked child hung");
                    libc::kill(pid, libc::SIGKILL);
                    libc::waitpid(pid, &mut status, 0);
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        // The child published the staged file both share (recording across
        // `fork` is not supported), so the parent's `finish` may well find
        // its path replaced: only that nothing hangs matters here.
        drop(session.finish());
        return;
    }
    let out = child(TEST, &scratch_dir("background-writer-fork"), &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("hung"), "{stderr}");
    assert_contains!(stderr, "forked child: finish returned Ok(())");
}

/// A megabyte of bytes that compress about twofold: 16 values (4 bits) at
/// random.
#[replay_runtime::deterministic]
fn a_compressible_megabyte() -> Vec<u8> {
    noise(1 << 20, 4)
}

/// One call recording a megabyte, with the writer idle: its chunk, far
/// larger than the queue's share, is compressed all the same (the writer
/// looks at what waits behind it, not at its own size).
#[test]
fn a_large_chunk_is_compressed_when_the_writer_keeps_up() {
    let path = scratch_dir("background-writer-large").join("large.replay");
    let session = Session::record(&path).expect("record");
    let recorded = a_compressible_megabyte();
    let summary = session.finish().expect("finished");
    assert!(
        summary.bytes < (recorded.len() * 7 / 10) as u64,
        "{} bytes for a megabyte that compresses twofold",
        summary.bytes
    );
    let session = Session::replay(&path).expect("replay");
    assert_eq!(a_compressible_megabyte(), recorded);
    session.finish().expect("replayed");
}
