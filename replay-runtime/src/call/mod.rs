//! What a wrapper does with one call: the runtime half of
//! `#[deterministic]`.
//!
//! Generated code stays thin: it names a [`Site`](crate::site::Site),
//! borrows its arguments as [`Arg`]s for [`Call::begin`], and hands its
//! out-parameters (as [`Out`]s) and the real function to [`Call::run`].
//! The roles live apart: `entry` (those two), `args` (the values),
//! `c_values` and `out_raw` (values C passes as pointers), `show` and
//! `probe` (rendering them for reports), `record` and `replay`,
//! `callback` with `rebuild` (foreign code calling back into Rust), and
//! `patch` (versioning markers).

mod args;
mod c_values;
mod callback;
mod compare;
mod entry;
mod out_pointers;
mod out_raw;
mod patch;
mod plain;
mod probe;
mod rebuild;
mod record;
mod replay;
mod show;
mod stop;

pub use args::{Arg, Args, Out, OutRef, OutSlice, Outs};
pub use c_values::{ArrayIn, CStrIn, CStrRet, PlainRet, ReadPtr, StringsIn, deref_count};
pub use callback::{
    Callback, CallbackIn, Registered, callback, callback_passthrough, fn_address, invoking,
    show_return,
};
pub use entry::{Call, Failure, Run, Suspended, done, outlined, passthrough, suspend};
pub use out_pointers::{OutCStrings, OutOffsets, array_extent, c_str_extent};
pub use out_raw::{OutBuffer, OutHandle, OutHandles, OutPlain, OutProbe, OutRaw, count, written};
pub use patch::{MAX_PATCH_NAME, deprecate_patch, patched};
pub use plain::Plain;
pub use probe::{DebugDecode, DebugDecodeOwned, DebugOnly, Probe, Undisplayable};
pub use rebuild::{ArrayOwned, CStrOwned, StringsOwned, take};
pub use replay::Live;
pub use show::{Render, Show};
