//! Staging events in memory and writing them as checksummed chunks.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use super::format::{
    self, ArgValues, BLOCK, CHUNK_HEADER, EncodeError, Event, KIND_CALL, KIND_CALL_DIGESTED, MAGIC,
    MAX_CHUNK, Metadata, ThreadEvent, VERSION,
};
use crate::error::{Error, Result};
use crate::site::Site;

/// The file all of a recording's streams write into.
pub(crate) struct Sink {
    path: PathBuf,
    file: Mutex<File>,
    /// The first write error; later writes are skipped and `finish` reports it.
    failed: Mutex<Option<io::Error>>,
    /// Bytes written so far, header included.
    bytes: AtomicU64,
    /// Where the recording is written until it is published at `path`
    /// (none when `path` is a device or a pipe, written directly).
    partial: Option<PathBuf>,
    published: std::sync::atomic::AtomicBool,
    /// The header written first.
    metadata: Metadata,
}

impl Sink {
    /// Creates the file (and its directory) and writes the header. A
    /// regular file is written beside `path`, as `<name>.partial`, and
    /// renamed over `path` once published: re-recording never destroys an
    /// existing recording until the new one is written.
    pub(crate) fn create(path: &Path) -> Result<Arc<Sink>> {
        let io_err = |source| Error::Io {
            action: "create",
            path: path.to_owned(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io_err)?;
        }
        let special = path.metadata().is_ok_and(|m| !m.is_file());
        let partial = (!special).then(|| {
            let mut name = path.file_name().unwrap_or_default().to_owned();
            name.push(".partial");
            path.with_file_name(name)
        });
        let mut file = File::create(partial.as_deref().unwrap_or(path)).map_err(io_err)?;
        let metadata = Metadata::current();
        let header = header_bytes(&metadata);
        file.write_all(&header).map_err(|source| Error::Io {
            action: "write",
            path: path.to_owned(),
            source,
        })?;
        let sink = Sink {
            path: path.to_owned(),
            file: Mutex::new(file),
            failed: Mutex::new(None),
            bytes: AtomicU64::new(header.len() as u64),
            partial,
            published: std::sync::atomic::AtomicBool::new(false),
            metadata,
        };
        Ok(Arc::new(sink))
    }

    /// The header this recording starts with.
    pub(crate) fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// Bytes written so far, header included.
    pub(crate) fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    fn write(&self, bytes: &[u8]) {
        let mut failed = self.failed.lock().unwrap_or_else(PoisonError::into_inner);
        if failed.is_some() {
            return;
        }
        let mut file = self.file.lock().unwrap_or_else(PoisonError::into_inner);
        match file.write_all(bytes) {
            Ok(()) => {
                self.bytes.fetch_add(bytes.len() as u64, Ordering::Relaxed);
            }
            Err(e) => *failed = Some(e),
        }
    }

    /// Fails the recording: nothing more is written and `finish` reports why.
    fn fail(&self, reason: String) {
        let mut failed = self.failed.lock().unwrap_or_else(PoisonError::into_inner);
        failed.get_or_insert_with(|| io::Error::other(reason));
    }

    /// Moves the recording to its path (once): from then on it replaces
    /// whatever was there. Writes that follow go on into the same file.
    pub(crate) fn publish(&self) -> io::Result<()> {
        match &self.partial {
            Some(partial) if !self.published.swap(true, Ordering::SeqCst) => {
                std::fs::rename(partial, &self.path)
            }
            _ => Ok(()),
        }
    }

    /// Flushes the file to the OS, publishes it, and reports the first
    /// write error, if any (an unpublished recording stays `.partial`).
    pub(crate) fn finish(&self) -> Result<()> {
        let failed = self
            .failed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let flushed = match failed {
            Some(e) => Err(e),
            None => self
                .file
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .flush()
                .and_then(|()| self.publish()),
        };
        flushed.map_err(|source| Error::Io {
            action: "write",
            path: self.path.clone(),
            source,
        })
    }
}

/// The header: magic, version, and the checksummed metadata.
pub(crate) fn header_bytes(meta: &Metadata) -> Vec<u8> {
    let meta = postcard::to_stdvec(meta).unwrap_or_default();
    let mut out = Vec::with_capacity(format::HEADER_FIXED + meta.len() + 4);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&(meta.len() as u32).to_le_bytes());
    out.extend_from_slice(&meta);
    out.extend_from_slice(&crc32fast::hash(&meta).to_le_bytes());
    out
}

/// Gives every stream writer a number that no other has had in this process,
/// so a [`Site`] can cache its number in the writer that last used it.
static WRITER_SERIAL: AtomicU32 = AtomicU32::new(1);

/// One thread's stream: events are encoded straight into `buf`, behind a
/// reserved chunk header, and written when a block fills.
pub(crate) struct StreamWriter {
    sink: Arc<Sink>,
    stream: u32,
    serial: u32,
    /// A chunk in the making: `CHUNK_HEADER` reserved bytes, then events.
    buf: Vec<u8>,
    /// Site numbers of this stream, for sites whose cache another writer took.
    sites: HashMap<usize, u32>,
    /// Calls recorded so far.
    calls: u64,
    /// The run of receives last recorded: where its event starts in `buf`,
    /// the sender, and how many receives it counts. It grows only while
    /// its event is still the last thing in `buf`.
    run: Option<(usize, u32, u64)>,
}

impl StreamWriter {
    pub(crate) fn new(sink: Arc<Sink>, stream: u32) -> Self {
        let mut buf = Vec::with_capacity(BLOCK + BLOCK / 4);
        buf.resize(CHUNK_HEADER, 0);
        StreamWriter {
            sink,
            stream,
            serial: WRITER_SERIAL.fetch_add(1, Ordering::Relaxed),
            buf,
            sites: HashMap::new(),
            calls: 0,
            run: None,
        }
    }

    pub(crate) fn sink(&self) -> &Arc<Sink> {
        &self.sink
    }

    /// Calls recorded so far.
    pub(crate) fn calls(&self) -> u64 {
        self.calls
    }

    /// The site's number in this stream, defining it on first use.
    #[inline]
    fn site_number(&mut self, site: &'static Site) -> u64 {
        let cached = site.cache.load(Ordering::Relaxed);
        if cached >> 32 == u64::from(self.serial) {
            return cached & 0xffff_ffff;
        }
        self.site_number_slow(site)
    }

    #[cold]
    fn site_number_slow(&mut self, site: &'static Site) -> u64 {
        let next = self.sites.len() as u32;
        let key = site as *const Site as usize;
        let number = *self.sites.entry(key).or_insert(next);
        if number == next {
            Event::put_define(
                &mut self.buf,
                u64::from(number),
                site.full_name(),
                site.signature,
            );
        }
        site.cache.store(
            u64::from(self.serial) << 32 | u64::from(number),
            Ordering::Relaxed,
        );
        u64::from(number)
    }

    /// Starts a call event: defines the site if it is new, then writes the
    /// event's head and its arguments. On an error (or a panic in a
    /// `Serialize`) nothing of the event is left.
    #[inline(always)]
    pub(crate) fn begin_call<A: ArgValues + ?Sized>(
        &mut self,
        site: &'static Site,
        args: &A,
    ) -> std::result::Result<OpenCall, EncodeError> {
        let number = self.site_number(site);
        let event = Partial::new(&mut self.buf);
        format::put_varint(event.buf, number << 2 | KIND_CALL);
        if format::put_args(event.buf, args)? {
            // The head's low bits are the kind; rewrite them in place.
            event.buf[event.start] = (event.buf[event.start] & !3) | KIND_CALL_DIGESTED as u8;
        }
        Ok(OpenCall {
            start: event.keep(),
        })
    }

    /// Completes a call event with its results (the return value, then the
    /// out-parameters), which `results` appends. On an error (or a panic)
    /// the whole event is cut off.
    #[inline(always)]
    pub(crate) fn end_call(
        &mut self,
        call: OpenCall,
        results: impl FnOnce(&mut Vec<u8>) -> std::result::Result<(), EncodeError>,
    ) -> std::result::Result<(), EncodeError> {
        let event = Partial {
            start: call.start,
            buf: &mut self.buf,
        };
        let at = event.buf.len();
        event.buf.push(0);
        results(event.buf)?;
        format::patch_len(event.buf, at);
        event.keep();
        self.event_done();
        Ok(())
    }

    /// Cuts off a call event that will not complete (its real call panicked).
    pub(crate) fn abandon_call(&mut self, call: OpenCall) {
        self.buf.truncate(call.start.min(self.buf.len()));
    }

    /// Called after each complete event: writes the chunk once a block fills.
    #[inline]
    fn event_done(&mut self) {
        self.calls += 1;
        self.run = None;
        if self.buf.len() >= BLOCK + CHUNK_HEADER {
            self.flush();
        }
    }

    /// Records a thread event. Receives from one sender in a row make one
    /// event with a count, rewritten in place while it is the last event.
    pub(crate) fn record_thread(&mut self, event: ThreadEvent) {
        if let ThreadEvent::Recv { sender, count: 1 } = event {
            if let Some((start, last, count)) = self.run
                && last == sender
                && start + Event::recv_len(sender, count) == self.buf.len()
            {
                self.buf.truncate(start);
                Event::put_thread(
                    &mut self.buf,
                    ThreadEvent::Recv {
                        sender,
                        count: count + 1,
                    },
                );
                self.run = Some((start, sender, count + 1));
                return;
            }
            self.run = Some((self.buf.len(), sender, 1));
            Event::put_thread(&mut self.buf, event);
        } else {
            Event::put_thread(&mut self.buf, event);
            self.run = None;
        }
        if self.buf.len() >= BLOCK + CHUNK_HEADER {
            self.flush();
        }
    }

    /// Writes the staged events as one chunk, if there are any.
    pub(crate) fn flush(&mut self) {
        if self.buf.len() == CHUNK_HEADER {
            return;
        }
        let Some(payload_len) = u32::try_from(self.buf.len() - CHUNK_HEADER)
            .ok()
            .filter(|&len| len <= MAX_CHUNK)
        else {
            self.sink.fail(format!(
                "{} bytes of events exceed the {MAX_CHUNK}-byte chunk limit (one call \
                 recorded more than 1 GiB); record large data by digest or in pieces",
                self.buf.len() - CHUNK_HEADER
            ));
            self.buf.truncate(CHUNK_HEADER);
            return;
        };
        let stream = self.stream.to_le_bytes();
        let mut crc = crc32fast::Hasher::new();
        crc.update(&stream);
        crc.update(&self.buf[CHUNK_HEADER..]);
        self.buf[0..4].copy_from_slice(&payload_len.to_le_bytes());
        self.buf[4..8].copy_from_slice(&crc.finalize().to_le_bytes());
        self.buf[8..12].copy_from_slice(&stream);
        self.sink.write(&self.buf);
        self.buf.truncate(CHUNK_HEADER);
        self.run = None;
    }

    /// Marks the stream as cleanly ended and writes everything staged.
    pub(crate) fn end(&mut self) {
        Event::put_end(&mut self.buf);
        self.flush();
    }
}

impl Drop for StreamWriter {
    fn drop(&mut self) {
        self.flush();
    }
}

/// A call event whose results are still to come: see
/// [`StreamWriter::begin_call`].
#[must_use]
#[derive(Debug)]
pub(crate) struct OpenCall {
    start: usize,
}

/// An event being written: unless kept, it is cut off again when dropped,
/// on an encoding error or a panic in a user's `Serialize` alike, so a
/// recording never holds half an event.
struct Partial<'a> {
    buf: &'a mut Vec<u8>,
    start: usize,
}

impl<'a> Partial<'a> {
    #[inline]
    fn new(buf: &'a mut Vec<u8>) -> Self {
        let start = buf.len();
        Partial { buf, start }
    }

    /// Keeps the event; returns where it starts.
    #[inline]
    fn keep(self) -> usize {
        let start = self.start;
        std::mem::forget(self);
        start
    }
}

impl Drop for Partial<'_> {
    #[cold]
    fn drop(&mut self) {
        self.buf.truncate(self.start);
    }
}
