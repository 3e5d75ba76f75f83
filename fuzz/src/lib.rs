//! What the fuzz targets share: the small program that `replay_program`
//! replays from fuzzed bytes (and that `seed` records, to make the seeds),
//! and [`fix_checksums`], which lets mutated files past the CRC-32 checks.
//!
//! The program exercises what a recording can steer: `#[deterministic]`
//! Rust functions (integers, strings, `Vec`, a `&mut` in/out value, an
//! `#[out]` slice), C functions of libc in an extern block (a return value,
//! an `#[out(len = 1)]` pointer), threads (`replay_runtime::thread`),
//! `sync::{Mutex, RwLock}`, `sync::mpsc` channels (unbounded and bounded,
//! `recv`, `try_recv`, `recv_timeout`) and `mpsc::select`.
//!
//! It never panics by itself and never unwraps what the recording decides
//! (a poisoned lock, a disconnected channel, a failed join are data), so
//! under replay the only panics are the runtime's own: a divergence, by
//! design. It makes no wrapped call from a `Drop`, and no callbacks, where
//! a divergence aborts by design. A recorded value never sizes a loop or
//! an allocation beyond what the file itself holds.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use replay_runtime::deterministic;
use replay_runtime::sync::{Mutex, RwLock, mpsc};
use replay_runtime::thread;

/// Worker threads the program spawns.
pub const WORKERS: u32 = 3;
/// Rounds each worker makes.
const ROUNDS: u32 = 3;
/// At most this many messages are taken by the main thread's `select` loop
/// (the recorded runs send `WORKERS * ROUNDS`): a hostile recording cannot
/// make it loop for ever.
const MAX_MESSAGES: usize = 64;

/// Worker threads spawned (or being spawned) and not yet finished: 0 once
/// [`program`] has returned, unless a thread outlived it.
pub static LIVE_WORKERS: AtomicUsize = AtomicUsize::new(0);

/// Counts one worker in [`LIVE_WORKERS`] until dropped: made before the
/// spawn, so that a thread which has not started yet counts too.
struct Alive;

impl Alive {
    fn new() -> Alive {
        LIVE_WORKERS.fetch_add(1, Ordering::SeqCst);
        Alive
    }
}

impl Drop for Alive {
    fn drop(&mut self) {
        LIVE_WORKERS.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The clock's nanoseconds mixed with `salt`: a value replay must reproduce.
#[deterministic]
pub fn entropy(salt: u32) -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    nanos.rotate_left(salt % 64) ^ u64::from(salt)
}

/// A string derived from `n`.
#[deterministic]
pub fn label(n: u64) -> String {
    format!("item-{}", n % 1000)
}

/// `count` small numbers from the clock.
#[deterministic]
pub fn samples(count: u8) -> Vec<u16> {
    (0..count)
        .map(|i| (entropy(u32::from(i)) % 65_521) as u16)
        .collect()
}

/// Writes into `buf` (its old content is not recorded); returns how many
/// bytes it wrote.
#[deterministic]
pub fn fill(#[out] buf: &mut [u8], seed: u8) -> usize {
    for (i, b) in buf.iter_mut().enumerate() {
        *b = seed.wrapping_mul(31).wrapping_add(i as u8);
    }
    buf.len()
}

/// Adds `by` to `counter` (an in/out value: checked before, written after).
#[deterministic]
pub fn bump(counter: &mut u32, by: u32) -> bool {
    *counter = counter.wrapping_add(by);
    counter.is_multiple_of(2)
}

#[deterministic]
unsafe extern "C" {
    safe fn getpid() -> i32;
    fn time(#[out(len = 1)] tloc: *mut i64) -> i64;
}

/// One message between threads.
enum Message {
    Number(u32, u64),
    Text(u32, String),
}

/// Runs the program and returns what it observed, as text: the same text
/// in a replay that reproduced the recorded run.
pub fn program() -> String {
    let mut seen = Vec::new();
    // A std lock, not a recorded one: a replay that diverged at a recorded
    // lock here would drop the handle just spawned and leave its thread
    // running into the next input (this happened: see README.md).
    let handles = std::sync::Mutex::new(Vec::new());
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        body(&mut seen, &handles);
    }));
    // Join every worker, even after a divergence on this thread, so that
    // none outlives the session (a waiting one ends at the stall limit).
    let handles = handles.into_inner().unwrap_or_else(PoisonError::into_inner);
    for (i, handle) in handles.into_iter().enumerate() {
        match handle.join() {
            Ok(text) => seen.push(format!("worker {i}: {text}")),
            Err(_) => seen.push(format!("worker {i} panicked")),
        }
    }
    if let Err(payload) = outcome {
        std::panic::resume_unwind(payload);
    }
    seen.join("\n")
}

type Handles = std::sync::Mutex<Vec<thread::JoinHandle<String>>>;

fn body(seen: &mut Vec<String>, handles: &Handles) {
    let log = Arc::new(Mutex::new(Vec::<u64>::new()));
    let config = Arc::new(RwLock::new(0u64));
    let (tx_numbers, rx_numbers) = mpsc::channel::<Message>();
    let (tx_texts, rx_texts) = mpsc::sync_channel::<Message>(2);
    let (tx_done, rx_done) = mpsc::channel::<u32>();

    seen.push(format!("pid {} entropy {}", getpid(), entropy(0)));

    for i in 0..WORKERS {
        let (log, config) = (Arc::clone(&log), Arc::clone(&config));
        let (tx_numbers, tx_texts, tx_done) =
            (tx_numbers.clone(), tx_texts.clone(), tx_done.clone());
        let alive = Alive::new();
        let handle = thread::spawn(move || {
            let _alive = alive;
            let mut mine = Vec::new();
            for round in 0..ROUNDS {
                let value = entropy(i * 10 + round);
                log.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(value);
                if round == 1 {
                    *config.write().unwrap_or_else(PoisonError::into_inner) ^= value;
                } else {
                    mine.push(*config.read().unwrap_or_else(PoisonError::into_inner));
                }
                let _ = if (i + round).is_multiple_of(2) {
                    tx_numbers.send(Message::Number(i, value))
                } else {
                    tx_texts.send(Message::Text(i, label(value)))
                };
            }
            let mut buf = [0u8; 4];
            let written = fill(&mut buf, i as u8);
            let mut counter = i;
            let even = bump(&mut counter, 7);
            let numbers = samples(i as u8 + 1);
            let _ = tx_done.send(i);
            format!("{mine:?} {written} {buf:?} {counter} {even} {numbers:?}")
        });
        handles
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(handle);
    }
    drop((tx_numbers, tx_texts, tx_done));

    for _ in 0..MAX_MESSAGES {
        match mpsc::select(&[&rx_numbers, &rx_texts]) {
            (branch, Ok(Message::Number(from, n))) => {
                seen.push(format!("select {branch}: {n} from {from}"));
            }
            (branch, Ok(Message::Text(from, text))) => {
                seen.push(format!("select {branch}: {text:?} from {from}"));
            }
            (_, Err(_)) => break,
        }
    }
    seen.push(format!("try_recv {:?}", rx_done.try_recv()));
    seen.push(format!(
        "recv_timeout {:?}",
        rx_done.recv_timeout(Duration::from_millis(1))
    ));
    let rest: Vec<u32> = rx_done.iter().take(MAX_MESSAGES).collect();
    seen.push(format!("done {rest:?}"));

    let mut now = 0i64;
    // SAFETY: `time` writes one `time_t` (an i64 on this platform) into `now`.
    let returned = unsafe { time(&mut now) };
    seen.push(format!("time {returned} {now}"));
    let log = log.lock().unwrap_or_else(PoisonError::into_inner);
    let config = *config.read().unwrap_or_else(PoisonError::into_inner);
    seen.push(format!("log {log:?} config {config}"));
}

/// Recomputes a recording's CRC-32s (the metadata's and every chunk's) in
/// place, as far as its length fields describe whole pieces, so that
/// mutations reach the decoding behind them instead of all failing the
/// checksums. Layout: `docs/format.md`.
pub fn fix_checksums(bytes: &mut [u8]) {
    let Some(meta_len) = read_u32(bytes, 10) else {
        return;
    };
    let meta_end = 14 + meta_len as usize;
    if bytes.len() < meta_end + 4 {
        return;
    }
    // From format version 3 on, the metadata's checksum covers the version.
    let mut hasher = crc32fast::Hasher::new();
    if u16::from_le_bytes([bytes[8], bytes[9]]) >= 3 {
        hasher.update(&bytes[8..10]);
    }
    hasher.update(&bytes[14..meta_end]);
    let crc = hasher.finalize();
    bytes[meta_end..meta_end + 4].copy_from_slice(&crc.to_le_bytes());
    let mut at = meta_end + 4;
    while let Some(len) = read_u32(bytes, at) {
        let end = at + 12 + len as usize;
        if bytes.len() < end {
            return;
        }
        let crc = crc32fast::hash(&bytes[at + 8..end]);
        bytes[at + 4..at + 8].copy_from_slice(&crc.to_le_bytes());
        at = end;
    }
}

/// The same recording with every compressed chunk (format version 4, the
/// stream word's top bit) stored as it is uncompressed, its checksums
/// fixed: a seed whose events mutations reach. `None` if it does not
/// decompress.
pub fn unpack(bytes: &[u8]) -> Option<Vec<u8>> {
    const COMPRESSED: u32 = 1 << 31;
    let meta_end = 14 + read_u32(bytes, 10)? as usize;
    let mut at = meta_end + 4;
    let mut out = bytes.get(..at)?.to_vec();
    while let Some(len) = read_u32(bytes, at) {
        let end = at + 12 + len as usize;
        let word = read_u32(bytes, at + 8)?;
        let stored = bytes.get(at + 12..end)?;
        let payload = match word & COMPRESSED {
            0 => stored.to_vec(),
            _ => zstd::bulk::decompress(stored.get(4..)?, read_u32(stored, 0)? as usize).ok()?,
        };
        out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&(word & !COMPRESSED).to_le_bytes());
        out.extend_from_slice(&payload);
        at = end;
    }
    fix_checksums(&mut out);
    Some(out)
}

/// Tries `data` as it is, then with its checksums recomputed if that
/// changes it, so that mutations also reach what the checksums guard.
pub fn as_it_is_and_fixed(data: &[u8], mut try_bytes: impl FnMut(&[u8])) {
    try_bytes(data);
    let mut fixed = data.to_vec();
    fix_checksums(&mut fixed);
    if fixed != data {
        try_bytes(&fixed);
    }
}

fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let field = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes(field.try_into().ok()?))
}
