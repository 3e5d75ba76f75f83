//! Versioning: [`patched`] lets code that changed on purpose replay the
//! recordings made before the change. A recording run leaves a marker (a
//! call to `replay_runtime::patched` with the patch's name) where the code
//! first asks on a thread; a replay finds it there, or finds the older
//! recording's next event, and answers accordingly.

use std::panic::Location;

use super::args::Arg;
use super::entry::{Call, done, outlined, passthrough};
use super::replay::Live;
use super::show::{Show, debug, decode_debug};
use super::stop::stop;
use crate::context::{self, Phase, ThreadMode};
use crate::divergence;
use crate::recording::format;
use crate::site::{PATCH_NAME, Site};

/// The site markers are recorded as calls to.
static PATCH: Site = Site::new(PATCH_NAME, "fn(&str)", &[(1, "name")]);

/// The longest patch name, in bytes.
pub const MAX_PATCH_NAME: usize = 256;

/// Whether this run takes the code path of the patch `name`: `true` when
/// recording (the recording then holds a marker for it) and without a
/// session; when replaying, whether the recording was made with the patch.
///
/// A deliberate change to the boundary calls (a new call, one removed, a
/// different argument) makes every recording made before it diverge. Put
/// the new code under `patched`, keep the old code in the other branch,
/// and old and new recordings both replay:
///
/// ```no_run
/// # fn fetch(_: &str) {}
/// # fn fetch_with_retry(_: &str) {}
/// # let url = "";
/// if replay_runtime::patched("fetch-with-retry") {
///     fetch_with_retry(url)
/// } else {
///     fetch(url)
/// }
/// ```
///
/// The first question on a thread decides for the rest of the session on
/// that thread, and only it leaves a marker: a loop asking each time costs
/// one marker. A replay that answers `false` notes that its recording
/// predates the patch ([`Summary::predates`](crate::Summary::predates),
/// and `#[replay_runtime::test]` says so). Once no recording made before
/// the patch is left, drop the old branch and replace `patched` with
/// [`deprecate_patch`].
///
/// Without a session (and inside a recorded call, whose body replay does
/// not run) it is `true` at the cost of one thread-local check.
///
/// A name is at most [`MAX_PATCH_NAME`] bytes: a marker keeps it whole,
/// for `replay stats` and reports.
///
/// # Panics
///
/// Like a `#[deterministic]` call: when replay cannot go on (a thread that
/// already diverged, a recording changed under it). With a session, when
/// `name` is longer than [`MAX_PATCH_NAME`].
#[inline]
#[track_caller]
pub fn patched(name: &str) -> bool {
    if passthrough() {
        return true;
    }
    let location = Location::caller();
    outlined(|| ask(name, location))
}

/// Retires the patch `name`: the program no longer asks [`patched`], and
/// replaying a recording made with it passes over its marker. New
/// recordings hold no marker for it. Without a session it does nothing.
/// A [`patched`] of the same name later on the thread answers `true`.
///
/// ```no_run
/// # fn fetch_with_retry(_: &str) {}
/// # let url = "";
/// replay_runtime::deprecate_patch("fetch-with-retry");
/// fetch_with_retry(url)
/// ```
///
/// # Panics
///
/// As [`patched`].
#[inline]
#[track_caller]
pub fn deprecate_patch(name: &str) {
    if passthrough() {
        return;
    }
    let location = Location::caller();
    outlined(|| {
        if !matches!(context::mode(), ThreadMode::Record | ThreadMode::Replay)
            || context::phase() == Phase::Dropping
            || context::patch_answer(name).is_some()
        {
            return;
        }
        check_name(name);
        if context::mode() == ThreadMode::Replay {
            find_marker(name, location);
        }
        // The new path is the only one: a `patched` of it later on this
        // thread takes it, marker or not, in both modes.
        context::remember_patch(name, true);
    })
}

/// Refuses a name longer than [`MAX_PATCH_NAME`].
#[track_caller]
fn check_name(name: &str) {
    assert!(
        name.len() <= MAX_PATCH_NAME,
        "a patch name is at most {MAX_PATCH_NAME} bytes; this one has {}: {:?}..",
        name.len(),
        name.chars().take(40).collect::<String>()
    );
}

/// [`patched`] with a session: the thread's first question records or
/// looks for the marker; later ones get the same answer.
fn ask(name: &str, location: &'static Location<'static>) -> bool {
    // In a `Drop` replay runs for a call answered from the recording: it
    // ran inside the call when recorded, where the answer was `true`.
    if context::phase() == Phase::Dropping {
        return true;
    }
    if let Some(answer) = context::patch_answer(name) {
        return answer;
    }
    check_name(name);
    let answer = match context::mode() {
        ThreadMode::Record => {
            record_marker(name, location);
            true
        }
        ThreadMode::Replay => {
            let found = find_marker(name, location);
            if !found {
                context::with_shared(|shared| shared.note_predated(name));
            }
            found
        }
        ThreadMode::Diverged => {
            let what = format!("`replay_runtime::patched({name:?})`");
            divergence::raise(divergence::spent_report(&what, location))
        }
        ThreadMode::Off | ThreadMode::Assumed | ThreadMode::InCall => return true,
    };
    context::remember_patch(name, answer);
    answer
}

/// The patch's name as a call's argument.
fn marker_args(name: &str) -> (Arg<'_, str>,) {
    let show = Show {
        actual: Some(debug::<str>),
        recorded: Some(decode_debug::<String>),
    };
    (Arg::new(name, show),)
}

/// Records the marker of `name`: a call to [`PATCH`].
fn record_marker(name: &str, location: &'static Location<'static>) {
    let args = marker_args(name);
    let call = Call::begin(&PATCH, location, Live::IfHandles, &args, &());
    done(call.and_then(|call| call.run(&mut (), |_, _| ())));
}

/// Takes the marker of `name` if it is this thread's next recorded event:
/// whether it was.
fn find_marker(name: &str, location: &'static Location<'static>) -> bool {
    let mut encoded = Vec::new();
    let digested = match format::put_bare_args(&mut encoded, &marker_args(name)) {
        Ok(digested) => digested,
        // A `str` always encodes.
        Err(_) => return false,
    };
    let found = context::try_replay(location, |cursor| {
        cursor.take_patch(&encoded, digested, location)
    });
    match found {
        Ok((found, None)) => found,
        Ok((found, Some(call))) => {
            stop(
                &PATCH,
                location,
                context::thread_stream(),
                call,
                &marker_args(name),
            );
            found
        }
        Err(divergence) => divergence::raise(divergence),
    }
}
