//! Validating a recording and reading its streams back in blocks.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::event::Event;
use super::format::{
    CHUNK_HEADER, HEADER_FIXED, MAGIC, MAX_CHUNK, MAX_META, Metadata, OLDEST_VERSION, VERSION,
};
use crate::error::{Error, Result};

/// Where one chunk's payload lies in the file.
#[derive(Clone, Copy, Debug)]
struct ChunkRef {
    offset: u64,
    len: u32,
}

/// What validation learnt about one stream.
#[derive(Clone, Debug, Default)]
pub(crate) struct StreamIndex {
    chunks: Vec<ChunkRef>,
    /// Call events in the stream.
    pub(crate) calls: u64,
    /// Whether the stream ends with the clean end marker.
    pub(crate) ended: bool,
    /// What the events so far left open, innermost last: a call whose
    /// foreign function called back (`true`), or a callback (`false`).
    open: Vec<bool>,
}

/// A recording whose every chunk and event has been checked.
pub(crate) struct Recording {
    pub(crate) path: PathBuf,
    /// The file's format version.
    pub(crate) version: u16,
    pub(crate) metadata: Metadata,
    pub(crate) streams: BTreeMap<u32, StreamIndex>,
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

impl Recording {
    /// Opens and validates the whole file, holding one chunk at a time.
    pub(crate) fn open(path: &Path) -> Result<Recording> {
        let io_err = |action, source| Error::Io {
            action,
            path: path.to_owned(),
            source,
        };
        // Opening a FIFO would block, and a device has no length: refuse both.
        let kind = std::fs::metadata(path).map_err(|e| io_err("open", e))?;
        if !kind.is_file() {
            return Err(Error::NotAFile {
                path: path.to_owned(),
            });
        }
        let mut file = File::open(path).map_err(|e| io_err("open", e))?;
        let len = file.metadata().map_err(|e| io_err("read", e))?.len();
        let truncated = |what, offset| Error::Truncated {
            path: path.to_owned(),
            what,
            offset,
            len,
        };
        let corrupt = |offset, reason: String| Error::Corrupt {
            path: path.to_owned(),
            offset,
            reason,
        };
        if len == 0 {
            return Err(Error::Empty {
                path: path.to_owned(),
            });
        }

        let mut fixed = [0u8; HEADER_FIXED];
        let got = read_up_to(&mut file, &mut fixed).map_err(|e| io_err("read", e))?;
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
        file.read_exact(&mut meta).map_err(|e| io_err("read", e))?;
        let (meta, crc) = meta.split_at(meta_len as usize);
        if crc32fast::hash(meta).to_le_bytes() != crc {
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

        let mut streams = BTreeMap::<u32, StreamIndex>::new();
        let mut defined = BTreeMap::<u32, u64>::new();
        let mut offset = meta_end;
        let mut payload = Vec::new();
        while offset < len {
            if len - offset < CHUNK_HEADER as u64 {
                return Err(truncated("a chunk header", offset));
            }
            let mut head = [0u8; CHUNK_HEADER];
            file.read_exact(&mut head).map_err(|e| io_err("read", e))?;
            let chunk_len = u32::from_le_bytes([head[0], head[1], head[2], head[3]]);
            let crc = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
            let stream = u32::from_le_bytes([head[8], head[9], head[10], head[11]]);
            if chunk_len == 0 || chunk_len > MAX_CHUNK {
                return Err(corrupt(offset, format!("a chunk claims {chunk_len} bytes")));
            }
            let start = offset + CHUNK_HEADER as u64;
            if u64::from(chunk_len) > len - start {
                return Err(truncated("a chunk", offset));
            }
            // Bounded by the file's real length, checked just above.
            payload.resize(chunk_len as usize, 0);
            file.read_exact(&mut payload)
                .map_err(|e| io_err("read", e))?;
            let mut hasher = crc32fast::Hasher::new();
            hasher.update(&head[8..12]);
            hasher.update(&payload);
            if hasher.finalize() != crc {
                return Err(corrupt(offset, "a chunk's checksum does not match".into()));
            }
            let index = streams.entry(stream).or_default();
            if index.ended {
                return Err(corrupt(
                    offset,
                    format!("stream {stream} continues after its end"),
                ));
            }
            let sites = defined.entry(stream).or_default();
            let mut bytes = &payload[..];
            while !bytes.is_empty() {
                let at = start + (payload.len() - bytes.len()) as u64;
                match Event::take(&mut bytes).map_err(|e| corrupt(at, e.into()))? {
                    Event::Define { site, .. } if site != *sites => {
                        return Err(corrupt(
                            at,
                            format!("function #{site} is defined out of order"),
                        ));
                    }
                    Event::Define { .. } => *sites += 1,
                    Event::Call { site, .. }
                    | Event::OpenCall { site, .. }
                    | Event::Callback { site, .. }
                        if site >= *sites =>
                    {
                        return Err(corrupt(
                            at,
                            format!("an event names undefined function #{site}"),
                        ));
                    }
                    Event::Call { .. } => index.calls += 1,
                    Event::OpenCall { .. } => index.open.push(true),
                    Event::Callback { .. } => index.open.push(false),
                    Event::CloseCall { .. } if index.open.pop() == Some(true) => index.calls += 1,
                    Event::Returned { .. } if index.open.pop() == Some(false) => {}
                    Event::CloseCall { .. } | Event::Returned { .. } => {
                        return Err(corrupt(
                            at,
                            "a call's or a callback's end does not match what it began".into(),
                        ));
                    }
                    Event::End if !index.open.is_empty() => {
                        return Err(corrupt(at, format!("stream {stream} ends inside a call")));
                    }
                    Event::End if !bytes.is_empty() => {
                        return Err(corrupt(
                            at,
                            format!("stream {stream} continues after its end"),
                        ));
                    }
                    Event::End => index.ended = true,
                    Event::Thread(_) => {}
                }
            }
            index.chunks.push(ChunkRef {
                offset: start,
                len: chunk_len,
            });
            offset = start + u64::from(chunk_len);
        }
        Ok(Recording {
            path: path.to_owned(),
            version,
            metadata,
            streams,
        })
    }

    /// A reader over one stream's events; empty if the stream was never written.
    pub(crate) fn stream(&self, stream: u32) -> Result<StreamReader> {
        let file = File::open(&self.path).map_err(|source| Error::Io {
            action: "open",
            path: self.path.clone(),
            source,
        })?;
        let chunks = self
            .streams
            .get(&stream)
            .map(|s| s.chunks.clone())
            .unwrap_or_default();
        // Sized for the largest chunk up front: no allocation while replaying.
        let largest = chunks.iter().map(|c| c.len as usize).max().unwrap_or(0);
        Ok(StreamReader {
            file,
            chunks: chunks.into_iter(),
            payload: Vec::with_capacity(largest),
            pos: 0,
        })
    }
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

/// One stream's events, one chunk in memory at a time.
pub(crate) struct StreamReader {
    file: File,
    chunks: std::vec::IntoIter<ChunkRef>,
    payload: Vec<u8>,
    pos: usize,
}

impl StreamReader {
    /// The next event, or `None` at the end of the stream. The file was
    /// validated when opened, so a failure here means it changed since.
    pub(crate) fn next_event(&mut self) -> io::Result<Option<Event<'_>>> {
        while self.pos == self.payload.len() {
            let Some(chunk) = self.chunks.next() else {
                return Ok(None);
            };
            self.file.seek(SeekFrom::Start(chunk.offset))?;
            self.payload.resize(chunk.len as usize, 0);
            self.file.read_exact(&mut self.payload)?;
            self.pos = 0;
        }
        let mut bytes = &self.payload[self.pos..];
        let event = Event::take(&mut bytes).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("the recording changed while replaying: {e}"),
            )
        })?;
        self.pos = self.payload.len() - bytes.len();
        Ok(Some(event))
    }
}
