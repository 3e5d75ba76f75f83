//! A recorded call: its event is opened with the arguments before the real
//! function runs, and completed with its results after.

use serde::Serialize;

use super::args::{Args, Both, Outs};
use crate::context::{self, Phase, Scope, ThreadMode};
use crate::recording::encode::{EncodeError, encode};
use crate::recording::writer::OpenCall;
use crate::site::Site;

/// An open call event in record mode; [`RecordGuard::end`] completes it.
/// While it lives the thread is inside the call, whose own boundary calls
/// are part of it. Dropped without `end` because the real call panicked,
/// it records the call as panicked, with the panic's message: replay
/// raises the same panic at the same call.
#[must_use]
pub(crate) struct RecordGuard {
    call: Option<OpenCall>,
    /// Inside the call; if the call started or ended a session
    /// (`Scope::same_session`), the event is not this writer's to finish.
    inside: Scope,
}

/// Starts recording a call: defines the site if new and encodes the
/// arguments. With `nests`, callbacks foreign code makes during the real
/// call are recorded inside its event.
#[inline(always)]
pub(crate) fn record_begin<A: Args, I: Args>(
    site: &'static Site,
    args: &A,
    inouts: &I,
    nests: bool,
) -> Result<RecordGuard, String> {
    let inside = Scope::enter(ThreadMode::InCall, Phase::Args);
    // Whatever an earlier, failed encoding noted is not this call's.
    let _ = context::take_notes();
    // A `match`, not `Option::map`: with a closure here the optimiser keeps
    // the record and replay paths out of line (+44 instructions a call,
    // measured with callgrind on `benches/calls.rs`).
    #[allow(clippy::manual_map)]
    let began = match context::writer() {
        // Most calls have no `&mut` parameter: then exactly the arguments
        // (a constant test, gone once monomorphised).
        Some(mut writer) if I::COUNT == 0 => Some(writer.begin_call(site, args)),
        Some(mut writer) => Some(writer.begin_call(site, &Both(args, inouts))),
        None => None,
    };
    let call = match began {
        Some(Ok(call)) => Some(call),
        Some(Err(e)) => {
            drop(inside);
            return Err(cannot_encode(site, "its arguments", e));
        }
        None => None,
    };
    // During a foreign function (whose results are recorded), callbacks
    // are recorded nested in the call; during a Rust function they are
    // part of its body.
    inside.set_phase(match nests {
        true => Phase::Foreign,
        false => Phase::Idle,
    });
    Ok(RecordGuard { call, inside })
}

impl RecordGuard {
    /// Completes the event with the return value and the out-parameters.
    #[inline(always)]
    pub(crate) fn end<R: Serialize + ?Sized, O: Outs>(
        mut self,
        site: &Site,
        ret: &R,
        outs: &O,
    ) -> Result<(), String> {
        let Some(call) = self.call.filter(|_| self.inside.same_session()) else {
            self.call = None;
            return Ok(());
        };
        self.inside.set_phase(Phase::Results);
        // The guard keeps the call while its results are encoded: a panic
        // in a `Serialize` leaves it open, and the guard records it as
        // panicked. A `match`, not `Option::map`: see `record_begin`.
        #[allow(clippy::manual_map)]
        let encoded = match context::writer() {
            Some(mut writer) => Some(writer.end_call(call, |buf| {
                encode(ret, buf)?;
                outs.encode(buf)
            })),
            None => None,
        };
        // Complete, or cut off on an error: nothing left for the guard.
        self.call = None;
        match encoded {
            Some(Err(e)) => {
                drop(self);
                Err(cannot_encode(site, "the results", e))
            }
            _ => Ok(()),
        }
    }
}

impl Drop for RecordGuard {
    #[inline(always)]
    fn drop(&mut self) {
        // `end` took the call: the common case, one test.
        if let Some(call) = self.call.take() {
            self.unended(call);
        }
    }
}

impl RecordGuard {
    /// The call did not end: it panicked (recorded as such), or its
    /// results could not be encoded (nothing of it stays).
    #[cold]
    fn unended(&self, call: OpenCall) {
        if !self.inside.same_session() {
            return;
        }
        if std::thread::panicking() {
            context::with_writer(|w| {
                let message = crate::panic_hook::take_message(w.calls());
                w.panicked_call(call, &message);
            });
        } else {
            context::with_writer(|w| w.abandon_call(call));
        }
    }
}

/// Why a call cannot be recorded: a handle that is not this session's
/// (what the handle noted says it all), or a value postcard cannot encode.
#[cold]
fn cannot_encode(site: &Site, what: &str, e: EncodeError) -> String {
    match context::take_notes().error {
        Some(why) => format!(
            "replay cannot record a call to `{}`: {why}",
            site.full_name()
        ),
        None => format!(
            "replay cannot record {what} of `{}`: {e} (postcard needs sequences of known \
             length and no `serialize_any`-style types)",
            site.full_name(),
        ),
    }
}
