//! Reading one stream of a validated recording back, a chunk at a time,
//! from the file handle that was validated, checking each chunk again.

use std::fmt;
use std::fs::File;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;

use super::compress::{COMPRESSED, Decompressor};
use super::event::Event;
use super::format::CHUNK_HEADER;

/// Where one chunk's payload lies in the file, its stream and its
/// checksum: read again in replay, it must still be the chunk that was
/// validated. 24 bytes: a recording's index holds one per chunk.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct ChunkRef {
    pub(crate) offset: u64,
    pub(crate) len: u32,
    pub(crate) crc: u32,
    pub(crate) stream: u32,
    /// Its payload is stored compressed (version 4).
    pub(crate) packed: bool,
}

impl ChunkRef {
    /// The stream word as stored: the stream, and the compressed mark.
    pub(crate) fn word(&self) -> u32 {
        match self.packed {
            true => self.stream | COMPRESSED,
            false => self.stream,
        }
    }
}

/// A chunk's checksum: its stream number, then its payload.
pub(crate) fn chunk_crc(stream: u32, payload: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&stream.to_le_bytes());
    hasher.update(payload);
    hasher.finalize()
}

use super::event::{PlainCall, lock_open_at};
use super::format::ThreadEvent;

/// One stream's events, one chunk in memory at a time, read from the
/// validated file handle.
pub(crate) struct StreamReader {
    file: Arc<File>,
    path: PathBuf,
    stream: u32,
    /// Every chunk of the recording, and the range of this stream's.
    chunks: Arc<[ChunkRef]>,
    next: std::ops::Range<usize>,
    /// The current chunk's events (decompressed, if it was stored so).
    payload: Vec<u8>,
    pos: usize,
    /// A compressed chunk as stored, and the decompressor: made on the
    /// first compressed chunk.
    packed: Option<(Vec<u8>, Decompressor)>,
}

impl StreamReader {
    pub(super) fn new(
        file: Arc<File>,
        path: PathBuf,
        stream: u32,
        chunks: Arc<[ChunkRef]>,
        next: std::ops::Range<usize>,
    ) -> Self {
        StreamReader {
            file,
            path,
            stream,
            chunks,
            next,
            payload: Vec::new(),
            pos: 0,
            packed: None,
        }
    }

    /// The next event if it is a plain call to one of the first `sites`
    /// sites, read in place (see [`PlainCall::at`]). `None` leaves the
    /// event to [`StreamReader::next_event`].
    #[inline(always)]
    pub(crate) fn next_plain_call(&mut self, sites: usize) -> Option<PlainCall> {
        let call = PlainCall::at(&self.payload, self.pos, sites)?;
        self.pos = call.rest.end;
        Some(call)
    }

    /// The next event if it is a lock's open, read in place (see
    /// [`lock_open_at`]). `None` leaves the event to
    /// [`StreamReader::next_event`].
    #[inline(always)]
    pub(crate) fn next_lock_open(&mut self) -> Option<ThreadEvent> {
        let (event, end) = lock_open_at(&self.payload, self.pos)?;
        self.pos = end;
        Some(event)
    }

    /// Bytes `range` of the chunk in memory: valid until the next event
    /// is read.
    #[inline(always)]
    pub(crate) fn bytes(&self, range: std::ops::Range<usize>) -> &[u8] {
        self.payload.get(range).unwrap_or_default()
    }

    /// The next event, or `None` at the end of the stream. Each chunk is
    /// checked again as it is read: a failure means the file changed
    /// since it was validated.
    pub(crate) fn next_event(&mut self) -> io::Result<Option<Event<'_>>> {
        if !self.fill()? {
            return Ok(None);
        }
        let mut bytes = &self.payload[self.pos..];
        let event = Event::take(&mut bytes).map_err(|e| self.changed(e))?;
        self.pos = self.payload.len() - bytes.len();
        Ok(Some(event))
    }

    /// The next event and where the one after it starts, left unread
    /// ([`StreamReader::skip_to`] passes over it): `None` at the end of
    /// the stream.
    pub(crate) fn peek_event(&mut self) -> io::Result<Option<(Event<'_>, usize)>> {
        if !self.fill()? {
            return Ok(None);
        }
        let mut bytes = &self.payload[self.pos..];
        let event = Event::take(&mut bytes).map_err(|e| changed(&self.path, e))?;
        Ok(Some((event, self.payload.len() - bytes.len())))
    }

    /// Passes over the event [`StreamReader::peek_event`] returned, which
    /// ends at `end`.
    pub(crate) fn skip_to(&mut self, end: usize) {
        self.pos = end.min(self.payload.len());
    }

    /// Whether an event is left: loads the next chunk when the one in
    /// memory is spent.
    fn fill(&mut self) -> io::Result<bool> {
        while self.pos == self.payload.len() {
            let Some(chunk) = self.next.next().and_then(|i| self.chunks.get(i).copied()) else {
                return Ok(false);
            };
            self.load(chunk)?;
        }
        Ok(true)
    }

    /// Reads `chunk`, header and payload, and checks it is the chunk
    /// validated there.
    fn load(&mut self, chunk: ChunkRef) -> io::Result<()> {
        let at = chunk.offset - CHUNK_HEADER as u64;
        // Nothing of the previous chunk stays, whatever fails below.
        self.payload.clear();
        self.pos = 0;
        let mut head = [0u8; CHUNK_HEADER];
        read_exact_at(&self.file, &mut head, at).map_err(|e| self.changed(e))?;
        let stored = match chunk.packed {
            true => {
                &mut self
                    .packed
                    .get_or_insert_with(|| (Vec::new(), Decompressor::new()))
                    .0
            }
            false => &mut self.payload,
        };
        stored.resize(chunk.len as usize, 0);
        read_exact_at(&self.file, stored, chunk.offset).map_err(|e| changed(&self.path, e))?;
        let same = chunk.stream == self.stream
            && head[0..4] == chunk.len.to_le_bytes()
            && head[4..8] == chunk.crc.to_le_bytes()
            && head[8..12] == chunk.word().to_le_bytes()
            && chunk_crc(chunk.word(), stored) == chunk.crc;
        if !same {
            self.payload.clear();
            return Err(self.changed(format!("the chunk at byte {at} is not the one validated")));
        }
        if let Some((stored, decompressor)) = self.packed.as_mut().filter(|_| chunk.packed)
            && let Err(why) = decompressor.unpack(stored, &mut self.payload)
        {
            self.payload.clear();
            return Err(self.changed(why));
        }
        Ok(())
    }

    /// The error of a file changed under a running replay.
    fn changed(&self, why: impl fmt::Display) -> io::Error {
        changed(&self.path, why)
    }
}

/// The error of the file at `path` changed under a running replay.
fn changed(path: &std::path::Path, why: impl fmt::Display) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!(
            "{} changed while it was replayed ({why}); was it re-recorded or \
             checked out meanwhile? Replay it again",
            path.display()
        ),
    )
}

/// Reads exactly `buf.len()` bytes at `offset`, leaving the file's
/// position alone: every stream reader shares the one handle.
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
    }
    #[cfg(windows)]
    {
        let mut done = 0;
        while done < buf.len() {
            let n = std::os::windows::fs::FileExt::seek_read(
                file,
                &mut buf[done..],
                offset + done as u64,
            )?;
            if n == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            done += n;
        }
        Ok(())
    }
}
