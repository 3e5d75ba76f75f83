//! The one entry point of a wrapped call: [`Call::begin`] takes the
//! arguments, [`Call::run`] the out-parameters and the real function. Two
//! steps, because the arguments are borrowed to be recorded or checked and
//! the real function then takes them by value. Both run out of line (in
//! the wrapper's [`outlined`] closure) and return a [`Failure`] rather than
//! panic, so that [`done`], called by the wrapper itself, raises it at the
//! caller's line.

use std::panic::{AssertUnwindSafe, Location, catch_unwind, resume_unwind};

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::args::{Args, Outs};
use super::callback::resume_pending;
use super::record::{RecordGuard, record_begin};
use super::replay::{
    Checked, Ending, Live, hold_results, replay_bind, replay_check, replay_finish,
};
use crate::context::{self, Phase, Scope, ThreadMode};
use crate::divergence::{self, Divergence};
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
    /// Replaying: the recorded results, after the recorded callbacks
    /// (`open`).
    Recorded(bool),
    /// Replaying, for real: the real function (or stand-in), then its
    /// handles bound to the recorded results, given here, unless the
    /// session changed meanwhile (the epoch, see `context::epoch`).
    Live(Vec<u8>, u64),
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

/// Why a wrapped call cannot go on: a divergence, or a call that cannot be
/// recorded. [`done`] raises it. Boxed: a wrapper's result stays as small
/// as its value, so the path that succeeds pays nothing for it.
pub struct Failure(Box<Why>);

enum Why {
    Diverged(Divergence),
    CannotRecord(String),
    /// The call panicked when recorded: the function, and the message.
    Panicked(&'static Site, String),
}

impl From<Divergence> for Failure {
    fn from(divergence: Divergence) -> Self {
        Failure(Box::new(Why::Diverged(divergence)))
    }
}

/// Whether a wrapper goes straight to the real function: one thread-local
/// load and one comparison, the whole cost of a wrapper without a session.
#[inline(always)]
pub fn passthrough() -> bool {
    context::passes_through()
}

/// Runs `f` out of line: a wrapper's record and replay paths, kept apart so
/// that its off path stays small enough to inline into the caller.
#[inline(never)]
#[cold]
pub fn outlined<R>(f: impl FnOnce() -> R) -> R {
    f()
}

/// The wrapper's result, or its failure raised as a panic at the caller:
/// the report says what diverged, the panic's location where.
#[inline]
#[track_caller]
pub fn done<R>(result: Result<R, Failure>) -> R {
    match result {
        Ok(value) => value,
        Err(failure) => failure.raise(),
    }
}

impl Failure {
    fn is_divergence(&self) -> bool {
        matches!(*self.0, Why::Diverged(_))
    }

    #[cold]
    #[track_caller]
    fn raise(self) -> ! {
        match *self.0 {
            Why::Diverged(divergence) => divergence::raise(divergence),
            Why::CannotRecord(message) => panic!("{message}"),
            Why::Panicked(site, message) => {
                eprintln!(
                    "replay: the call to `{}` panicked when recorded; its panic is raised again here",
                    site.full_name()
                );
                panic!("{message}")
            }
        }
    }
}

impl Call {
    /// Records the call's arguments, or checks them against the recording:
    /// its inputs, then (`inouts`) the values its `&mut` parameters hold
    /// before the call. `location` is the caller's; `live` says when a replayed call runs
    /// for real. With [`Live::Secret`] the results stay out of the
    /// recording, and replay checks the call, then makes it for real
    /// ([`Call::run_secret`]).
    #[inline(always)]
    pub fn begin<A: Args, I: Args>(
        site: &'static Site,
        location: &'static Location<'static>,
        live: Live<'_>,
        args: &A,
        inouts: &I,
    ) -> Result<Call, Failure> {
        let then = match context::mode() {
            ThreadMode::Off | ThreadMode::Assumed | ThreadMode::InCall => Then::Plain,
            ThreadMode::Record => match record_begin(
                site,
                args,
                inouts,
                site.foreign && !matches!(live, Live::Secret),
            ) {
                Ok(guard) => Then::Record(guard),
                Err(message) => return Err(Failure(Box::new(Why::CannotRecord(message)))),
            },
            ThreadMode::Replay => match replay_check(site, location, args, inouts, live)? {
                _ if matches!(live, Live::Secret) => Then::Secret,
                Checked::Recorded { open } => Then::Recorded(open),
                Checked::Live(recorded) => Then::Live(recorded, context::epoch()),
            },
            ThreadMode::Diverged => {
                let what = format!("`{}`", site.full_name());
                return Err(divergence::spent_report(&what, location).into());
            }
        };
        Ok(Call {
            site,
            location,
            then,
        })
    }

    /// Finishes the call: runs `real` (with the out-parameters, and which
    /// function to call) and records its results, or returns the recorded
    /// ones and writes the recorded out-parameters back.
    #[inline(always)]
    pub fn run<R, O, F>(self, outs: &mut O, real: F) -> Result<R, Failure>
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
            Then::Plain => Ok(real(outs, Run::Real)),
            Then::Record(guard) => {
                let ret = real(outs, Run::Real);
                // A callback panicked inside: the call is not recorded.
                resume_pending();
                match guard.end(site, &ret, outs) {
                    Ok(()) => Ok(ret),
                    Err(message) => Err(Failure(Box::new(Why::CannotRecord(message)))),
                }
            }
            Then::Recorded(open) => {
                // What the real function would have consumed is dropped
                // first: a handle given by value frees its slot before the
                // recorded result takes it. Still replaying: a boundary
                // call its `Drop` makes is checked against the recording,
                // never made for real with placeholder handles.
                //
                // A `Drop` that panics (the recorded call panicked then too,
                // dropping its arguments) waits for the call's recorded
                // ending to be read: the next call stays in step.
                //
                // Such a `Drop` may read the stream (a boundary call, a
                // lock), which moves the cursor past this call: its
                // results are held first. Only when something is dropped
                // (a constant test).
                let held = match std::mem::needs_drop::<F>() && !open {
                    true => Some(hold_results(location)?),
                    false => None,
                };
                // The scope only when something is dropped (a constant
                // test): the common call pays nothing for it.
                let dropped = match std::mem::needs_drop::<F>() {
                    true => {
                        let _dropping = Scope::enter(context::mode(), Phase::Dropping);
                        catch_unwind(AssertUnwindSafe(|| drop(real)))
                    }
                    false => {
                        drop(real);
                        Ok(())
                    }
                };
                let finished =
                    replay_finish(site, location, outs, open, held.as_deref()).map_err(|ending| {
                        match ending {
                            Ending::Diverged(divergence) => divergence.into(),
                            Ending::Panicked(message) => {
                                Failure(Box::new(Why::Panicked(site, message)))
                            }
                        }
                    });
                match dropped {
                    Ok(()) => finished,
                    Err(panic) => match finished {
                        Err(failure) if failure.is_divergence() => Err(failure),
                        _ => resume_unwind(panic),
                    },
                }
            }
            Then::Live(recorded, epoch) => {
                let ret = {
                    let _inside = inside();
                    real(outs, Run::StandIn)
                };
                resume_pending();
                // The call started or ended a session (it may): nothing of
                // this one to bind to.
                if context::epoch() != epoch {
                    return Ok(ret);
                }
                replay_bind(site, location, &recorded, &ret)?;
                ran(location)?;
                Ok(ret)
            }
            Then::Secret => unreachable!("a call with secret results is run by `run_secret`"),
        }
    }

    /// Finishes a call whose results are secret (`secret(return)`): runs
    /// `real`, in replay too; nothing of the results is recorded.
    #[inline]
    pub fn run_secret<R>(self, real: impl FnOnce(Run) -> R) -> Result<R, Failure> {
        match self.then {
            Then::Plain => Ok(real(Run::Real)),
            Then::Record(guard) => {
                let ret = real(Run::Real);
                resume_pending();
                match guard.end(self.site, &(), &()) {
                    Ok(()) => Ok(ret),
                    Err(message) => Err(Failure(Box::new(Why::CannotRecord(message)))),
                }
            }
            Then::Recorded(_) | Then::Live(..) | Then::Secret => {
                let epoch = context::epoch();
                let ret = {
                    let _inside = inside();
                    real(Run::StandIn)
                };
                resume_pending();
                if context::epoch() == epoch {
                    ran(self.location)?;
                }
                Ok(ret)
            }
        }
    }
}

/// Counts a replayed call that ran for real, once it has: its body saw
/// the same call number as when it was recorded.
fn ran(location: &'static Location<'static>) -> Result<(), Divergence> {
    context::try_replay(location, |cursor| {
        cursor.call_done();
        Ok(())
    })
}

/// Runs the rest of the scope unrecorded: for `#[assume_deterministic]`,
/// whose calls run for real in every mode. Inside a recorded call it stays
/// inside that call.
#[inline]
pub fn suspend() -> Suspended {
    let mode = match context::mode() {
        ThreadMode::InCall => ThreadMode::InCall,
        _ => ThreadMode::Assumed,
    };
    Suspended(Scope::enter(mode, Phase::Idle))
}

/// Puts the thread's mode back when dropped; see [`suspend`].
#[must_use]
pub struct Suspended(#[allow(dead_code)] Scope);

/// Inside a call that runs for real in replay: its own boundary calls go
/// straight through, as when it was recorded.
#[inline]
fn inside() -> Scope {
    Scope::enter(ThreadMode::InCall, Phase::Idle)
}
