//! The physical limit, hand-written: what recording and replaying
//! `add(a, b)` costs with nothing but the work itself. The recorder puts
//! varints (site, arguments, result) into a reused buffer and writes it as
//! a CRC'd block of 64 KiB; the replayer loads the file, checks every
//! block's CRC, then decodes and compares each call in place. No session,
//! no thread-local, no framing beyond what a checked file needs: the floor
//! `calls.rs` measures `#[deterministic]` against, in the same run.

use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;

/// Bytes staged before a block is written.
const BLOCK: usize = 64 * 1024;

#[inline(always)]
fn put_varint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push(v as u8 | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

#[inline(always)]
fn take_varint(bytes: &[u8], pos: &mut usize) -> u64 {
    let mut v = 0u64;
    let mut shift = 0;
    loop {
        let byte = bytes[*pos];
        *pos += 1;
        v |= u64::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            return v;
        }
        shift += 7;
    }
}

/// Records calls of `add` to a file in CRC'd blocks.
pub struct Recorder {
    buf: Vec<u8>,
    file: File,
}

impl Recorder {
    pub fn create(path: &Path) -> Recorder {
        Recorder {
            buf: Vec::with_capacity(BLOCK + 64),
            file: File::create(path).expect("the minimal recording"),
        }
    }

    /// The real call, then its record: site 0, the arguments, the result.
    #[inline(always)]
    pub fn add(&mut self, a: u64, b: u64) -> u64 {
        let ret = a.wrapping_add(b);
        put_varint(&mut self.buf, 0);
        put_varint(&mut self.buf, a);
        put_varint(&mut self.buf, b);
        put_varint(&mut self.buf, ret);
        if self.buf.len() >= BLOCK {
            self.flush();
        }
        ret
    }

    #[cold]
    fn flush(&mut self) {
        let head = [
            (self.buf.len() as u32).to_le_bytes(),
            crc32fast::hash(&self.buf).to_le_bytes(),
        ]
        .concat();
        self.file.write_all(&head).expect("written");
        self.file.write_all(&self.buf).expect("written");
        self.buf.clear();
    }

    /// Writes what is staged.
    pub fn finish(mut self) {
        if !self.buf.is_empty() {
            self.flush();
        }
    }
}

/// Replays calls of `add` from a file written by [`Recorder`].
pub struct Replayer {
    /// Every block's payload, checked, one after the other.
    calls: Vec<u8>,
    pos: usize,
}

impl Replayer {
    /// Loads the file and checks every block's CRC.
    pub fn open(path: &Path) -> Replayer {
        let mut file = Vec::new();
        File::open(path)
            .and_then(|mut f| f.read_to_end(&mut file))
            .expect("the minimal recording");
        let mut calls = Vec::with_capacity(file.len());
        let mut at = 0;
        while at < file.len() {
            let len = u32::from_le_bytes(file[at..at + 4].try_into().expect("4 bytes")) as usize;
            let crc = u32::from_le_bytes(file[at + 4..at + 8].try_into().expect("4 bytes"));
            let block = &file[at + 8..at + 8 + len];
            assert_eq!(crc32fast::hash(block), crc, "a damaged block");
            calls.extend_from_slice(block);
            at += 8 + len;
        }
        Replayer { calls, pos: 0 }
    }

    /// The recorded result of the next call, which must be `add(a, b)`.
    #[inline(always)]
    pub fn add(&mut self, a: u64, b: u64) -> u64 {
        let site = take_varint(&self.calls, &mut self.pos);
        let ra = take_varint(&self.calls, &mut self.pos);
        let rb = take_varint(&self.calls, &mut self.pos);
        if site != 0 || ra != a || rb != b {
            diverged(a, b, ra, rb);
        }
        take_varint(&self.calls, &mut self.pos)
    }

    /// Whether every recorded call was replayed.
    pub fn done(&self) -> bool {
        self.pos == self.calls.len()
    }
}

#[cold]
#[inline(never)]
fn diverged(a: u64, b: u64, ra: u64, rb: u64) -> ! {
    panic!("diverged: add({a}, {b}) where add({ra}, {rb}) was recorded")
}
