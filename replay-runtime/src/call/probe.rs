//! Borrowing an argument with the richest renderers its type allows, by
//! autoref specialisation (as thiserror's `AsDisplay`): with the four
//! traits in scope, `(&&&&Probe(&value)).arg()` picks the first that
//! applies, from "decodes and prints" down to "neither".

use std::fmt::Debug;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::args::Arg;
use super::show::{Show, debug, decode_debug};

/// An argument on its way to becoming an [`Arg`]; see the module's docs.
pub struct Probe<'a, T: ?Sized>(pub &'a T);

// By hand: a derive would ask `T: Copy`. The fallback trait takes the
// probe by value through four references.
impl<T: ?Sized> Clone for Probe<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T: ?Sized> Copy for Probe<'_, T> {}

/// Sized values that decode and print: both sides are shown.
pub trait DebugDecode<'a, T: ?Sized> {
    /// The argument, with its renderers.
    fn arg(self) -> Arg<'a, T>
    where
        T: Serialize;
}
impl<'a, T: DeserializeOwned + Debug> DebugDecode<'a, T> for &&&Probe<'a, T> {
    fn arg(self) -> Arg<'a, T>
    where
        T: Serialize,
    {
        let show = Show {
            actual: Some(debug::<T>),
            recorded: Some(decode_debug::<T>),
        };
        Arg::new(self.0, show)
    }
}

/// Borrowed values (`str`, slices) whose owned form decodes and prints.
pub trait DebugDecodeOwned<'a, T: ?Sized> {
    /// The argument, with its renderers.
    fn arg(self) -> Arg<'a, T>
    where
        T: Serialize;
}
impl<'a, T: ?Sized + ToOwned + Debug> DebugDecodeOwned<'a, T> for &&Probe<'a, T>
where
    T::Owned: DeserializeOwned + Debug,
{
    fn arg(self) -> Arg<'a, T>
    where
        T: Serialize,
    {
        let show = Show {
            actual: Some(debug::<T>),
            recorded: Some(decode_debug::<T::Owned>),
        };
        Arg::new(self.0, show)
    }
}

/// Values that print but do not decode: the actual side is shown.
pub trait DebugOnly<'a, T: ?Sized> {
    /// The argument, with its renderers.
    fn arg(self) -> Arg<'a, T>
    where
        T: Serialize;
}
impl<'a, T: ?Sized + Debug> DebugOnly<'a, T> for &Probe<'a, T> {
    fn arg(self) -> Arg<'a, T>
    where
        T: Serialize,
    {
        let show = Show {
            actual: Some(debug::<T>),
            recorded: None,
        };
        Arg::new(self.0, show)
    }
}

/// Anything else: reports show encoded bytes.
pub trait Undisplayable<'a, T: ?Sized> {
    /// The argument, without renderers.
    fn arg(self) -> Arg<'a, T>
    where
        T: Serialize;
}
impl<'a, T: ?Sized> Undisplayable<'a, T> for Probe<'a, T> {
    fn arg(self) -> Arg<'a, T>
    where
        T: Serialize,
    {
        Arg::new(self.0, Show::none())
    }
}
