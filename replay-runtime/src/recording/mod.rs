//! The recording file: its format, the writer that stages events in memory
//! and writes them in checksummed chunks, and the reader that validates a
//! file before anything is replayed from it. `docs/format.md` describes the
//! bytes.

pub(crate) mod encode;
pub(crate) mod format;
pub(crate) mod reader;
pub(crate) mod writer;

pub use format::Metadata;
