//! The session's background writer: recording threads hand it full
//! chunks, and one thread of its own compresses them (`compress.rs`),
//! seals them (their checksum) and writes them, in the order they came. A
//! recording thread never makes a `write` system call in steady state; it
//! waits only when the queue is full (back-pressure: memory stays bounded
//! whatever the disk does).

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

use super::compress::{Compressor, Effort};
use super::format::{self, BLOCK, CHUNK_HEADER};
use super::stream::chunk_crc;

/// Bytes of full chunks that may wait to be written (8 blocks): a chunk
/// that would go past it waits, unless the queue is empty (one event may
/// make a chunk of up to `MAX_CHUNK` bytes). With the chunk each thread
/// stages, what a session holds in memory is bounded.
pub(crate) const QUEUED_BYTES: usize = 8 * BLOCK;

/// Written buffers kept for reuse.
const KEPT: usize = 8;

/// A buffer larger than this (one huge event grew it) is freed once
/// written rather than kept for reuse.
const REUSED: usize = 2 * BLOCK;

/// Where the chunks go: the file, the first write error, and the bytes
/// written. Shared by the session's sink and its writer thread.
pub(super) struct Output {
    file: Mutex<File>,
    /// The first write error; later writes are skipped, the recording is
    /// never published, and `finish` reports it.
    failed: Mutex<Option<io::Error>>,
    /// Bytes written so far, header included.
    bytes: AtomicU64,
}

impl Output {
    pub(super) fn new(file: File, header: u64) -> Self {
        Output {
            file: Mutex::new(file),
            failed: Mutex::new(None),
            bytes: AtomicU64::new(header),
        }
    }

    pub(super) fn file(&self) -> MutexGuard<'_, File> {
        self.file.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn failed(&self) -> MutexGuard<'_, Option<io::Error>> {
        self.failed.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Bytes written so far, header included. Relaxed: a count read after
    /// the writes it counts were waited for (`Spool::drain`), whose lock
    /// orders them.
    pub(super) fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    /// Writes `bytes`, unless an earlier write failed.
    fn write(&self, bytes: &[u8]) {
        let mut failed = self.failed();
        if failed.is_some() {
            return;
        }
        match self.file().write_all(bytes) {
            // Relaxed: see `bytes`.
            Ok(()) => drop(self.bytes.fetch_add(bytes.len() as u64, Ordering::Relaxed)),
            Err(e) => *failed = Some(e),
        }
    }
}

/// The queue between the recording threads and the writer thread.
struct Queue {
    /// Full chunks, oldest first.
    full: VecDeque<Vec<u8>>,
    /// Their bytes.
    queued: usize,
    /// Chunks handed over, and chunks written, since the start: a thread
    /// waiting for its own chunks waits for `written` to reach what
    /// `handed` was when it handed its last one over.
    handed: u64,
    written: u64,
    /// Written buffers, emptied, for the recording threads to reuse.
    free: Vec<Vec<u8>>,
    /// The sink is gone: the writer thread writes what is queued and ends.
    closing: bool,
    /// No writer thread (it could not be started, or it ended): chunks
    /// are written by the thread that hands them over.
    alone: bool,
}

impl Queue {
    /// Whether `len` more bytes must wait for room.
    fn full_for(&self, len: usize) -> bool {
        !self.full.is_empty() && self.queued + len > QUEUED_BYTES
    }
}

struct Shared {
    queue: Mutex<Queue>,
    /// Signalled when a chunk is queued or the sink closes.
    work: Condvar,
    /// Signalled when a chunk is written: room in the queue, and perhaps
    /// nothing left to write.
    written: Condvar,
    output: Arc<Output>,
}

impl Shared {
    fn queue(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The background writer of one session.
pub(super) struct Spool {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
    /// The process that started the writer thread: a child forked since
    /// has no such thread, and writes for itself.
    pid: u32,
}

impl Spool {
    /// Starts the writer thread. If the system refuses a thread, chunks
    /// are written by the recording threads themselves, as a fallback.
    pub(super) fn start(output: Arc<Output>) -> Spool {
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue {
                full: VecDeque::new(),
                queued: 0,
                handed: 0,
                written: 0,
                free: Vec::new(),
                closing: false,
                alone: false,
            }),
            work: Condvar::new(),
            written: Condvar::new(),
            output,
        });
        let theirs = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("replay-writer".into())
            .spawn(move || write_queued(&theirs))
            .ok();
        if thread.is_none() {
            shared.queue().alone = true;
        }
        Spool {
            shared,
            thread: Mutex::new(thread),
            pid: std::process::id(),
        }
    }

    /// Whether this is a child forked since the writer thread started: it
    /// has no writer thread. (A fork while another thread held the
    /// queue's lock leaves the child a lock that stays taken: recording
    /// across `fork` is not supported.)
    fn forked(&self) -> bool {
        std::process::id() != self.pid
    }

    /// Hands over a full chunk (header reserved, length and stream set)
    /// and returns an empty buffer for the next one, with its header
    /// reserved. Waits while the queue is full.
    pub(super) fn exchange(&self, chunk: Vec<u8>) -> Vec<u8> {
        if self.forked() {
            return write_here(&self.shared, chunk);
        }
        let mut queue = self.shared.queue();
        while queue.full_for(chunk.len()) && !queue.alone {
            queue = wait(&self.shared.written, queue);
        }
        if queue.alone {
            drop(queue);
            return write_here(&self.shared, chunk);
        }
        queue.queued += chunk.len();
        queue.handed += 1;
        queue.full.push_back(chunk);
        let spare = queue.free.pop();
        drop(queue);
        self.shared.work.notify_one();
        spare.unwrap_or_else(format::chunk_buffer)
    }

    /// Waits until every chunk handed over so far is written (not those
    /// other threads hand over meanwhile: a disk slower than they are
    /// would keep the queue from ever emptying).
    pub(super) fn drain(&self) {
        if self.forked() {
            return;
        }
        let mut queue = self.shared.queue();
        let target = queue.handed;
        while queue.written < target && !queue.alone {
            queue = wait(&self.shared.written, queue);
        }
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        self.shared.queue().closing = true;
        self.shared.work.notify_one();
        let thread = self
            .thread
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        match thread {
            // A forked child has no such thread to join.
            Some(thread) if self.forked() => std::mem::forget(thread),
            Some(thread) => drop(thread.join()),
            None => {}
        }
    }
}

fn wait<'a>(condvar: &Condvar, queue: MutexGuard<'a, Queue>) -> MutexGuard<'a, Queue> {
    condvar.wait(queue).unwrap_or_else(PoisonError::into_inner)
}

/// The writer thread: seals and writes chunks in the order they came,
/// until the sink closes and nothing is left.
fn write_queued(shared: &Shared) {
    // Should this thread ever unwind, the recording threads write for
    // themselves rather than wait for it forever.
    struct Alone<'a>(&'a Shared);
    impl Drop for Alone<'_> {
        fn drop(&mut self) {
            // What is left is written under the lock, so that no chunk a
            // recording thread writes for itself from now on goes ahead.
            let mut queue = self.0.queue();
            queue.alone = true;
            while let Some(chunk) = queue.full.pop_front() {
                write_here(self.0, chunk);
                queue.written += 1;
            }
            queue.queued = 0;
            drop(queue);
            self.0.written.notify_all();
        }
    }
    let _alone = Alone(shared);
    let mut compressor = Compressor::new();
    let mut queue = shared.queue();
    loop {
        let Some(mut chunk) = queue.full.pop_front() else {
            if queue.closing {
                return;
            }
            queue = wait(&shared.work, queue);
            continue;
        };
        // As much compression as keeps up with the recording threads: they
        // wait for the disk, never for compression. What waits behind this
        // chunk tells.
        let effort = match queue.queued - chunk.len() {
            n if n > QUEUED_BYTES * 3 / 4 => Effort::Store,
            n if n > QUEUED_BYTES / 4 => Effort::Fast,
            _ => Effort::Thorough,
        };
        drop(queue);
        let len = chunk.len();
        compressor.compress(&mut chunk, effort);
        seal(&mut chunk);
        shared.output.write(&chunk);
        chunk.truncate(CHUNK_HEADER);
        queue = shared.queue();
        queue.queued -= len;
        queue.written += 1;
        if chunk.capacity() <= REUSED && queue.free.len() < KEPT {
            queue.free.push(chunk);
        }
        shared.written.notify_all();
    }
}

/// Writes a chunk on the thread that hands it over (no writer thread);
/// returns its buffer, emptied.
fn write_here(shared: &Shared, mut chunk: Vec<u8>) -> Vec<u8> {
    seal(&mut chunk);
    shared.output.write(&chunk);
    chunk.truncate(CHUNK_HEADER);
    chunk
}

/// Fills in a chunk's checksum, over its stream and payload.
fn seal(chunk: &mut [u8]) {
    let stream = u32::from_le_bytes([chunk[8], chunk[9], chunk[10], chunk[11]]);
    let crc = chunk_crc(stream, &chunk[CHUNK_HEADER..]);
    chunk[4..8].copy_from_slice(&crc.to_le_bytes());
}
