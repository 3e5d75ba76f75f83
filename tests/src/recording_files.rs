//! Recording files built and taken apart byte by byte, from the layout in
//! `docs/format.md`, for the tests that need files no real program makes:
//! damaged, hostile or hand-picked ones.
//!
//! ```text
//! header := "\x89RPLAY\r\n" version:u16le meta_len:u32le meta[meta_len] meta_crc:u32le
//! chunk  := len:u32le crc:u32le stream:u32le payload[len]
//! payload:= event+
//! event  := head:varint body
//! ```
//!
//! Nothing here uses the runtime's encoder or its checksum crate, so the
//! tests check the format rather than trust it.
//!
//! ```
//! use replay_tests::recording_files::{END, MAGIC, call, define, recording_of};
//!
//! let events = [define(0, "m::f", "fn(u8) -> u8"), call(0, &[7], &[8]), vec![END]].concat();
//! let file = recording_of(&events);
//! assert!(file.starts_with(MAGIC));
//! ```

/// The first eight bytes of every recording.
pub const MAGIC: &[u8; 8] = b"\x89RPLAY\r\n";
/// The format version the runtime writes (it reads 1 to 4 too).
pub const VERSION: u16 = 5;
/// The header's fixed part: magic, version, metadata length.
pub const HEADER_FIXED: usize = 14;
/// A chunk's header: payload length, checksum, stream.
pub const CHUNK_HEADER: usize = 12;
/// The end marker of a stream: a meta event of sub-kind 0.
pub const END: u8 = 3;

/// CRC-32 (IEEE, as `crc32fast` computes it) of `parts` one after the
/// other, bit by bit: an independent implementation.
pub fn crc32(parts: &[&[u8]]) -> u32 {
    let mut crc = !0u32;
    for part in parts {
        for &byte in *part {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xedb8_8320
                } else {
                    crc >> 1
                };
            }
        }
    }
    !crc
}

/// Appends `v` as a varint (unsigned LEB128), as the format writes lengths
/// and event heads.
pub fn varint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push(v as u8 | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

/// Appends `bytes` as a blob: a varint length, then the bytes.
fn blob(buf: &mut Vec<u8>, bytes: &[u8]) {
    varint(buf, bytes.len() as u64);
    buf.extend_from_slice(bytes);
}

/// The metadata's checksum: from version 3 on it covers the version too.
fn meta_crc(version: &[u8], meta: &[u8]) -> u32 {
    if u16::from_le_bytes([version[0], version[1]]) >= 3 {
        crc32(&[version, meta])
    } else {
        crc32(&[meta])
    }
}

/// A header with the given version and metadata bytes, correctly
/// checksummed.
pub fn header_with(version: u16, meta: &[u8]) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&version.to_le_bytes());
    out.extend_from_slice(&(meta.len() as u32).to_le_bytes());
    out.extend_from_slice(meta);
    out.extend_from_slice(&meta_crc(&version.to_le_bytes(), meta).to_le_bytes());
    out
}

/// A valid header: the postcard `Metadata { library, program,
/// created_unix_secs }` of a program `replay-tests` that recorded at 42 s.
pub fn header() -> Vec<u8> {
    let mut meta = Vec::new();
    blob(&mut meta, b"replay-runtime 0.1.0");
    blob(&mut meta, b"replay-tests");
    varint(&mut meta, 42);
    header_with(VERSION, &meta)
}

/// A chunk of `stream` holding `payload`, correctly checksummed.
pub fn chunk(stream: u32, payload: &[u8]) -> Vec<u8> {
    let stream = stream.to_le_bytes();
    let mut out = (payload.len() as u32).to_le_bytes().to_vec();
    out.extend_from_slice(&crc32(&[&stream, payload]).to_le_bytes());
    out.extend_from_slice(&stream);
    out.extend_from_slice(payload);
    out
}

/// A whole recording: a valid header, then `events` as one chunk of
/// stream 0.
pub fn recording_of(events: &[u8]) -> Vec<u8> {
    [header(), chunk(0, events)].concat()
}

/// A define event: site `site` is the function `name` (bytes, so that a
/// test can make it invalid UTF-8) with `signature`.
pub fn define(site: u64, name: impl AsRef<[u8]>, signature: &str) -> Vec<u8> {
    let mut event = Vec::new();
    varint(&mut event, site << 2 | 2);
    blob(&mut event, name.as_ref());
    blob(&mut event, signature.as_bytes());
    event
}

/// A call event of site `site` with these argument and result bytes.
pub fn call(site: u64, args: &[u8], results: &[u8]) -> Vec<u8> {
    let mut event = Vec::new();
    varint(&mut event, site << 2);
    blob(&mut event, args);
    blob(&mut event, results);
    event
}

/// Where a well-formed recording's header ends, and where each chunk
/// starts (at its header) with how long its payload is.
pub struct FileLayout {
    /// The header's length: where the first chunk starts.
    pub header_len: usize,
    /// Each chunk's offset and payload length, in file order.
    pub chunks: Vec<(usize, usize)>,
}

impl FileLayout {
    /// The layout of `bytes`, whose chunks must tile the file.
    pub fn of(bytes: &[u8]) -> FileLayout {
        let header_len = HEADER_FIXED + u32_at(bytes, 10).expect("a fixed header") + 4;
        let mut chunks = Vec::new();
        let mut at = header_len;
        while at < bytes.len() {
            let len = u32_at(bytes, at).expect("a chunk header");
            chunks.push((at, len));
            at += CHUNK_HEADER + len;
        }
        assert_eq!(at, bytes.len(), "the recording's chunks tile the file");
        FileLayout { header_len, chunks }
    }

    /// Offsets at which the file may end with every chunk whole.
    pub fn boundaries(&self) -> Vec<usize> {
        let mut out = vec![self.header_len];
        out.extend(self.chunks.iter().map(|&(at, len)| at + CHUNK_HEADER + len));
        out
    }
}

/// The little-endian `u32` at `at`, if the bytes reach that far.
fn u32_at(bytes: &[u8], at: usize) -> Option<usize> {
    let b = bytes.get(at..at + 4)?;
    Some(u32::from_le_bytes(b.try_into().ok()?) as usize)
}

/// The top bit of a chunk's stream word: its payload is stored compressed,
/// as `raw_len:u32le zstd_frame` (version 4).
pub const COMPRESSED: u32 = 1 << 31;

/// The same recording with every compressed chunk stored as it is
/// uncompressed (a valid file of the same version, whose events' bytes a
/// test can find and edit).
pub fn unpack(bytes: &[u8]) -> Vec<u8> {
    let meta_len = u32_at(bytes, 10).expect("a header");
    let mut at = HEADER_FIXED + meta_len + 4;
    let mut out = bytes[..at].to_vec();
    while let Some(len) = u32_at(bytes, at) {
        let end = at + CHUNK_HEADER + len;
        let word = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().expect("4 bytes"));
        let stored = &bytes[at + CHUNK_HEADER..end];
        if word & COMPRESSED == 0 {
            out.extend_from_slice(&bytes[at..end]);
        } else {
            let raw_len = u32::from_le_bytes(stored[..4].try_into().expect("4 bytes"));
            let payload = zstd::bulk::decompress(&stored[4..], raw_len as usize)
                .expect("a chunk that decompresses");
            out.extend_from_slice(&chunk(word & !COMPRESSED, &payload));
        }
        at = end;
    }
    out
}

/// Recomputes every checksum that still has a place in a damaged file, so
/// the damage reaches the event decoder and the replayer.
pub fn fix_checksums(bytes: &mut [u8]) {
    let Some(meta_len) = u32_at(bytes, 10) else {
        return;
    };
    let crc_at = HEADER_FIXED + meta_len;
    if crc_at + 4 > bytes.len() {
        return;
    }
    let crc = meta_crc(&bytes[8..10], &bytes[HEADER_FIXED..crc_at]);
    bytes[crc_at..crc_at + 4].copy_from_slice(&crc.to_le_bytes());
    let mut at = crc_at + 4;
    while let Some(len) = u32_at(bytes, at) {
        let end = at + CHUNK_HEADER + len;
        if end > bytes.len() {
            return;
        }
        let crc = crc32(&[&bytes[at + 8..at + 12], &bytes[at + 12..end]]);
        bytes[at + 4..at + 8].copy_from_slice(&crc.to_le_bytes());
        at = end;
    }
}
