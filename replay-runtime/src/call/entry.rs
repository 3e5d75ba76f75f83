//! The one entry point of a wrapped call: [`Call::begin`] takes the
//! arguments, [`Call::run`] the out-parameters and the real function. Two
//! steps, because the arguments are borrowed to be recorded or checked and
//! the real function then takes them by value.

use std::panic::Location;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::args::{Args, Outs};
use super::record::{RecordGuard, record_begin};
use super::replay::{Checked, Live, replay_bind, replay_check, replay_finish};
use super::suspend;
use crate::context::{self, ThreadMode};
use crate::site::Site;

/// What a wrapped call does in this thread's mode, once its arguments are
/// recorded or checked.
#[must_use]
pub struct Call {
    site: &'static Site,
    location: &'static Location<'static>,
    then: Then,
}

enum Then {
    /// No session (or inside another call): the real function, unrecorded.
    Plain,
    /// Recording: the real function, then its results.
    Record(RecordGuard),
    /// Replaying: the recorded results.
    Recorded,
    /// Replaying, for real: the real function (or stand-in), then its
    /// handles bound to the recorded results, given here.
    Live(Vec<u8>),
    /// Replaying, results secret: the real function (or stand-in).
    Secret,
}

/// Which function [`Call::run`]'s closure should call: the real one, or
/// in replay the `replay_with` stand-in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Run {
    /// The real function.
    Real,
    /// The stand-in, if the wrapper has one.
    StandIn,
}

/// Whether a wrapper goes straight to the real function: one thread-local
/// load, the whole cost of a wrapper without a session.
#[inline(always)]
pub fn passthrough() -> bool {
    matches!(context::mode(), ThreadMode::Off | ThreadMode::InCall)
}

impl Call {
    /// Records the call's arguments, or checks them against the recording
    /// (panicking with a report beginning `replay diverged` when they do
    /// not match). `live` says when a replayed call runs for real; with
    /// [`Live::Secret`] the results stay out of the recording, and replay
    /// checks the call, then makes it for real ([`Call::run_secret`]).
    #[inline(never)]
    #[track_caller]
    pub fn begin<A: Args>(site: &'static Site, live: Live<'_>, args: &A) -> Call {
        let location = Location::caller();
        let then = match context::mode() {
            ThreadMode::Off | ThreadMode::InCall => Then::Plain,
            ThreadMode::Record => Then::Record(record_begin(site, args)),
            ThreadMode::Replay if matches!(live, Live::Secret) => {
                let _ = replay_check(site, location, args, live);
                Then::Secret
            }
            ThreadMode::Replay => match replay_check(site, location, args, live) {
                Checked::Recorded => Then::Recorded,
                Checked::Live(recorded) => Then::Live(recorded),
            },
            ThreadMode::Diverged => super::after_divergence(site, location),
        };
        Call {
            site,
            location,
            then,
        }
    }

    /// Finishes the call: runs `real` (with the out-parameters, and which
    /// function to call) and records its results, or returns the recorded
    /// ones and writes the recorded out-parameters back.
    #[inline(never)]
    #[track_caller]
    pub fn run<R, O, F>(self, outs: &mut O, real: F) -> R
    where
        R: Serialize + DeserializeOwned,
        O: Outs,
        F: FnOnce(&mut O, Run) -> R,
    {
        let Call {
            site,
            location,
            then,
        } = self;
        match then {
            Then::Plain => real(outs, Run::Real),
            Then::Record(guard) => {
                let ret = real(outs, Run::Real);
                guard.end(&ret, outs);
                ret
            }
            Then::Recorded => replay_finish(site, location, outs),
            Then::Live(recorded) => {
                let ret = {
                    let _inside = suspend();
                    real(outs, Run::StandIn)
                };
                replay_bind(site, location, &recorded, &ret);
                ret
            }
            Then::Secret => unreachable!("a call with secret results is run by `run_secret`"),
        }
    }

    /// Finishes a call whose results are secret (`secret(return)`): runs
    /// `real`, in replay too; nothing of the results is recorded.
    #[inline(never)]
    #[track_caller]
    pub fn run_secret<R>(self, real: impl FnOnce(Run) -> R) -> R {
        match self.then {
            Then::Plain => real(Run::Real),
            Then::Record(guard) => {
                let ret = real(Run::Real);
                guard.end(&(), &());
                ret
            }
            Then::Recorded | Then::Live(_) | Then::Secret => {
                let _inside = suspend();
                real(Run::StandIn)
            }
        }
    }
}
