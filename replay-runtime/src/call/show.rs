//! Renderers of argument values for divergence reports: both sides (the
//! recorded value and the actual one) are shown when the type decodes and
//! prints. `probe.rs` picks them by what the type can do.

use std::fmt::Debug;

use serde::de::DeserializeOwned;

/// Renders argument values for divergence reports, when their types allow.
pub struct Show<T: ?Sized> {
    pub(super) actual: Option<fn(&T) -> String>,
    pub(super) recorded: Option<DecodeShow>,
}

/// Decodes a recorded value from the front of its bytes and renders it.
type DecodeShow = fn(&[u8]) -> Option<String>;

impl<T: ?Sized> Show<T> {
    /// No renderers: the report shows encoded bytes.
    pub const fn none() -> Self {
        Show {
            actual: None,
            recorded: None,
        }
    }
}

impl<T: ?Sized> Clone for Show<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T: ?Sized> Copy for Show<T> {}

/// A value that renders itself for reports: the actual value, and the
/// recorded one from its bytes. For the values C passes as pointers,
/// whose recorded form is not their own type.
pub trait Render {
    /// The actual value, as a report shows it.
    fn actual(&self) -> String;
    /// The recorded value at the front of `bytes`, as a report shows it.
    fn recorded(bytes: &[u8]) -> Option<String>;
}

impl<T: Render> Show<T> {
    /// The renderers of a [`Render`] type.
    pub fn rendered() -> Self {
        Show {
            actual: Some(T::actual),
            recorded: Some(T::recorded),
        }
    }
}

pub(super) fn debug<T: Debug + ?Sized>(value: &T) -> String {
    format!("{value:?}")
}

pub(super) fn decode_debug<T: DeserializeOwned + Debug>(bytes: &[u8]) -> Option<String> {
    postcard::take_from_bytes::<T>(bytes)
        .ok()
        .map(|(v, _)| format!("{v:?}"))
}

/// An array's bytes for a report: its length and up to 32 of them in hex.
pub(super) fn show_bytes(bytes: &[u8]) -> String {
    let shown: String = bytes.iter().take(32).map(|b| format!("{b:02x}")).collect();
    let more = if bytes.len() > 32 { ".." } else { "" };
    format!("{} byte(s): {shown}{more}", bytes.len())
}
