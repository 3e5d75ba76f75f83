//! A recorded call: its event is opened with the arguments before the real
//! function runs, and completed with its results after.

use serde::Serialize;

use super::args::{Args, Outs};
use crate::context::{self, Phase, Scope, ThreadMode};
use crate::recording::encode::{EncodeError, encode};
use crate::recording::writer::OpenCall;
use crate::site::Site;

/// An open call event in record mode; [`RecordGuard::end`] completes it.
/// While it lives the thread is inside the call, whose own boundary calls
/// are part of it. Dropped without `end` (the real call panicked), it
/// discards the event.
#[must_use]
pub struct RecordGuard {
    site: &'static Site,
    call: Option<OpenCall>,
    _inside: Scope,
}

/// Starts recording a call: defines the site if new and encodes the
/// arguments.
#[inline]
#[track_caller]
pub fn record_begin<A: Args>(site: &'static Site, args: &A) -> RecordGuard {
    let inside = Scope::enter(ThreadMode::InCall, Phase::Idle);
    // Whatever an earlier, failed encoding noted is not this call's.
    let _ = context::take_notes();
    let call = {
        let _args = Scope::phase(Phase::Args);
        context::with_writer(|w| w.begin_call(site, args))
    };
    let call = match call {
        Some(Ok(call)) => Some(call),
        Some(Err(e)) => {
            drop(inside);
            cannot_encode(site, "its arguments", e)
        }
        None => None,
    };
    RecordGuard {
        site,
        call,
        _inside: inside,
    }
}

impl RecordGuard {
    /// Completes the event with the return value and the out-parameters.
    #[inline]
    #[track_caller]
    pub fn end<R: Serialize + ?Sized, O: Outs>(mut self, ret: &R, outs: &O) {
        let Some(call) = self.call.take() else {
            return;
        };
        let encoded = {
            let _results = Scope::phase(Phase::Results);
            context::with_writer(|w| {
                w.end_call(call, |buf| {
                    encode(ret, buf)?;
                    outs.encode(buf)
                })
            })
        };
        if let Some(Err(e)) = encoded {
            let site = self.site;
            drop(self);
            cannot_encode(site, "the results", e);
        }
    }
}

impl Drop for RecordGuard {
    fn drop(&mut self) {
        if let Some(call) = self.call.take() {
            context::with_writer(|w| w.abandon_call(call));
        }
    }
}

/// A call that cannot be recorded: a handle that is not this session's
/// (what the handle noted says it all), or a value postcard cannot encode.
#[cold]
#[track_caller]
fn cannot_encode(site: &Site, what: &str, e: EncodeError) -> ! {
    match context::take_notes().error {
        Some(why) => panic!(
            "replay cannot record a call to `{}`: {why}",
            site.full_name()
        ),
        None => panic!(
            "replay cannot record {what} of `{}`: {e} (postcard needs sequences of known \
             length and no `serialize_any`-style types)",
            site.full_name(),
        ),
    }
}
