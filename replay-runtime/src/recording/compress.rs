//! Compressed chunks (format version 4): the background writer compresses
//! each chunk's payload with zstd when that makes it smaller, and readers
//! decompress one chunk at a time. A compressed chunk is marked in its
//! stream word (see `format.rs`); its stored payload is
//!
//! ```text
//! raw_len:u32le zstd_frame
//! ```
//!
//! The chunk's checksum covers the stored bytes, so damage is found before
//! anything is decompressed. zstd's own checksum is left out.

use super::format::{CHUNK_HEADER, MAX_CHUNK};

/// The bit of a chunk's stream word that marks its payload compressed
/// (version 4 on; earlier versions reject it as a stream out of range).
pub(crate) const COMPRESSED: u32 = 1 << 31;

/// Bytes before the zstd frame in a compressed payload.
const RAW_LEN: usize = 4;

/// How many times its stored size a compressed chunk may decompress to.
/// A reader refuses more: a small hostile file must never take long to
/// validate or make a large allocation (a zstd frame of 2 KiB can claim,
/// and hold, 64 MiB of events). The writer stores a chunk that would
/// compress more than this as it is.
pub(crate) const MAX_RATIO: usize = 1024;

/// The first bytes of a zstd frame (RFC 8878); a skippable frame, or
/// anything else, is refused.
const FRAME_MAGIC: [u8; 4] = 0xFD2F_B528u32.to_le_bytes();

/// zstd level 1 with a minimum match of 4 bytes: 5.2 bytes a call on the
/// benchmark's sequence (12.3x smaller than a JSON log), against 5.9 for
/// level 3 at about 40 ns a call of the writer thread's time (measured per
/// 64 KiB chunk; see `docs/performance.md`).
const LEVEL: i32 = 1;
const MIN_MATCH: u32 = 4;
/// zstd level 1 as it is (a minimum match of 6): 9.7 bytes a call, about
/// 13 ns a call, for when the writer falls behind.
const FAST_LEVEL: i32 = 1;

/// How hard the writer compresses a chunk: as well as it can while it
/// keeps up with the recording threads, faster when it falls behind, and
/// not at all when they would otherwise wait for it (a recording thread
/// waits for the disk, never for compression).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Effort {
    Thorough,
    Fast,
    Store,
}

/// The writer thread's compressor: zstd contexts and an output buffer,
/// reused chunk after chunk.
pub(crate) struct Compressor {
    thorough: Option<zstd::bulk::Compressor<'static>>,
    fast: Option<zstd::bulk::Compressor<'static>>,
    out: Vec<u8>,
}

impl Compressor {
    pub(crate) fn new() -> Compressor {
        let thorough = zstd::bulk::Compressor::new(LEVEL).ok().and_then(|mut c| {
            c.set_parameter(zstd::zstd_safe::CParameter::MinMatch(MIN_MATCH))
                .ok()?;
            c.set_parameter(zstd::zstd_safe::CParameter::ChecksumFlag(false))
                .ok()?;
            Some(c)
        });
        let fast = zstd::bulk::Compressor::new(FAST_LEVEL).ok();
        Compressor {
            thorough,
            fast,
            out: Vec::new(),
        }
    }

    /// Compresses `chunk`'s payload in place (header reserved, stream word
    /// set) and marks it compressed, if that makes it smaller; otherwise
    /// leaves it as it is.
    pub(crate) fn compress(&mut self, chunk: &mut Vec<u8>, effort: Effort) {
        let context = match effort {
            Effort::Thorough => self.thorough.as_mut().or(self.fast.as_mut()),
            Effort::Fast => self.fast.as_mut().or(self.thorough.as_mut()),
            Effort::Store => return,
        };
        let Some(context) = context else {
            return;
        };
        let payload = &chunk[CHUNK_HEADER..];
        let raw_len = payload.len() as u32;
        self.out.clear();
        self.out
            .reserve(zstd::zstd_safe::compress_bound(payload.len()));
        let done = context.compress_to_buffer(payload, &mut self.out);
        let stored = RAW_LEN + self.out.len();
        if done.is_err() || stored >= payload.len() || payload.len() > stored * MAX_RATIO {
            return;
        }
        chunk.truncate(CHUNK_HEADER);
        chunk.extend_from_slice(&raw_len.to_le_bytes());
        chunk.extend_from_slice(&self.out);
        let len = (chunk.len() - CHUNK_HEADER) as u32;
        chunk[0..4].copy_from_slice(&len.to_le_bytes());
        let word = u32::from_le_bytes([chunk[8], chunk[9], chunk[10], chunk[11]]) | COMPRESSED;
        chunk[8..12].copy_from_slice(&word.to_le_bytes());
    }
}

/// A reader's decompressor, reused chunk after chunk.
pub(crate) struct Decompressor {
    context: Option<zstd::bulk::Decompressor<'static>>,
}

impl Decompressor {
    pub(crate) fn new() -> Decompressor {
        Decompressor {
            context: zstd::bulk::Decompressor::new().ok(),
        }
    }

    /// Decompresses a compressed chunk's stored payload into `out`
    /// (replacing what it held); what is wrong with it, if anything is.
    pub(crate) fn unpack(&mut self, stored: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
        let Some((len, frame)) = stored.split_first_chunk::<RAW_LEN>() else {
            return Err("a compressed chunk is cut short".into());
        };
        let len = u32::from_le_bytes(*len);
        if len == 0 || len > MAX_CHUNK {
            return Err(format!(
                "a compressed chunk claims {len} bytes (at most {MAX_CHUNK})"
            ));
        }
        if len as usize > stored.len().saturating_mul(MAX_RATIO) {
            return Err(format!(
                "a compressed chunk of {} bytes claims {len} bytes (at most {MAX_RATIO} \
                 times as many)",
                stored.len()
            ));
        }
        // One frame, and only one: nothing rides along unvalidated.
        let one_frame = frame.starts_with(&FRAME_MAGIC)
            && zstd::zstd_safe::find_frame_compressed_size(frame) == Ok(frame.len());
        if !one_frame {
            return Err("a compressed chunk is not one zstd frame".into());
        }
        let Some(context) = self.context.as_mut() else {
            return Err("no zstd decompressor could be made".into());
        };
        // Exactly the claimed length, which the stored bytes bound: never
        // doubled by `reserve`'s growth.
        out.clear();
        out.reserve_exact(len as usize);
        match context.decompress_to_buffer(frame, out) {
            Ok(n) if n == len as usize => Ok(()),
            Ok(n) => Err(format!(
                "a compressed chunk holds {n} bytes where it claims {len}"
            )),
            Err(e) => Err(format!("a compressed chunk does not decompress: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(payload: &[u8], stream: u32) -> Vec<u8> {
        let mut chunk = vec![0; CHUNK_HEADER];
        chunk.extend_from_slice(payload);
        chunk[0..4].copy_from_slice(&(payload.len() as u32).to_le_bytes());
        chunk[8..12].copy_from_slice(&stream.to_le_bytes());
        chunk
    }

    /// `len` pseudo-random values (xorshift64) of `bits` bits each.
    fn noise(len: usize, bits: u32) -> impl Iterator<Item = u8> {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        (0..len).map(move |_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> (64 - bits)) as u8
        })
    }

    #[test]
    fn compressed_chunks_come_back_whole() {
        // Calls of one site whose one-byte result takes 16 values at random.
        let payload: Vec<u8> = noise(20_000, 4).flat_map(|v| [1, 2, v]).collect();
        for effort in [Effort::Thorough, Effort::Fast] {
            let mut packed = chunk(&payload, 5);
            Compressor::new().compress(&mut packed, effort);
            let word = u32::from_le_bytes(packed[8..12].try_into().unwrap());
            assert_eq!(word, 5 | COMPRESSED);
            assert!(packed.len() < payload.len() / 3, "{}", packed.len());
            let mut out = Vec::new();
            Decompressor::new()
                .unpack(&packed[CHUNK_HEADER..], &mut out)
                .unwrap();
            assert_eq!(out, payload);
        }
    }

    #[test]
    fn a_chunk_that_does_not_shrink_is_stored() {
        let payload: Vec<u8> = noise(4096, 8).collect();
        let mut stored = chunk(&payload, 2);
        Compressor::new().compress(&mut stored, Effort::Thorough);
        assert_eq!(stored, chunk(&payload, 2));
    }

    #[test]
    fn chunks_that_compress_too_well_are_stored_and_refused() {
        let payload = vec![0u8; 1 << 20];
        let mut stored = chunk(&payload, 1);
        Compressor::new().compress(&mut stored, Effort::Thorough);
        assert_eq!(stored, chunk(&payload, 1), "stored as it is");

        let frame = zstd::bulk::compress(&payload, 3).unwrap();
        assert!(frame.len() * MAX_RATIO < payload.len());
        let mut bomb = (payload.len() as u32).to_le_bytes().to_vec();
        bomb.extend_from_slice(&frame);
        let err = Decompressor::new()
            .unpack(&bomb, &mut Vec::new())
            .unwrap_err();
        assert!(err.contains("times as many"), "{err}");
    }

    #[test]
    fn only_one_plain_frame_is_read() {
        let payload = vec![5u8; 5000];
        let frame = zstd::bulk::compress(&payload[..2500], 3).unwrap();
        let mut two = 5000u32.to_le_bytes().to_vec();
        two.extend_from_slice(&frame);
        two.extend_from_slice(&frame);
        let mut out = Vec::new();
        let err = Decompressor::new().unpack(&two, &mut out).unwrap_err();
        assert!(err.contains("one zstd frame"), "{err}");
        let mut skippable = 2500u32.to_le_bytes().to_vec();
        skippable.extend_from_slice(&0x184D_2A50u32.to_le_bytes());
        skippable.extend_from_slice(&4u32.to_le_bytes());
        skippable.extend_from_slice(b"hide");
        skippable.extend_from_slice(&frame);
        let err = Decompressor::new()
            .unpack(&skippable, &mut out)
            .unwrap_err();
        assert!(err.contains("one zstd frame"), "{err}");
    }

    #[test]
    fn damaged_compressed_chunks_are_errors() {
        let mut d = Decompressor::new();
        let mut out = Vec::new();
        assert!(d.unpack(&[1, 0], &mut out).is_err());
        assert!(d.unpack(&[0, 0, 0, 0, 1], &mut out).is_err());
        assert!(d.unpack(&[0xff; 16], &mut out).is_err());
        let payload = vec![3u8; 10_000];
        let mut packed = chunk(&payload, 0);
        Compressor::new().compress(&mut packed, Effort::Thorough);
        let mut lying = packed[CHUNK_HEADER..].to_vec();
        lying[0..4].copy_from_slice(&9_999u32.to_le_bytes());
        assert!(d.unpack(&lying, &mut out).is_err());
    }
}
