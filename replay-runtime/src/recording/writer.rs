//! Staging events in memory and writing them as checksummed chunks.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use super::event::Event;
use super::format::{
    self, ArgValues, BLOCK, CHUNK_HEADER, EncodeError, KIND_CALL, KIND_CALL_DIGESTED, MAX_CHUNK,
    ThreadEvent,
};
use super::sink::Sink;
use crate::site::Site;

/// Gives every stream writer a number that no other has had in this process,
/// so a [`Site`] can cache its number in the writer that last used it.
static WRITER_SERIAL: AtomicU32 = AtomicU32::new(1);

/// One thread's stream: events are encoded straight into `buf`, behind a
/// reserved chunk header, and handed to the session's background writer
/// when a block fills.
pub(crate) struct StreamWriter {
    sink: Arc<Sink>,
    stream: u32,
    serial: u32,
    /// A chunk in the making: `CHUNK_HEADER` reserved bytes, then events.
    pub(super) buf: Vec<u8>,
    /// Site numbers of this stream, for sites whose cache another writer took.
    pub(super) sites: HashMap<usize, u32>,
    /// Calls recorded so far.
    pub(super) calls: u64,
    /// The run of receives last recorded: where its event starts in `buf`,
    /// the sender, how many receives it counts and the most sender calls
    /// any of its messages was sent after. It grows only while its event
    /// is still the last thing in `buf`.
    run: Option<(usize, u32, u64, u64)>,
    /// Where the innermost call event still open (its real call is
    /// running) starts in `buf`, or [`NONE_OPEN`]; each [`OpenCall`] keeps
    /// the one around it.
    pub(super) innermost: usize,
    /// For each open call foreign code called back during, innermost last:
    /// how many sites were defined and calls recorded then (those defined
    /// or recorded later go if the call is cut off). See `nesting.rs`.
    pub(super) nested: Vec<(usize, u64)>,
    /// The sites in the order they were defined (their numbers).
    pub(super) defined: Vec<&'static Site>,
}

/// No call is open.
pub(super) const NONE_OPEN: usize = usize::MAX;

impl StreamWriter {
    pub(crate) fn new(sink: Arc<Sink>, stream: u32) -> Self {
        StreamWriter {
            sink,
            stream,
            serial: WRITER_SERIAL.fetch_add(1, Ordering::Relaxed),
            buf: format::chunk_buffer(),
            sites: HashMap::new(),
            calls: 0,
            run: None,
            innermost: NONE_OPEN,
            nested: Vec::new(),
            defined: Vec::new(),
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
    pub(super) fn site_number(&mut self, site: &'static Site) -> u64 {
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
            self.defined.push(site);
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
        let start = event.keep();
        let outer = std::mem::replace(&mut self.innermost, start);
        Ok(OpenCall { start, outer })
    }

    /// Completes a call event with its results (the return value, then the
    /// out-parameters), which `results` appends. On an error the whole
    /// event is cut off; on a panic (a user's `Serialize`) only what the
    /// results began, and the call stays open, for its guard to record as
    /// panicked.
    #[inline(always)]
    pub(crate) fn end_call(
        &mut self,
        call: OpenCall,
        results: impl FnOnce(&mut Vec<u8>) -> std::result::Result<(), EncodeError>,
    ) -> std::result::Result<(), EncodeError> {
        if self.is_nested(call.start) {
            return self.close_nested(call, results);
        }
        let event = Partial::new(&mut self.buf);
        let at = event.start;
        event.buf.push(0);
        if let Err(e) = results(event.buf) {
            drop(event);
            self.abandon_call(call);
            return Err(e);
        }
        format::patch_len(event.buf, at);
        event.keep();
        self.innermost = call.outer;
        self.event_done();
        Ok(())
    }

    /// Cuts off a call event that will not complete (its real call
    /// panicked), with whatever was recorded inside it.
    pub(crate) fn abandon_call(&mut self, call: OpenCall) {
        self.innermost = call.outer;
        if self.is_nested(call.start) {
            self.cut_off(call.start);
        } else {
            self.buf.truncate(call.start.min(self.buf.len()));
        }
    }

    /// Closes the open call `call` as panicked with `message`, with the
    /// callbacks still open inside it: the panic is part of the recording,
    /// and replay raises it again at the same call.
    pub(crate) fn panicked_call(&mut self, call: OpenCall, message: &str) {
        self.reopen(call.start);
        self.innermost = call.outer;
        Event::put_panicked(&mut self.buf, message);
        self.nested.pop();
        self.event_done();
    }

    /// The process is about to end without unwinding (`panic = "abort"`):
    /// closes the innermost open call as panicked with `message`, and
    /// writes everything staged, the calls still open around it included
    /// (nothing will close them).
    pub(crate) fn crash(&mut self, message: &str) {
        let start = self.innermost;
        if start != NONE_OPEN {
            self.reopen(start);
            Event::put_panicked(&mut self.buf, message);
            self.calls += 1;
        }
        self.innermost = NONE_OPEN;
        self.flush();
    }

    /// Ends the run of receives: something else was recorded.
    pub(super) fn clear_run(&mut self) {
        self.run = None;
    }

    /// Called after each complete call event: counts it, and writes the
    /// chunk once a block fills.
    #[inline]
    pub(super) fn event_done(&mut self) {
        self.calls += 1;
        self.maybe_flush();
    }

    /// Writes the chunk once a block fills, unless a call is open: its
    /// event may yet be cut off.
    #[inline]
    pub(super) fn maybe_flush(&mut self) {
        self.run = None;
        if self.buf.len() >= BLOCK + CHUNK_HEADER && self.innermost == NONE_OPEN {
            self.flush();
        }
    }

    /// Records a thread event. Receives from one sender in a row make one
    /// event with a count, rewritten in place while it is the last event.
    pub(crate) fn record_thread(&mut self, event: ThreadEvent) {
        if let ThreadEvent::Recv {
            sender,
            count: 1,
            sent,
        } = event
        {
            if let Some((start, last, count, last_sent)) = self.run
                && last == sender
                && start + Event::recv_len(sender, count, last_sent) == self.buf.len()
            {
                // The run's event says where its latest message was sent.
                let sent = sent.max(last_sent);
                self.buf.truncate(start);
                Event::put_thread(
                    &mut self.buf,
                    ThreadEvent::Recv {
                        sender,
                        count: count + 1,
                        sent,
                    },
                );
                self.run = Some((start, sender, count + 1, sent));
                return;
            }
            self.run = Some((self.buf.len(), sender, 1, sent));
            Event::put_thread(&mut self.buf, event);
        } else {
            Event::put_thread(&mut self.buf, event);
            self.run = None;
        }
        if self.buf.len() >= BLOCK + CHUNK_HEADER {
            self.flush();
        }
    }

    /// Writes the staged events as a chunk, unless a call is open: half a
    /// call is never written (the panic hook, a lock or a channel recorded
    /// inside a callback, would otherwise cut one in two).
    pub(crate) fn flush(&mut self) {
        if self.buf.len() == CHUNK_HEADER || self.innermost != NONE_OPEN {
            return;
        }
        let Some(payload_len) = u32::try_from(self.buf.len() - CHUNK_HEADER)
            .ok()
            .filter(|&len| len <= MAX_CHUNK)
        else {
            self.sink.fail(format!(
                "{} bytes of events exceed the {MAX_CHUNK}-byte chunk limit (one call \
                 recorded more than 64 MiB); record large data by digest or in pieces",
                self.buf.len() - CHUNK_HEADER
            ));
            self.buf.truncate(CHUNK_HEADER);
            return;
        };
        // The background writer seals it with its checksum.
        self.buf[0..4].copy_from_slice(&payload_len.to_le_bytes());
        self.buf[8..12].copy_from_slice(&self.stream.to_le_bytes());
        let full = std::mem::take(&mut self.buf);
        self.buf = self.sink.exchange(full);
        self.run = None;
    }

    /// Whether a call is open: its real call is running.
    pub(crate) fn call_open(&self) -> bool {
        self.innermost != NONE_OPEN
    }

    /// The session ends inside a call of its own (its body finished the
    /// session): the calls still open can never complete, so they go,
    /// with what was recorded inside them; what came before stays.
    pub(crate) fn cut_open_calls(&mut self) {
        if let Some(start) = self.outermost_open() {
            self.buf.truncate(start);
        }
        self.innermost = NONE_OPEN;
        self.nested.clear();
    }

    /// Where the outermost open call starts in `buf`: an open call is
    /// never flushed, so all of it is staged. Found by reading the staged
    /// events (a rare path; the hot one keeps no more state for it).
    fn outermost_open(&self) -> Option<usize> {
        // Where each open call (`true`) or callback (`false`) starts.
        let mut open: Vec<(usize, bool)> = Vec::new();
        let mut bytes = &self.buf[CHUNK_HEADER..];
        while !bytes.is_empty() {
            let at = self.buf.len() - bytes.len();
            match Event::take(&mut bytes) {
                Ok(Event::OpenCall { .. }) => open.push((at, true)),
                Ok(Event::Callback { .. }) => open.push((at, false)),
                Ok(Event::CloseCall { .. } | Event::Returned { .. }) => {
                    open.pop();
                }
                // A panic closes the innermost call, with the callbacks
                // inside it, as validation reads it.
                Ok(Event::Panicked { .. }) => {
                    let call = open.iter().rposition(|&(_, call)| call);
                    open.truncate(call.unwrap_or(0));
                }
                Ok(_) => {}
                // A call event without its results yet: the innermost.
                Err(_) => {
                    open.push((at, true));
                    break;
                }
            }
        }
        open.first().map(|&(at, _)| at)
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
/// [`StreamWriter::begin_call`]. Copied by its guard, which keeps it until
/// the event is complete.
#[must_use]
#[derive(Clone, Copy, Debug)]
pub(crate) struct OpenCall {
    start: usize,
    /// Where the call this one is inside of starts, or [`NONE_OPEN`].
    outer: usize,
}

impl OpenCall {
    /// Where its event starts.
    pub(super) fn start(&self) -> usize {
        self.start
    }

    /// Where the call it is inside of starts, or [`NONE_OPEN`].
    pub(super) fn outer(&self) -> usize {
        self.outer
    }
}

/// An event being written: unless kept, it is cut off again when dropped,
/// on an encoding error or a panic in a user's `Serialize` alike, so a
/// recording never holds half an event.
pub(super) struct Partial<'a> {
    pub(super) buf: &'a mut Vec<u8>,
    pub(super) start: usize,
}

impl<'a> Partial<'a> {
    #[inline]
    pub(super) fn new(buf: &'a mut Vec<u8>) -> Self {
        let start = buf.len();
        Partial { buf, start }
    }

    /// Keeps the event; returns where it starts.
    #[inline]
    pub(super) fn keep(self) -> usize {
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
