//! For `#[assume_deterministic]`: a call that runs for real in replay
//! cannot be given a handle that has no real value; it is skipped, saying so.

use std::fmt;

use super::mapped::{Mapped, debug};
use super::slots::Resolved;
use crate::context;

/// For `#[assume_deterministic]`: finds out whether an argument is a
/// `#[mapped]` handle with no real value (a replay placeholder), by
/// autoref specialisation: `(&&HandleCheck(value)).placeholder()` with
/// [`CheckMapped`] and [`CheckOther`] in scope.
pub struct HandleCheck<'a, T: ?Sized>(pub &'a T);

/// Handles: a placeholder is described.
pub trait CheckMapped {
    /// A description of the handle, if it is a placeholder.
    fn placeholder(&self) -> Option<String>;
}

impl<T: Mapped> CheckMapped for &HandleCheck<'_, T> {
    fn placeholder(&self) -> Option<String> {
        let raw = self.0.raw();
        let placeholder = context::with_handles(|h| {
            matches!(
                h.resolve(raw),
                Resolved::Placeholder { .. } | Resolved::Stale { .. }
            )
        });
        placeholder
            .unwrap_or(false)
            .then(|| format!("{:?}", DebugHandle(self.0)))
    }
}

/// Anything else is never a placeholder.
pub trait CheckOther {
    /// Always `None`.
    fn placeholder(&self) -> Option<String>;
}

impl<T: ?Sized> CheckOther for HandleCheck<'_, T> {
    fn placeholder(&self) -> Option<String> {
        None
    }
}

struct DebugHandle<'a, M>(&'a M);

impl<M: Mapped> fmt::Debug for DebugHandle<'_, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        debug(self.0, f)
    }
}

/// For `#[assume_deterministic]`: whether to skip the call because an
/// argument is a handle with no real value. Says so on standard error.
pub fn skip_assumed(
    function: &str,
    location: &std::panic::Location<'_>,
    placeholders: &[(&str, Option<String>)],
) -> bool {
    let Some((param, handle)) = placeholders
        .iter()
        .find_map(|(p, h)| Some((p, h.as_ref()?)))
    else {
        return false;
    };
    eprintln!(
        "replay: skipped `{function}` at {location}: its argument `{param}` is {handle}, \
         which has no real value in this replay"
    );
    true
}

/// For `#[assume_deterministic(pure)]`: a call that returns a value cannot
/// be skipped, so a handle argument with no real value stops it, saying
/// which and why.
#[track_caller]
pub fn needs_live(
    function: &str,
    location: &std::panic::Location<'_>,
    placeholders: &[(&str, Option<String>)],
) {
    if let Some((param, handle)) = placeholders
        .iter()
        .find_map(|(p, h)| Some((p, h.as_ref()?)))
    {
        panic!(
            "replay cannot run `{function}` at {location}: its argument `{param}` is \
             {handle}, which has no real value in this replay, and the function must \
             return a value\n\
             help: record the call with `#[deterministic]`, or declare the handle's file \
             live so that it has a real value"
        );
    }
}
