//! What a thread's context holds, as types: its mode, its phase, and the
//! handle notes of the call under way.

use std::collections::VecDeque;

/// What `#[deterministic]` calls made on this thread now do.
///
/// The three modes in which wrappers go straight through come first, so
/// that testing for them is one comparison.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum ThreadMode {
    /// No session: calls go straight through.
    Off = 0,
    /// Inside an `#[assume_deterministic]` function, outside any recorded
    /// call: it runs in every mode, so what it does (numbering identities,
    /// making contexts) happens alike in record and replay.
    Assumed = 1,
    /// Inside a recorded or replayed call: its own boundary calls are part
    /// of it and go straight through, and what it does happens only where
    /// the call really runs.
    InCall = 2,
    /// Recording.
    Record = 3,
    /// Replaying.
    Replay = 4,
    /// Replaying, after a divergence: calls panic again.
    Diverged = 5,
}

/// What the runtime is doing with values, as `#[mapped]` handles need to
/// know: arguments are looked up, results are registered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Not encoding or decoding a call.
    Idle,
    /// Encoding a call's arguments.
    Args,
    /// Encoding (record) or decoding (replay) a call's results.
    Results,
    /// Rendering values for a divergence report: no side effects.
    Display,
    /// Replay, before a call that runs for real: noting the recorded
    /// result's handles, in order.
    Collect,
    /// Replay, after a call that ran for real: binding the real result's
    /// handles to the noted ones.
    Bind,
    /// Replay, invoking a recorded callback: the callback runs its body.
    Invoking,
    /// Recording, inside the real call of a function of an extern block: a
    /// callback foreign code makes now is recorded nested in the call.
    Foreign,
    /// Replay, dropping what a call answered from the recording would have
    /// consumed: code its `Drop` runs ran inside the call when recorded.
    Dropping,
}

/// What encoding a replayed call's arguments (and binding its real
/// result) noted about handles: per thread, as calls are.
#[derive(Debug, Default)]
pub(crate) struct Notes {
    /// A stale or unknown handle, described.
    pub(crate) error: Option<String>,
    /// A handle with a real value: the call may run for real.
    pub(crate) real: bool,
    /// A placeholder, which has no real value.
    pub(crate) placeholder: bool,
    /// The recorded result's handles, while the result of a call run for real is bound.
    pub(crate) collected: VecDeque<(u32, u32)>,
}
