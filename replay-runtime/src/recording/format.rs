//! Byte layout of a recording: header, chunks and events.
//!
//! ```text
//! file   := header chunk*
//! header := MAGIC version:u16le meta_len:u32le meta:postcard(Metadata) meta_crc:u32le
//! chunk  := len:u32le crc:u32le stream:u32le payload[len]   (crc covers stream and payload)
//! ```
//!
//! A chunk's payload is a sequence of events, described in `event.rs`.
//! From version 4 on, the stream word's top bit marks a payload stored
//! compressed (`compress.rs`).

use serde::{Deserialize, Serialize};

/// First bytes of every recording. The high first byte and the line ending
/// catch text-mode mangling, as PNG's signature does.
pub(crate) const MAGIC: [u8; 8] = *b"\x89RPLAY\r\n";
/// The format version this build writes and reads.
pub(crate) const VERSION: u16 = 5;
/// The oldest format version this build reads: version 1 lacks the events
/// of callbacks, version 2 that of a panicking call (see `event.rs`),
/// version 3 compressed chunks, version 4 which lock an open opened and
/// where on its sender's stream a received message was sent.
pub(crate) const OLDEST_VERSION: u16 = 1;
/// Bytes before the metadata: magic, version, metadata length.
pub(crate) const HEADER_FIXED: usize = MAGIC.len() + 2 + 4;
/// Metadata is small; anything larger is corruption.
pub(crate) const MAX_META: u32 = 64 * 1024;
/// Bytes of a chunk header: length, checksum, stream.
pub(crate) const CHUNK_HEADER: usize = 12;
/// Staged bytes that trigger a chunk write.
pub(crate) const BLOCK: usize = 64 * 1024;

/// An empty buffer to stage a chunk in: its header reserved, room for a
/// block and the event that overruns it.
pub(crate) fn chunk_buffer() -> Vec<u8> {
    let mut buf = Vec::with_capacity(BLOCK + BLOCK / 4);
    buf.resize(CHUNK_HEADER, 0);
    buf
}
/// The largest chunk, in every version: larger is corruption. One event
/// may exceed `BLOCK`, so this bounds what one call may record (a call
/// recording more fails its recording, with a clear error). Replay holds
/// one chunk per thread in memory at a time.
pub(crate) const MAX_CHUNK: u32 = 64 << 20;
/// Streams a recording may have (threads of one session): the index of a
/// recording opened for replay takes about 64 bytes per stream.
pub(crate) const MAX_STREAMS: u32 = 1 << 20;
/// Arguments whose encoding is longer than this are stored as digests.
pub(crate) const INLINE_ARGS: usize = 1024;

/// A call: `head >> 2` is the site number, then `args_len args rest_len rest`.
pub(crate) const KIND_CALL: u64 = 0;
/// A call whose arguments are stored as one 8-byte digest each.
pub(crate) const KIND_CALL_DIGESTED: u64 = 1;
/// Defines site `head >> 2`: `name:str signature:str`.
pub(crate) const KIND_DEFINE: u64 = 2;
/// Stream metadata; `head >> 2` is the sub-kind.
pub(crate) const KIND_META: u64 = 3;
/// A thread event: where threads meet, as one thread saw it. Only the
/// thread's own order is recorded; replay makes each thread wait for the
/// same meetings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ThreadEvent {
    /// Spawned a thread, which records into `stream`.
    Spawn { stream: u32 },
    /// Opened lock number `lock` (see [`NO_LOCK`]) for writing at
    /// `version`, after `reads` read-opens of that version.
    Lock { lock: u64, version: u64, reads: u64 },
    /// Opened lock number `lock` for reading at `version`.
    ReadLock { lock: u64, version: u64 },
    /// A `try_lock` found the lock taken.
    TryLockFailed,
    /// `count` receives in a row, each of a message the thread recording
    /// into `sender` sent (`u32::MAX`: a thread without a session), the
    /// last of them sent after `sent` calls of the sender's (the most of
    /// the run; [`SENT_UNKNOWN`] before version 5).
    Recv { sender: u32, count: u64, sent: u64 },
    /// A receive that got no message.
    RecvNone(NoMessage),
    /// A select's winning branch.
    Select { branch: u64 },
    /// A `try_send` on a bounded channel: 0 sent, 1 full, 2 disconnected.
    TrySend { outcome: u64 },
}

impl std::fmt::Display for ThreadEvent {
    /// The event in words, for reports and dumps.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            ThreadEvent::Spawn { stream } => {
                write!(f, "a spawn of the thread recorded as {stream}")
            }
            ThreadEvent::Lock { version, reads, .. } => write!(
                f,
                "a lock opened for writing at version {version}, after {reads} read(s)"
            ),
            ThreadEvent::ReadLock { version, .. } => {
                write!(f, "a lock opened for reading at version {version}")
            }
            ThreadEvent::TrySend { outcome } => write!(
                f,
                "a try_send that {}",
                ["sent", "found the channel full", "found the receiver gone"]
                    .get(outcome as usize)
                    .unwrap_or(&"did something unknown")
            ),
            ThreadEvent::TryLockFailed => f.write_str("a try_lock that found the lock taken"),
            ThreadEvent::Recv { sender, count, .. } => {
                write!(f, "{count} receive(s) of messages from thread {sender}")
            }
            ThreadEvent::RecvNone(why) => write!(f, "a receive that got no message ({why:?})"),
            ThreadEvent::Select { branch } => write!(f, "a select won by branch {branch}"),
        }
    }
}

/// The lock number of an open recorded before version 5, which did not
/// record which lock: a session numbers its locks from 1, in the order it
/// first opens them.
pub(crate) const NO_LOCK: u64 = 0;
/// Where a message received before version 5 was sent: not recorded.
pub(crate) const SENT_UNKNOWN: u64 = u64::MAX;

/// Why a receive got no message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NoMessage {
    /// `try_recv` found the channel empty.
    Empty,
    /// `recv_timeout` timed out.
    Timeout,
    /// Every sender was gone.
    Disconnected,
}

/// The small header every recording starts with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    /// `replay-runtime` and its version, e.g. `replay-runtime 0.1.0`.
    pub library: String,
    /// The recording program (its executable's file name).
    pub program: String,
    /// When recording started, in seconds since the Unix epoch.
    pub created_unix_secs: u64,
}

impl Metadata {
    pub(crate) fn current() -> Self {
        let program = std::env::current_exe()
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_default();
        let created_unix_secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Metadata {
            library: concat!("replay-runtime ", env!("CARGO_PKG_VERSION")).to_owned(),
            program,
            created_unix_secs,
        }
    }
}

pub(crate) use super::encode::EncodeError;
pub(crate) use super::varint::{put_varint, take_varint, varint_len};

/// Reads a varint length followed by that many bytes.
#[inline]
pub(crate) fn take_blob<'a>(bytes: &mut &'a [u8]) -> Option<&'a [u8]> {
    let len = usize::try_from(take_varint(bytes)?).ok()?;
    if len > bytes.len() {
        return None;
    }
    let (blob, rest) = bytes.split_at(len);
    *bytes = rest;
    Some(blob)
}

/// Whether two byte strings are equal: inline for the short ones a call's
/// arguments usually are (two overlapping word loads each), `memcmp` for
/// the rest.
#[inline(always)]
pub(crate) fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let len = a.len();
    if len != b.len() {
        return false;
    }
    let word = |s: &[u8], at: usize| u64::from_le_bytes(s[at..at + 8].try_into().unwrap_or([0; 8]));
    let half = |s: &[u8], at: usize| u32::from_le_bytes(s[at..at + 4].try_into().unwrap_or([0; 4]));
    match len {
        0 => true,
        1..4 => a.iter().zip(b).all(|(x, y)| x == y),
        4..8 => half(a, 0) == half(b, 0) && half(a, len - 4) == half(b, len - 4),
        8..=16 => word(a, 0) == word(b, 0) && word(a, len - 8) == word(b, len - 8),
        _ => a == b,
    }
}

/// 64-bit FNV-1a: the digest of an argument too large to store.
pub(crate) fn digest(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// A call's arguments as the recording stores them: encoded together, or,
/// when that is longer than [`INLINE_ARGS`], as one digest each.
pub(crate) trait ArgValues {
    /// How many arguments there are.
    fn count(&self) -> usize;
    /// Appends every argument's encoding, in order.
    fn encode_all(&self, buf: &mut Vec<u8>) -> Result<(), EncodeError>;
    /// Appends argument `index`'s encoding.
    fn encode_one(&self, index: usize, buf: &mut Vec<u8>) -> Result<(), EncodeError>;
}

/// Appends a call's argument blob (a length, then the arguments or their
/// digests). Returns whether they were digested.
#[inline(always)]
pub(crate) fn put_args<A: ArgValues + ?Sized>(
    buf: &mut Vec<u8>,
    args: &A,
) -> Result<bool, EncodeError> {
    let at = buf.len();
    buf.push(0);
    let digested = put_bare_args(buf, args)?;
    patch_len(buf, at);
    Ok(digested)
}

/// Appends a call's arguments, or their digests, without a length (as
/// replay encodes them to compare). Returns whether they were digested.
#[inline(always)]
pub(crate) fn put_bare_args<A: ArgValues + ?Sized>(
    buf: &mut Vec<u8>,
    args: &A,
) -> Result<bool, EncodeError> {
    let at = buf.len();
    args.encode_all(buf)?;
    if buf.len() - at <= INLINE_ARGS {
        return Ok(false);
    }
    put_digests(buf, args, at)?;
    Ok(true)
}

/// Replaces the arguments encoded from `at` on by one digest each.
#[cold]
fn put_digests<A: ArgValues + ?Sized>(
    buf: &mut Vec<u8>,
    args: &A,
    at: usize,
) -> Result<(), EncodeError> {
    buf.truncate(at);
    let mut one = Vec::new();
    for i in 0..args.count() {
        one.clear();
        args.encode_one(i, &mut one)?;
        buf.extend_from_slice(&digest(&one).to_le_bytes());
    }
    Ok(())
}

/// Patches the one-byte length placeholder at `at` with the length of
/// everything after it, widening the varint when the length needs it.
#[inline(always)]
pub(crate) fn patch_len(buf: &mut Vec<u8>, at: usize) {
    let len = buf.len() - at - 1;
    if len < 0x80 {
        buf[at] = len as u8;
    } else {
        widen_len(buf, at, len);
    }
}

#[cold]
#[inline(never)]
fn widen_len(buf: &mut Vec<u8>, at: usize, len: usize) {
    let mut prefix = Vec::with_capacity(10);
    put_varint(&mut prefix, len as u64);
    buf.splice(at..at + 1, prefix);
}

/// The metadata's checksum. From version 3 on it covers the version too,
/// so that a damaged version number is never read as another version.
pub(crate) fn meta_crc(version: u16, meta: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    if version >= 3 {
        hasher.update(&version.to_le_bytes());
    }
    hasher.update(meta);
    hasher.finalize()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_at_the_edges() {
        for v in [0, 1, 127, 128, 300, u32::MAX as u64, u64::MAX] {
            let mut buf = Vec::new();
            put_varint(&mut buf, v);
            let mut bytes = &buf[..];
            assert_eq!(take_varint(&mut bytes), Some(v));
            assert!(bytes.is_empty());
        }
    }

    #[test]
    fn same_bytes_agrees_with_slice_equality() {
        let base: Vec<u8> = (0..40).collect();
        for len in 0..40 {
            let a = &base[..len];
            assert!(same_bytes(a, a));
            for at in 0..len {
                let mut b = a.to_vec();
                b[at] ^= 1;
                assert!(!same_bytes(a, &b), "{len} {at}");
            }
            assert!(!same_bytes(a, &base[..len + 1]));
        }
    }

    #[test]
    fn overlong_varints_are_rejected() {
        let mut bytes: &[u8] = &[0xff; 11];
        assert_eq!(take_varint(&mut bytes), None);
        let mut bytes: &[u8] = &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02];
        assert_eq!(take_varint(&mut bytes), None);
    }

    #[test]
    fn patched_lengths_widen_when_needed() {
        for len in [0usize, 5, 127, 128, 20_000] {
            let mut buf = vec![7, 0];
            buf.extend(std::iter::repeat_n(9, len));
            patch_len(&mut buf, 1);
            let mut bytes = &buf[1..];
            assert_eq!(take_blob(&mut bytes).map(<[u8]>::len), Some(len));
            assert!(bytes.is_empty());
        }
    }
}
