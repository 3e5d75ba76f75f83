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

// Bottom to top: each module imports only those listed before it (see
// docs/design.md; `.ci/check-layers` enforces it).
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

pub use error::{Error, Result};
pub use handles::{Context, ContextPtr, Mapped, RawHandle};
pub use recording::Metadata;
pub use session::{Mode, Session, Summary, current_mode};

/// Records and replays calls through a function, or through every function
/// of an `unsafe extern "C"` block.
///
/// See the crate documentation and `docs/guide.md`.
#[cfg(feature = "macros")]
pub use replay_macros::deterministic;

/// Makes a struct wrapping a raw handle (a descriptor, a pointer) cross
/// recorded calls as a stable index instead of its raw value.
///
/// See [`Mapped`] and `docs/handles.md`.
#[cfg(feature = "macros")]
pub use replay_macros::mapped;

/// Makes a test's boundary calls recorded once, to
/// `tests/recordings/<module path>/<test name>.replay` beside the crate,
/// and replayed by every later run. See `docs/testing.md`.
#[cfg(feature = "macros")]
pub use replay_macros::test;

/// Marks a function that runs for real in every mode and is never recorded
/// (logging, printing): adding or removing its calls never voids a recording.
#[cfg(feature = "macros")]
pub use replay_macros::assume_deterministic;

/// The contract between generated code and the runtime. Not public API:
/// nothing here is covered by semver.
#[doc(hidden)]
pub mod __private {
    pub use crate::call::{
        Arg, Args, Checked, Live, Out, OutRaw, OutRef, OutSlice, Outs, Probe, RecordGuard, Show,
        Suspended, after_divergence, byte_len, count, mode, outlined, record_begin, replay_bind,
        replay_check, replay_finish, suspend, written,
    };
    // The renderers' traits, under the names generated code uses.
    pub use crate::call::{
        DebugDecode as ShowOwned, DebugDecodeOwned as ShowBorrowed, DebugOnly as ShowActual,
        Undisplayable as ShowBytes,
    };
    pub use crate::context::ThreadMode;
    pub use crate::policy::as_path;
    pub use crate::recording::encode::EncodeError;
    pub use crate::site::Site;
    pub use crate::testing::{
        TestSession, TestSettings, run_panicking_test, run_test, session_for, test_session,
    };
    pub use serde;

    /// The object index map and what `#[mapped]` generates calls to.
    pub mod handles {
        pub use crate::handles::assume::{CheckMapped, CheckOther, HandleCheck, skip_assumed};
        pub use crate::handles::mapped::{
            Receiver, ReceiverMapped, ReceiverOther, ReceiverProbe, debug, deserialize, dropped,
            serialize,
        };
        pub use crate::handles::slots::HandleMap;
    }
}

/// The README's example, compiled and run as a doctest so it stays true.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
