//! The object index map: raw handles cross the boundary as stable indices.
//!
//! A `#[mapped]` struct wraps a raw handle (a descriptor, a pointer). Its
//! raw value never enters a recording: when a recorded call returns one, it
//! takes the lowest free slot of the object index vector, and the index and
//! the slot's generation are recorded instead. Passing the handle back
//! records the same index; dropping it frees the slot, and the next handle
//! to take the slot gets the next generation, so a stale handle is caught
//! instead of resolving to a newer object.
//!
//! In replay no real handle exists: the struct holds a placeholder raw
//! value that encodes the index and generation ([`RawHandle::virtual_handle`]),
//! never a value the OS or an allocator would hand out.
//!
//! `slots` is the allocator, pure bookkeeping; `mapped`, `context_ptr` and
//! `assume` are the glue that `#[mapped]`, `Context` and
//! `#[assume_deterministic]` need, which consult the thread context.

pub(crate) mod assume;
pub(crate) mod context_ptr;
pub(crate) mod mapped;
pub(crate) mod raw;
pub(crate) mod slots;

pub use context_ptr::{Context, ContextPtr};
pub use mapped::Mapped;
pub use raw::RawHandle;
