//! What a wrapper does with one call: the runtime half of
//! `#[deterministic]`.
//!
//! Generated code stays thin: it names a [`Site`](crate::site::Site),
//! borrows its arguments as [`Arg`]s and its out-parameters as [`Out`]s,
//! and calls [`record_begin`] / [`RecordGuard::end`] or [`replay_check`] /
//! [`replay_finish`]. The roles live apart: `args` (the values), `show`
//! (rendering them for reports), `record` and `replay`.

mod args;
mod record;
mod replay;
mod show;

use std::panic::Location;

pub use args::{Arg, Args, Out, OutRaw, OutRef, OutSlice, Outs, byte_len, count, written};
pub use record::{RecordGuard, record_begin};
pub use replay::{Checked, Live, replay_bind, replay_check, replay_finish};
pub use show::{DebugDecode, DebugDecodeOwned, DebugOnly, Probe, Show, Undisplayable};

use crate::context::{self, Phase, Scope, ThreadMode};

/// The thread's mode, for the generated `match`: one thread-local load.
/// Inside a call, wrappers go straight through, as without a session.
#[inline(always)]
pub fn mode() -> ThreadMode {
    match context::mode() {
        ThreadMode::InCall => ThreadMode::Off,
        mode => mode,
    }
}

/// For a wrapper called after this thread's replay diverged: see
/// `divergence::spent`.
#[cold]
pub fn after_divergence(
    site: &'static crate::site::Site,
    location: &'static Location<'static>,
) -> ! {
    crate::divergence::spent(&format!("`{}`", site.full_name()), location)
}

/// Runs `f` out of line: a wrapper's record and replay paths, kept apart so
/// that its off path is small enough to inline into the caller.
#[inline(never)]
#[cold]
pub fn outlined<R>(f: impl FnOnce() -> R) -> R {
    f()
}

/// Runs the rest of the scope inside an unrecorded call: for
/// `#[assume_deterministic]`, whose calls run for real in every mode.
#[inline]
pub fn suspend() -> Suspended {
    Suspended(Scope::enter(ThreadMode::InCall, Phase::Idle))
}

/// Puts the thread's mode back when dropped; see [`suspend`].
#[must_use]
pub struct Suspended(#[allow(dead_code)] Scope);
