//! Deterministic record and replay at the FFI boundary.
//!
//! Mark the functions through which nondeterminism enters the program (calls
//! into C, libc, the OS) with [`#[deterministic]`](deterministic). Run once
//! under a recording [`Session`], and everything that crossed the boundary is
//! written to one file. Run again under a replaying session, and every marked
//! call returns what it returned then, without touching the foreign side.
//!
//! ```
//! use replay_runtime::{deterministic, Session};
//!
//! #[deterministic]
//! fn now_nanos() -> u128 {
//!     std::time::SystemTime::now()
//!         .duration_since(std::time::UNIX_EPOCH)
//!         .unwrap()
//!         .as_nanos()
//! }
//!
//! # fn main() -> Result<(), replay_runtime::Error> {
//! let path = std::env::temp_dir().join(format!("doc-{}.replay", std::process::id()));
//!
//! let session = Session::record(&path)?;
//! let recorded = now_nanos();
//! session.finish()?;
//!
//! let session = Session::replay(&path)?;
//! assert_eq!(now_nanos(), recorded); // the clock is not consulted
//! session.finish()?;
//! # std::fs::remove_file(&path).ok();
//! # Ok(())
//! # }
//! ```
//!
//! Sessions are per thread; a thread without one runs every wrapper
//! straight through at the cost of one thread-local check. See the
//! repository's `docs/` for the guide, the file format and the figures.

#![warn(missing_docs)]

// Roughly bottom to top; the layers, file by file, are in docs/design.md,
// and `tests/layers.rs` fails on an import that goes up or on a cycle.
mod breaks;
mod call;
mod context;
mod cursor;
mod divergence;
mod error;
mod handles;
pub mod identity;
pub mod inspect;
mod panic_hook;
mod policy;
mod recording;
mod session;
mod shared;
mod site;
pub mod sync;
mod testing;
pub mod thread;

pub use call::{MAX_PATCH_NAME, Plain, deprecate_patch, patched};
pub use error::{Error, Result};
pub use handles::{Context, ContextPtr, Mapped, RawHandle};
pub use recording::Metadata;
pub use session::{Mode, Session, Summary, current_mode};

/// Records and replays the calls through a function, a method, or every
/// function of an `unsafe extern "C"` block.
///
/// In record mode the wrapper calls the real function and records its
/// arguments, its return value and its out-parameters (`&mut T` and
/// `&mut [T]`, before and after the call; raw buffers marked `#[out]`);
/// in replay mode it checks the arguments against the recording and
/// returns the recorded results without calling the function; with no
/// session it calls straight through.
///
/// ```
/// use replay_runtime::{Session, deterministic};
///
/// #[deterministic]
/// fn roll(sides: u32) -> u32 {
///     (std::time::SystemTime::now()
///         .duration_since(std::time::UNIX_EPOCH)
///         .unwrap()
///         .subsec_nanos() % sides) + 1
/// }
///
/// #[deterministic]
/// unsafe extern "C" {
///     safe fn getpid() -> i32;
///     fn rand() -> i32;
///     /// A raw output buffer of `count` bytes; the return value counts those written.
///     fn read(fd: i32, #[out(len = count, written = return)] buf: *mut u8, count: usize) -> isize;
/// }
///
/// # fn main() -> Result<(), replay_runtime::Error> {
/// # let path = std::env::temp_dir().join(format!("deterministic-doc-{}.replay", std::process::id()));
/// let session = Session::record(&path)?;
/// let rolled = (roll(6), getpid(), unsafe { rand() });
/// session.finish()?;
///
/// let session = Session::replay(&path)?;
/// assert_eq!((roll(6), getpid(), unsafe { rand() }), rolled);
/// session.finish()?;
/// # std::fs::remove_file(&path).ok();
/// # Ok(())
/// # }
/// ```
///
/// Arguments, all optional:
///
/// | argument | meaning |
/// |---|---|
/// | `replay_with = path::to::stand_in` | in replay, call this function (same parameters and return type) instead of returning recorded values; the call is still checked against the recording |
/// | `path = param` | `param` holds a file path: in replay the call runs for real when the path matches the session's live-file patterns ([`Session::with_live_files`]) |
/// | `secret(param, .., return)` | these parameters (and with `return`, the results) never reach the recording: secret parameters are not checked, and a call with secret results runs for real in replay too |
/// | `callback` | on an `extern "C" fn` that foreign code calls back: each call during a recorded foreign call is recorded nested in it, and replayed by invoking the function with the recorded arguments (see below) |
/// | `crate = path::to::replay_runtime` | where the runtime is, for crates that re-export it |
///
/// On a parameter of an extern function (or of a callback), what C does
/// with a pointer:
///
/// | attribute | meaning |
/// |---|---|
/// | none, on `*const c_char` | a C string (or null), recorded and checked |
/// | `#[input(len = n)]` | C reads `n` elements (of plain data, or C strings) |
/// | `#[input(null_terminated)]` | C reads C strings up to a null pointer |
/// | `#[out(len = n)]` | C writes `n` elements: plain data, `#[mapped]` handles (`T**`), or C strings (`char **`) |
/// | `#[out(len = n, written = return)]`, `written = *count` | as many as the return value, or what `count` points at after the call |
/// | `#[out(len = 1, points_into = p)]` | C writes a pointer into the memory of parameter `p` (SQLite's `pzTail`) |
/// | `#[inout(len = n)]` | C reads, then writes, `n` elements |
/// | `#[out]` alone, on a `&mut` | the call only writes it: its value before the call is not recorded |
///
/// A length is another parameter, `*count` (what a pointer parameter
/// points at before the call), or an integer. A `&Handle` of a `#[mapped]`
/// type passes C the raw handle; `-> *const c_char` returns a borrowed C
/// string and `-> *const T` one borrowed `T` of plain data (in replay, a
/// copy that lives as long as the process); a function pointer
/// (`Option<unsafe extern "C" fn(..)>`) is recorded as which callback it
/// is. `docs/guide.md` has a table from C patterns to declarations;
/// everything else is a compile error that says why.
///
/// ```
/// use std::ffi::{c_char, c_int};
///
/// use replay_runtime::{ContextPtr, deterministic};
///
/// // `qsort`'s comparator, replayed when a recorded sort is replayed.
/// #[deterministic(callback)]
/// extern "C" fn by_value(#[input(len = 1)] a: *const i32, #[input(len = 1)] b: *const i32) -> c_int {
///     // SAFETY: qsort passes two elements of the array.
///     unsafe { (*a).cmp(&*b) as c_int }
/// }
///
/// #[deterministic]
/// unsafe extern "C" {
///     fn atoi(s: *const c_char) -> c_int;
///     fn qsort(
///         #[inout(len = n)] base: *mut i32,
///         n: usize,
///         size: usize,
///         compar: Option<unsafe extern "C" fn(*const i32, *const i32) -> c_int>,
///     );
/// }
///
/// let mut values = [3, 1, 2];
/// // SAFETY: a C string; `values` holds `n` elements of `size` bytes.
/// unsafe {
///     assert_eq!(atoi(c"42".as_ptr()), 42);
///     qsort(values.as_mut_ptr(), 3, 4, Some(by_value));
/// }
/// assert_eq!(values, [1, 2, 3]);
/// # let _ = ContextPtr::null();
/// ```
#[cfg(feature = "macros")]
pub use replay_macros::deterministic;

/// Makes a struct wrapping one raw handle (a descriptor, a pointer) cross
/// recorded calls as a stable index in the object index map instead of its
/// raw value, which differs from run to run.
///
/// The attribute implements [`Mapped`], `Serialize`, `Deserialize`, `Debug`
/// (the slot, never the raw value) and `Drop` (frees the slot). In replay a
/// handle holds a placeholder that no OS or allocator hands out, and a
/// stale or unknown handle is a divergence, never a wrong object.
///
/// ```
/// use replay_runtime::{Session, deterministic, mapped};
///
/// #[mapped(drop = Fd::close)]
/// pub struct Fd(i32);
///
/// impl Fd {
///     /// Releases a real descriptor (never a replay placeholder).
///     fn close(&mut self) {
///         unsafe extern "C" { fn close(fd: i32) -> i32; }
///         unsafe { close(self.0) };
///     }
/// }
///
/// #[deterministic]
/// fn open_null() -> Option<Fd> {
///     unsafe extern "C" { fn open(path: *const std::ffi::c_char, flags: i32) -> i32; }
///     let fd = unsafe { open(c"/dev/null".as_ptr(), 0) };
///     (fd >= 0).then(|| Fd(fd))
/// }
///
/// # fn main() -> Result<(), replay_runtime::Error> {
/// # let path = std::env::temp_dir().join(format!("mapped-doc-{}.replay", std::process::id()));
/// let session = Session::record(&path)?;
/// let fd = open_null().expect("open /dev/null");
/// assert_eq!(format!("{fd:?}"), "Fd #0.0"); // its slot, not its number
/// drop(fd);
/// session.finish()?;
/// # std::fs::remove_file(&path).ok();
/// # Ok(())
/// # }
/// ```
///
/// Arguments, all optional: `drop = path::to::release` (a `fn(&mut Self)`
/// that releases a real handle's resources when it is dropped) and
/// `crate = path::to::replay_runtime`. The struct has exactly one field,
/// of a [`RawHandle`] type, and may not be generic, `Copy` or `Clone`.
/// See `docs/handles.md`.
#[cfg(feature = "macros")]
pub use replay_macros::mapped;

/// Makes a test's boundary calls recorded once, to
/// `tests/recordings/<module path>/<test name>.replay` beside the crate,
/// and replayed by every later run.
///
/// ```no_run
/// #[replay_runtime::test]
/// fn the_clock_reads_as_recorded() {
///     // ... #[deterministic] calls, replayed from the committed recording ...
/// }
///
/// #[replay_runtime::test(path = "tests/recordings/shared.replay")]
/// #[should_panic(expected = "out of range")]
/// fn a_recorded_failure() {
///     panic!("out of range");
/// }
/// ```
///
/// `REPLAY_MODE` chooses: `auto` (the default: replay the recording if it
/// exists, record it if not, never under `CI`), `record`, `replay` or
/// `off`. Arguments, all optional: `path = "relative/to/the/crate.replay"`
/// and `crate = path::to::replay_runtime`. `#[should_panic]` is honoured,
/// but a divergence never passes for the expected panic. See
/// `docs/testing.md`.
#[cfg(feature = "macros")]
pub use replay_macros::test;

/// Marks a function that runs for real in every mode and is never recorded
/// (logging, printing, a pure computation): adding or removing its calls
/// never voids a recording, and the boundary calls it makes are not
/// recorded either.
///
/// ```
/// use replay_runtime::assume_deterministic;
///
/// #[assume_deterministic]
/// fn log(line: &str) {
///     eprintln!("{line}");
/// }
///
/// log("runs in every mode");
/// ```
///
/// Nothing it produces may flow back into the program: it takes only
/// immutable inputs (no `&mut`, no raw pointers) and returns nothing,
/// unless `pure` asserts that its result depends on its arguments alone.
/// A pure function may return a value, and on an extern block it declares
/// pure foreign functions (`*const T` inputs allowed, `*mut` not):
///
/// ```
/// use std::ffi::c_char;
///
/// use replay_runtime::assume_deterministic;
///
/// #[assume_deterministic(pure)]
/// unsafe extern "C" {
///     fn strlen(s: *const c_char) -> usize;
/// }
///
/// #[assume_deterministic(pure)]
/// fn checksum(bytes: &[u8]) -> u32 {
///     bytes.iter().map(|&b| u32::from(b)).sum()
/// }
///
/// // SAFETY: a NUL-terminated string.
/// assert_eq!(unsafe { strlen(c"four".as_ptr()) }, 4);
/// assert_eq!(checksum(b"ab"), 195);
/// ```
///
/// A `#[mapped]` handle argument with no real value in replay (a
/// placeholder) makes a call that returns nothing be skipped, saying so on
/// standard error, and one that returns a value panic, saying why. The
/// arguments are `pure` and `crate = path::to::replay_runtime`.
#[cfg(feature = "macros")]
pub use replay_macros::assume_deterministic;

/// The contract between generated code and the runtime. Not public API:
/// nothing here is covered by semver. Its name carries the contract's
/// version: a macro crate and a runtime that disagree fail to compile
/// loudly, naming it, instead of misbehaving.
#[doc(hidden)]
pub mod __private_3 {
    pub use crate::call::{
        Arg, Args, ArrayIn, CStrIn, CStrRet, Call, DebugDecode, DebugDecodeOwned, DebugOnly,
        Failure, Live, Out, OutBuffer, OutCStrings, OutHandles, OutOffsets, OutProbe, OutRaw,
        OutRef, OutSlice, Outs, PlainRet, Probe, ReadPtr, Render, Run, Show, StringsIn, Suspended,
        Undisplayable, count, deref_count, done, outlined, passthrough, suspend, written,
    };
    pub use crate::call::{
        ArrayOwned, CStrOwned, Callback, CallbackIn, Registered, StringsOwned, array_extent,
        c_str_extent, callback, callback_passthrough, fn_address, invoking, show_return, take,
    };
    pub use crate::handles::Mapped;
    pub use crate::policy::as_path;
    pub use crate::site::Site;
    pub use crate::testing::{TestSession, run_panicking_test, run_test, test_session};
    pub use inventory;
    pub use serde;

    /// The autoref-specialisation traits a wrapper brings into scope with
    /// one glob import: how an argument is shown, and a receiver's slot.
    pub mod probes {
        pub use crate::call::{
            DebugDecode, DebugDecodeOwned, DebugOnly, OutBuffer, OutHandle, OutPlain, Undisplayable,
        };
        pub use crate::handles::mapped::{
            GiveAwayMapped, GiveAwayOther, ReceiverMapped, ReceiverOther,
        };
    }

    /// What `#[mapped]` and `#[assume_deterministic]` generate calls to.
    pub mod handles {
        pub use crate::handles::assume::{
            CheckMapped, CheckOther, HandleCheck, needs_live, skip_assumed,
        };
        pub use crate::handles::mapped::{
            GiveAway, Receiver, ReceiverMapped, ReceiverOther, ReceiverProbe, debug, deserialize,
            dropped, serialize,
        };
    }
}

/// Internals for this workspace's own tests and benchmarks. Not public
/// API: nothing here is covered by semver.
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod internals {
    pub use crate::handles::slots::HandleMap;
    pub use crate::testing::{
        TestSession, TestSettings, run_panicking_test, run_test, session_for,
    };
}

/// The README's example, compiled and run as a doctest so it stays true.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
