//! Renderers of argument values for divergence reports, chosen by what a
//! type can do (autoref specialisation, as thiserror's `AsDisplay`):
//! `(&&&&Probe::of(value)).show()` with the four traits in scope picks the
//! richest. Both sides are shown when the type decodes and prints.

use std::fmt::Debug;
use std::marker::PhantomData;

use serde::de::DeserializeOwned;

/// Renders argument values for divergence reports, when their types allow.
pub struct Show<T: ?Sized> {
    pub(super) actual: Option<fn(&T) -> String>,
    pub(super) recorded: Option<DecodeShow>,
}

/// Decodes a recorded value from the front of its bytes and renders it.
type DecodeShow = fn(&[u8]) -> Option<String>;

impl<T: ?Sized> Clone for Show<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T: ?Sized> Copy for Show<T> {}

/// Picks the richest [`Show`] a type allows: see the module's docs.
pub struct Probe<T: ?Sized>(PhantomData<T>);

impl<T: ?Sized> Probe<T> {
    /// A probe for the type of `value`.
    pub fn of(_value: &T) -> Self {
        Probe(PhantomData)
    }
}
impl<T: ?Sized> Clone for Probe<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T: ?Sized> Copy for Probe<T> {}

fn debug<T: Debug + ?Sized>(value: &T) -> String {
    format!("{value:?}")
}

fn decode_debug<T: DeserializeOwned + Debug>(bytes: &[u8]) -> Option<String> {
    postcard::take_from_bytes::<T>(bytes)
        .ok()
        .map(|(v, _)| format!("{v:?}"))
}

/// Sized values that decode and print: both sides are shown.
pub trait DebugDecode<T: ?Sized> {
    /// The renderers.
    fn show(self) -> Show<T>;
}
impl<T: DeserializeOwned + Debug> DebugDecode<T> for &&&Probe<T> {
    fn show(self) -> Show<T> {
        Show {
            actual: Some(debug::<T>),
            recorded: Some(decode_debug::<T>),
        }
    }
}

/// Borrowed values (`str`, slices) whose owned form decodes and prints.
pub trait DebugDecodeOwned<T: ?Sized> {
    /// The renderers.
    fn show(self) -> Show<T>;
}
impl<T: ?Sized + ToOwned + Debug> DebugDecodeOwned<T> for &&Probe<T>
where
    T::Owned: DeserializeOwned + Debug,
{
    fn show(self) -> Show<T> {
        Show {
            actual: Some(debug::<T>),
            recorded: Some(decode_debug::<T::Owned>),
        }
    }
}

/// Values that print but do not decode: the actual side is shown.
pub trait DebugOnly<T: ?Sized> {
    /// The renderers.
    fn show(self) -> Show<T>;
}
impl<T: ?Sized + Debug> DebugOnly<T> for &Probe<T> {
    fn show(self) -> Show<T> {
        Show {
            actual: Some(debug::<T>),
            recorded: None,
        }
    }
}

/// Anything else: reports show encoded bytes.
pub trait Undisplayable<T: ?Sized> {
    /// The renderers.
    fn show(self) -> Show<T>;
}
impl<T: ?Sized> Undisplayable<T> for Probe<T> {
    fn show(self) -> Show<T> {
        Show {
            actual: None,
            recorded: None,
        }
    }
}
