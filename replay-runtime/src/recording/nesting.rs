//! Foreign code calling back into Rust during a recorded call: the call's
//! event is reopened as an `OpenCall`, each callback is recorded as a
//! `Callback` event with its arguments, the calls it makes follow as usual,
//! then a `Returned` event; the call's results close it (`CloseCall`).
//! See `event.rs` for the bytes.

use super::encode::EncodeError;
use super::event::Event;
use std::sync::atomic::Ordering;

use super::format::{self, KIND_CALL_DIGESTED, KIND_META, take_varint};
use super::writer::{NONE_OPEN, OpenCall, Partial, StreamWriter};
use crate::site::Site;

impl StreamWriter {
    /// Whether the open call event at `start` was reopened as an
    /// `OpenCall`: a meta head, whose low bits a call's never are.
    #[inline(always)]
    pub(super) fn is_nested(&self, start: usize) -> bool {
        self.buf
            .get(start)
            .is_some_and(|&head| u64::from(head & 3) == KIND_META)
    }

    /// Foreign code is calling back during the innermost open call (if
    /// any): reopens its event as an `OpenCall`, once, so that what the
    /// callback records can follow it.
    pub(crate) fn nest(&mut self) {
        self.reopen(self.innermost);
    }

    /// Reopens the open call event at `start` as an `OpenCall` (unless it
    /// is one already), for what follows inside it: callbacks, or a panic.
    pub(super) fn reopen(&mut self, start: usize) {
        if start == NONE_OPEN || self.is_nested(start) {
            return;
        }
        // Nothing was recorded inside the call before: every site defined
        // from now on goes if it is cut off.
        self.nested.push((self.defined.len(), self.calls));
        let mut rest = &self.buf[start..];
        let Some(head) = take_varint(&mut rest) else {
            return;
        };
        let head_len = self.buf.len() - start - rest.len();
        let mut prefix = Vec::with_capacity(8);
        Event::put_open_call_head(&mut prefix, head >> 2, head & 3 == KIND_CALL_DIGESTED);
        self.buf.splice(start..start + head_len, prefix);
        self.clear_run();
    }

    /// Records that foreign code called the callback `site`; `args`
    /// appends its arguments, stored whole (replay passes them to the
    /// callback). On an error nothing of the event is left.
    pub(crate) fn begin_callback(
        &mut self,
        site: &'static Site,
        args: impl FnOnce(&mut Vec<u8>) -> Result<(), EncodeError>,
    ) -> Result<(), EncodeError> {
        let number = self.site_number(site);
        self.blob_event(|buf| Event::put_callback_head(buf, number), args)?;
        self.maybe_flush();
        Ok(())
    }

    /// Records the innermost callback's return value, which `ret` appends.
    pub(crate) fn end_callback(
        &mut self,
        ret: impl FnOnce(&mut Vec<u8>) -> Result<(), EncodeError>,
    ) -> Result<(), EncodeError> {
        self.blob_event(Event::put_returned_head, ret)?;
        self.maybe_flush();
        Ok(())
    }

    /// Completes a call that foreign code called back during with a
    /// `CloseCall` event. On an error the whole call goes, with what was
    /// recorded inside it; on a panic (a user's `Serialize`) only the
    /// close, and the call stays open for its guard to record as panicked.
    pub(super) fn close_nested(
        &mut self,
        call: OpenCall,
        results: impl FnOnce(&mut Vec<u8>) -> Result<(), EncodeError>,
    ) -> Result<(), EncodeError> {
        if let Err(e) = self.blob_event(Event::put_close_call_head, results) {
            self.innermost = call.outer();
            self.cut_off(call.start());
            return Err(e);
        }
        self.innermost = call.outer();
        self.nested.pop();
        self.event_done();
        Ok(())
    }

    /// Appends an event: `head`, then a blob that `body` fills. On an
    /// error nothing of it is left.
    fn blob_event(
        &mut self,
        head: impl FnOnce(&mut Vec<u8>),
        body: impl FnOnce(&mut Vec<u8>) -> Result<(), EncodeError>,
    ) -> Result<(), EncodeError> {
        let event = Partial::new(&mut self.buf);
        head(event.buf);
        let at = event.buf.len();
        event.buf.push(0);
        body(event.buf)?;
        format::patch_len(event.buf, at);
        event.keep();
        Ok(())
    }

    /// Cuts off the nested call event from `start` on, with what was
    /// recorded inside it (the calls are no longer counted), and forgets
    /// the sites defined since foreign code first called back during it:
    /// they are defined again when next used.
    pub(super) fn cut_off(&mut self, start: usize) {
        self.buf.truncate(start.min(self.buf.len()));
        let (first, calls) = self
            .nested
            .pop()
            .unwrap_or((self.defined.len(), self.calls));
        self.calls = calls;
        for site in self.defined.drain(first.min(self.defined.len())..) {
            self.sites.remove(&(site as *const Site as usize));
            site.cache.store(0, Ordering::Relaxed);
        }
    }
}
