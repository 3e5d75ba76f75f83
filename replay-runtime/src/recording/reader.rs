//! Validating a recording and reading its streams back in blocks.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::compress::{COMPRESSED, Decompressor};
use super::event::{Event, PlainCall};
use super::format::{CHUNK_HEADER, MAX_CHUNK, MAX_STREAMS, Metadata};
use super::header::{Damage, read_header};
use super::stream::{ChunkRef, StreamReader, chunk_crc};
use crate::error::{Error, Result};

/// What validation learnt about one stream. Small: a recording may have
/// up to [`MAX_STREAMS`] of them.
#[derive(Clone, Debug, Default)]
pub(crate) struct StreamIndex {
    /// Its chunks: `chunks[first..first + count]` of the recording, once
    /// validated (while validating, `first` is unused).
    first: u32,
    count: u32,
    /// Call events in the stream.
    pub(crate) calls: u64,
    /// While validating: the functions the stream defined, and what its
    /// events so far left open.
    sites: u32,
    /// Whether the stream ends with the clean end marker.
    pub(crate) ended: bool,
    open: Open,
}

/// What a stream's events so far left open, innermost last: a call whose
/// foreign function called back (`true`), or a callback (`false`). Boxed,
/// and only when something is open: most streams have nothing open
/// between chunks.
#[derive(Clone, Debug, Default)]
struct Open(Option<Box<[bool]>>);

/// A recording whose every chunk and event has been checked. Its streams
/// are read from the file handle that was validated, never reopened by
/// path, so that a file replaced meanwhile goes unread.
pub(crate) struct Recording {
    pub(crate) path: PathBuf,
    file: Arc<File>,
    /// The file's format version.
    pub(crate) version: u16,
    pub(crate) metadata: Metadata,
    pub(crate) streams: Streams,
    /// Every chunk, grouped by stream (in file order within a stream).
    chunks: Arc<[ChunkRef]>,
    /// Why reading stopped before the file's end, with salvage (see
    /// [`Recording::open_salvaging`]).
    pub(crate) cut: Option<Cut>,
    /// How its chunks are stored.
    pub(crate) storage: Storage,
}

/// How a recording's chunks are stored: how many, how many compressed,
/// and the bytes of events their payloads hold (decompressed) and take.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Storage {
    /// Chunks read.
    pub chunks: u64,
    /// Of them, stored compressed (format version 4 on).
    pub compressed: u64,
    /// Bytes of their payloads in the file.
    pub stored: u64,
    /// Bytes of events they hold.
    pub events: u64,
}

/// The streams of a recording, sorted by number: a `Vec`, as small as
/// their count allows (a map would take twice the memory).
pub(crate) struct Streams(Vec<(u32, StreamIndex)>);

impl Streams {
    /// The stream numbered `stream`, if the recording has it.
    pub(crate) fn get(&self, stream: u32) -> Option<&StreamIndex> {
        self.0
            .binary_search_by_key(&stream, |(number, _)| *number)
            .ok()
            .map(|at| &self.0[at].1)
    }

    /// The streams' numbers, in order.
    pub(crate) fn numbers(&self) -> impl Iterator<Item = u32> + '_ {
        self.0.iter().map(|(number, _)| *number)
    }

    /// The streams, in order of their numbers.
    pub(crate) fn indexes(&self) -> impl Iterator<Item = &StreamIndex> + '_ {
        self.0.iter().map(|(_, index)| index)
    }
}

/// Where and why a salvaged recording stops short of its file.
#[derive(Clone, Debug)]
pub(crate) struct Cut {
    /// Bytes of the file that hold the header and every complete chunk.
    pub(crate) kept: u64,
    /// The error that stopped the reading.
    pub(crate) why: String,
}

impl Recording {
    /// Opens and validates the whole file, holding one chunk at a time.
    pub(crate) fn open(path: &Path) -> Result<Recording> {
        Self::read(path, false)
    }

    /// Opens a recording whose writer was killed: validates it up to the
    /// first chunk that is cut short or damaged, and keeps what precedes
    /// it ([`Recording::cut`] says what was left out). The header must be
    /// whole.
    pub(crate) fn open_salvaging(path: &Path) -> Result<Recording> {
        Self::read(path, true)
    }

    fn read(path: &Path, salvage: bool) -> Result<Recording> {
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
        let (version, metadata, meta_end) = read_header(&mut file, path, len)?;
        let mut scan = Scan {
            file: &mut file,
            path,
            version,
            len,
            streams: BTreeMap::new(),
            chunks: Vec::new(),
            payload: Vec::new(),
            unpacked: (Vec::new(), Decompressor::new()),
            storage: Storage::default(),
        };
        let mut offset = meta_end;
        let mut cut = None;
        while offset < len {
            match scan.chunk(offset) {
                Ok(next) => offset = next,
                Err(e) if salvage => {
                    cut = Some(Cut {
                        kept: offset,
                        why: e.to_string(),
                    });
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        let storage = scan.storage;
        let (streams, chunks) = scan.index();
        Ok(Recording {
            path: path.to_owned(),
            file: Arc::new(file),
            version,
            metadata,
            streams,
            chunks,
            cut,
            storage,
        })
    }

    /// A reader over one stream's events; empty if the stream was never
    /// written. It reads the validated file, checking each chunk again.
    pub(crate) fn stream(&self, stream: u32) -> StreamReader {
        let range = self
            .streams
            .get(stream)
            .map_or(0..0, |s| s.first as usize..(s.first + s.count) as usize);
        StreamReader::new(
            Arc::clone(&self.file),
            self.path.clone(),
            stream,
            Arc::clone(&self.chunks),
            range,
        )
    }

    /// The validated file, from its start.
    pub(crate) fn file(&self) -> &File {
        &self.file
    }
}

/// Validation under way: the chunks read so far, by stream.
struct Scan<'a> {
    file: &'a mut File,
    path: &'a Path,
    version: u16,
    len: u64,
    streams: BTreeMap<u32, StreamIndex>,
    /// Every chunk so far, in file order.
    chunks: Vec<ChunkRef>,
    /// The chunk being read (one at a time).
    payload: Vec<u8>,
    /// A buffer to decompress a chunk into, and the decompressor.
    unpacked: (Vec<u8>, Decompressor),
    /// The chunks kept so far.
    storage: Storage,
}

impl Scan<'_> {
    /// The index of what was read: the streams, and their chunks grouped
    /// by stream (in file order within each), sorted in place.
    fn index(self) -> (Streams, Arc<[ChunkRef]>) {
        // In order already; the map's nodes go as the vector fills.
        let mut streams: Vec<_> = self.streams.into_iter().collect();
        let mut chunks = self.chunks;
        chunks.sort_unstable_by_key(|c| (c.stream, c.offset));
        let mut first = 0;
        for (_, index) in &mut streams {
            index.first = first;
            index.open = Open::default();
            first += index.count;
        }
        (Streams(streams), chunks.into())
    }

    /// Reads and checks the chunk at `offset`; where the next one starts.
    /// On an error nothing of the chunk is kept.
    fn chunk(&mut self, offset: u64) -> Result<u64> {
        let len = self.len;
        let damage = Damage {
            path: self.path,
            len,
        };
        let truncated = |what, offset| damage.truncated(what, offset);
        let corrupt = |offset, reason| damage.corrupt(offset, reason);
        let io_err = |source| damage.io(source);
        if len - offset < CHUNK_HEADER as u64 {
            return Err(truncated("a chunk header", offset));
        }
        let mut head = [0u8; CHUNK_HEADER];
        self.file.read_exact(&mut head).map_err(io_err)?;
        let chunk_len = u32::from_le_bytes([head[0], head[1], head[2], head[3]]);
        let crc = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
        let word = u32::from_le_bytes([head[8], head[9], head[10], head[11]]);
        let packed = self.version >= 4 && word & COMPRESSED != 0;
        let stream = match packed {
            true => word & !COMPRESSED,
            false => word,
        };
        let start = offset + CHUNK_HEADER as u64;
        if chunk_len == 0 || chunk_len > MAX_CHUNK {
            return Err(corrupt(
                offset,
                format!("a chunk claims {chunk_len} bytes (at most {MAX_CHUNK})"),
            ));
        }
        if u64::from(chunk_len) > len - start {
            return Err(truncated("a chunk", offset));
        }
        // Bounded by the file's real length, checked just above.
        self.payload.resize(chunk_len as usize, 0);
        self.file.read_exact(&mut self.payload).map_err(io_err)?;
        if chunk_crc(word, &self.payload) != crc {
            return Err(corrupt(offset, "a chunk's checksum does not match".into()));
        }
        if stream >= MAX_STREAMS {
            return Err(corrupt(
                offset,
                format!("a chunk names stream {stream} (at most {MAX_STREAMS} streams)"),
            ));
        }
        let index = self.streams.get(&stream);
        if index.is_some_and(|index| index.ended) {
            return Err(corrupt(
                offset,
                format!("stream {stream} continues after its end"),
            ));
        }
        let (mut sites, mut open) = match self.streams.get(&stream) {
            Some(index) => (
                index.sites,
                index.open.0.as_deref().unwrap_or_default().to_vec(),
            ),
            None => (0, Vec::new()),
        };
        if packed {
            let (raw, decompressor) = &mut self.unpacked;
            decompressor
                .unpack(&self.payload, raw)
                .map_err(|why| corrupt(offset, why))?;
            std::mem::swap(raw, &mut self.payload);
        }
        let mut calls = 0;
        let mut ended = false;
        let mut bytes = &self.payload[..];
        while !bytes.is_empty() {
            // Most events: a plain call to a defined site, sound as it is.
            let from = self.payload.len() - bytes.len();
            if let Some(call) = PlainCall::at(&self.payload, from, sites as usize) {
                calls += 1;
                bytes = &self.payload[call.rest.end..];
                continue;
            }
            // Where a compressed chunk's event is, is told by its chunk.
            let at = match packed {
                true => offset,
                false => start + from as u64,
            };
            let event = Event::take(&mut bytes).map_err(|e| corrupt(at, e.into()))?;
            if event.since() > self.version {
                return Err(corrupt(
                    at,
                    format!(
                        "an event of format version {} in a file of version {}",
                        event.since(),
                        self.version
                    ),
                ));
            }
            let why = check_event(&event, stream, &mut sites, &mut open, &mut calls, bytes);
            match why {
                Ok(end) => ended |= end,
                Err(why) => return Err(corrupt(at, why)),
            }
        }
        // The whole chunk is sound: keep it.
        if self.chunks.len() >= u32::MAX as usize {
            return Err(corrupt(offset, "more than 2³² − 1 chunks".into()));
        }
        let index = self.streams.entry(stream).or_default();
        index.sites = sites;
        index.open = Open((!open.is_empty()).then(|| open.into_boxed_slice()));
        index.calls += calls;
        index.ended = ended;
        index.count += 1;
        self.chunks.push(ChunkRef {
            offset: start,
            len: chunk_len,
            crc,
            stream,
            packed,
        });
        self.storage.chunks += 1;
        self.storage.compressed += u64::from(packed);
        self.storage.stored += u64::from(chunk_len);
        self.storage.events += self.payload.len() as u64;
        Ok(start + u64::from(chunk_len))
    }
}

/// Checks one event against what its stream defined and left open:
/// whether it ends the stream, or what is wrong. `rest` is what follows it
/// in its chunk.
fn check_event(
    event: &Event<'_>,
    stream: u32,
    sites: &mut u32,
    open: &mut Vec<bool>,
    calls: &mut u64,
    rest: &[u8],
) -> std::result::Result<bool, String> {
    match *event {
        Event::Define { site, .. } if site != u64::from(*sites) => {
            return Err(format!("function #{site} is defined out of order"));
        }
        Event::Define { .. } => {
            *sites = sites
                .checked_add(1)
                .ok_or("a stream defines more than 2³² − 1 functions")?;
        }
        Event::Call { site, .. } | Event::OpenCall { site, .. } | Event::Callback { site, .. }
            if site >= u64::from(*sites) =>
        {
            return Err(format!("an event names undefined function #{site}"));
        }
        Event::Call { .. } => *calls += 1,
        Event::OpenCall { .. } => open.push(true),
        Event::Callback { .. } => open.push(false),
        Event::CloseCall { .. } if open.last() == Some(&true) => {
            open.pop();
            *calls += 1;
        }
        Event::Returned { .. } if open.last() == Some(&false) => {
            open.pop();
        }
        Event::CloseCall { .. } | Event::Returned { .. } => {
            return Err("a call's or a callback's end does not match what it began".into());
        }
        // A panic closes the innermost call with the callbacks inside it.
        Event::Panicked { .. } => match open.iter().rposition(|&call| call) {
            Some(at) => {
                open.truncate(at);
                *calls += 1;
            }
            None => return Err("a panic is recorded outside any call".into()),
        },
        Event::End if !open.is_empty() => {
            return Err(format!("stream {stream} ends inside a call"));
        }
        Event::End if !rest.is_empty() => {
            return Err(format!("stream {stream} continues after its end"));
        }
        Event::End => return Ok(true),
        Event::Thread(_) => {}
    }
    Ok(false)
}
