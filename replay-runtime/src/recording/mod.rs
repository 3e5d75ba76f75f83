//! The recording file: its format, the writer that stages events in memory
//! and writes them in checksummed chunks, and the reader that validates a
//! file before anything is replayed from it. `docs/format.md` describes the
//! bytes.

mod compress;
pub(crate) mod encode;
pub(crate) mod event;
pub(crate) mod format;
mod header;
mod nesting;
mod publish;
pub(crate) mod reader;
pub(crate) mod salvage;
pub(crate) mod sink;
mod spool;
pub(crate) mod stream;
mod varint;
pub(crate) mod writer;

pub use format::Metadata;

/// A name from a file, safe to print: control characters escaped, and
/// anything past 256 characters left out (a hostile file's names may be
/// huge).
pub fn printable(name: &str) -> std::borrow::Cow<'_, str> {
    const LONGEST: usize = 256;
    let long = name.len() > LONGEST;
    if !long && !name.chars().any(char::is_control) {
        return name.into();
    }
    let mut shown: String = name
        .chars()
        .take(LONGEST)
        .flat_map(char::escape_debug)
        .collect();
    if long {
        shown.push_str(&format!("… ({} bytes)", name.len()));
    }
    shown.into()
}
