//! The header of a recording: read and checked before its chunks.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use super::format::{HEADER_FIXED, MAGIC, MAX_META, Metadata, OLDEST_VERSION, VERSION, meta_crc};
use crate::error::{Error, Result};

/// The errors of a file being read: each names it.
#[derive(Clone, Copy)]
pub(super) struct Damage<'a> {
    pub(super) path: &'a Path,
    /// The file's length.
    pub(super) len: u64,
}

impl Damage<'_> {
    pub(super) fn io(self, source: io::Error) -> Error {
        Error::Io {
            action: "read",
            path: self.path.to_owned(),
            source,
        }
    }

    pub(super) fn truncated(self, what: &'static str, offset: u64) -> Error {
        Error::Truncated {
            path: self.path.to_owned(),
            what,
            offset,
            len: self.len,
        }
    }

    pub(super) fn corrupt(self, offset: u64, reason: String) -> Error {
        Error::Corrupt {
            path: self.path.to_owned(),
            offset,
            reason,
        }
    }
}

/// A guess at what a file that is not a recording is, from its first bytes.
fn guess_format(head: &[u8]) -> Option<String> {
    let known: [(&[u8], &str); 8] = [
        (b"\x7fELF", "an ELF executable"),
        (b"\x89PNG", "a PNG image"),
        (b"\x1f\x8b", "a gzip archive"),
        (b"PK\x03\x04", "a zip archive"),
        (b"%PDF", "a PDF document"),
        (b"\x28\xb5\x2f\xfd", "a zstd archive"),
        (b"{", "JSON or other text"),
        (b"[", "JSON or other text"),
    ];
    if let Some((_, name)) = known.iter().find(|(magic, _)| head.starts_with(magic)) {
        return Some((*name).to_owned());
    }
    if head
        .iter()
        .all(|&b| b.is_ascii_graphic() || b.is_ascii_whitespace())
    {
        return Some("a text file".to_owned());
    }
    None
}

/// Reads and checks the header: the version, the metadata, and where the
/// chunks begin.
pub(super) fn read_header(file: &mut File, path: &Path, len: u64) -> Result<(u16, Metadata, u64)> {
    let damage = Damage { path, len };
    let io_err = |source| damage.io(source);
    let truncated = |what, offset| damage.truncated(what, offset);
    let corrupt = |offset, reason| damage.corrupt(offset, reason);
    if len == 0 {
        return Err(Error::Empty {
            path: path.to_owned(),
        });
    }
    let mut fixed = [0u8; HEADER_FIXED];
    let got = read_up_to(file, &mut fixed).map_err(io_err)?;
    let magic_len = got.min(MAGIC.len());
    if fixed[..magic_len] != MAGIC[..magic_len] {
        return Err(Error::NotARecording {
            path: path.to_owned(),
            found: guess_format(&fixed[..got]),
        });
    }
    if got < HEADER_FIXED {
        return Err(truncated("the header", 0));
    }
    let version = u16::from_le_bytes([fixed[8], fixed[9]]);
    if !(OLDEST_VERSION..=VERSION).contains(&version) {
        return Err(Error::UnsupportedVersion {
            path: path.to_owned(),
            found: version,
            supported: VERSION,
        });
    }
    let meta_len = u32::from_le_bytes([fixed[10], fixed[11], fixed[12], fixed[13]]);
    if meta_len > MAX_META {
        return Err(corrupt(10, format!("the metadata claims {meta_len} bytes")));
    }
    let meta_end = HEADER_FIXED as u64 + u64::from(meta_len) + 4;
    if meta_end > len {
        return Err(truncated("the header", 0));
    }
    let mut meta = vec![0u8; meta_len as usize + 4];
    file.read_exact(&mut meta).map_err(io_err)?;
    let (meta, crc) = meta.split_at(meta_len as usize);
    if meta_crc(version, meta).to_le_bytes() != crc {
        return Err(corrupt(
            HEADER_FIXED as u64,
            "the metadata checksum does not match".into(),
        ));
    }
    let metadata: Metadata = postcard::from_bytes(meta).map_err(|e| {
        corrupt(
            HEADER_FIXED as u64,
            format!("the metadata cannot be decoded: {e}"),
        )
    })?;
    Ok((version, metadata, meta_end))
}

/// Reads as much of `buf` as the file holds.
fn read_up_to(file: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match file.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}
