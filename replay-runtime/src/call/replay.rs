//! A replayed call: checked against the next recorded one, then answered
//! from the recording, or run for real and its handles bound.

use std::panic::Location;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::args::{Args, Both, Outs};
use super::callback::replay_inside;
use super::compare::compare_args;
use super::stop::stop;
use crate::context::{self, Phase, Scope, ThreadMode};
use crate::divergence::Divergence;
use crate::recording::encode::encode;
use crate::recording::format;
use crate::site::Site;

/// How a replayed call goes on once [`replay_check`] has matched it.
#[must_use]
pub(crate) enum Checked {
    /// From the recording: [`replay_finish`] returns the recorded results;
    /// `open` when foreign code called back during it.
    Recorded { open: bool },
    /// For real (a live file, a handle with a real value, a stand-in): the
    /// wrapper calls the function, then [`replay_bind`] binds the handles
    /// it returns to the recorded results, given here.
    Live(Vec<u8>),
}

/// When a replayed call runs for real instead of from the recording.
#[derive(Clone, Copy)]
pub enum Live<'a> {
    /// Only if its arguments hold a handle with a real value.
    IfHandles,
    /// Also if this path matches the session's live-file patterns.
    IfPath(&'a std::path::Path),
    /// Always: `#[deterministic(replay_with = ..)]` calls its stand-in.
    Always,
    /// Always, and the results are not recorded: `secret(return)`.
    Secret,
}

/// Replays a call, first half: checks it against the next recorded one
/// (panicking with a report beginning `replay diverged` when it does not
/// match) and says whether it runs for real.
#[inline]
pub(crate) fn replay_check<A: Args, I: Args>(
    site: &'static Site,
    location: &'static Location<'static>,
    args: &A,
    inouts: &I,
    live: Live<'_>,
) -> Result<Checked, Divergence> {
    context::try_replay(location, |cursor| {
        if let Some(call) = cursor.stops_here() {
            stop(site, location, cursor.thread(), call, args);
        }
        // Forget what an earlier call, cut short by a panic, may have noted.
        let _ = context::take_notes();
        // Encoded before the recorded call is taken: a `Serialize` that
        // panics here panicked when recording too, before its event.
        let mine_digested = {
            let _args = Scope::enter(ThreadMode::InCall, Phase::Args);
            cursor.scratch.clear();
            match I::COUNT > 0 && cursor.records_inouts() {
                true => format::put_bare_args(&mut cursor.scratch, &Both(args, inouts)),
                false => format::put_bare_args(&mut cursor.scratch, args),
            }
        };
        let matched = cursor.next_call(site, location)?;
        let digested = matched.digested;
        let notes = context::take_notes();
        if let Some(why) = notes.error {
            let summary = format!(
                "a handle passed to `{}` is not valid here: {why}",
                site.full_name()
            );
            return Err(cursor.diverged_at(site, location, summary));
        }
        let mine_digested = match mine_digested {
            Ok(digested) => digested,
            Err(e) => {
                let summary = format!(
                    "the arguments of `{}` cannot be encoded: {e}",
                    site.full_name()
                );
                return Err(cursor.diverged_at(site, location, summary));
            }
        };
        let mine = &cursor.scratch[..];
        if digested != mine_digested || !format::same_bytes(mine, cursor.recorded_args()) {
            let report = {
                let _display = Scope::enter(ThreadMode::InCall, Phase::Display);
                match cursor.records_inouts() {
                    true => compare_args(&Both(args, inouts), digested, cursor.recorded_args()),
                    false => compare_args(args, digested, cursor.recorded_args()),
                }
            };
            return Err(cursor.diverged_on_args(site, location, report));
        }
        // A placeholder argument has no real value to give a real call.
        let real = match live {
            Live::IfHandles => notes.real && !notes.placeholder,
            Live::IfPath(path) => (notes.real || context::is_live_path(path)) && !notes.placeholder,
            Live::Always | Live::Secret => true,
        };
        if real {
            // Its callbacks run for real too: what they did when recorded
            // is passed over, up to its results.
            if matched.open {
                cursor.skip_inside(site, location)?;
            }
            // Counted once it has run (and its results are bound), so that
            // its body sees the same call number as when recording.
            return Ok(Checked::Live(cursor.recorded_results().to_vec()));
        }
        Ok(Checked::Recorded { open: matched.open })
    })
}

/// Replays a call, second half: invokes the callbacks foreign code made
/// during it (`open`), then returns the recorded result (or the `held`
/// copy of the results) and writes the recorded out-parameters back.
#[inline]
pub(crate) fn replay_finish<R: DeserializeOwned, O: Outs>(
    site: &'static Site,
    location: &'static Location<'static>,
    outs: &mut O,
    open: bool,
    held: Option<&[u8]>,
) -> Result<R, Ending> {
    if open && let Some(message) = replay_inside(site, location)? {
        return Err(Ending::Panicked(message));
    }
    Ok(context::try_replay(location, |cursor| {
        let decoded = {
            let _results = Scope::enter(ThreadMode::InCall, Phase::Results);
            decode_results::<R, O>(held.unwrap_or(cursor.recorded_results()), outs)
        };
        match decoded {
            Ok(ret) => {
                cursor.call_done();
                Ok(ret)
            }
            Err(why) => {
                // A handle's own reason, which the decoder's error may lose.
                let why = context::take_notes().error.unwrap_or(why);
                Err(cursor.diverged_at(site, location, results_do_not_fit(site, &why)))
            }
        }
    })?)
}

/// A copy of the current call's recorded results, for a caller that will
/// read the stream before decoding them.
pub(crate) fn hold_results(location: &'static Location<'static>) -> Result<Vec<u8>, Divergence> {
    context::try_replay(location, |cursor| Ok(cursor.recorded_results().to_vec()))
}

/// Why a replayed call returns no results.
pub(crate) enum Ending {
    Diverged(Divergence),
    /// The call panicked with this message when recorded.
    Panicked(String),
}

impl From<Divergence> for Ending {
    fn from(divergence: Divergence) -> Self {
        Ending::Diverged(divergence)
    }
}

/// After a replayed call ran for real: binds each handle in its real
/// result to the handle the recorded result holds in the same place, so
/// that later calls on it resolve to the real value.
pub(crate) fn replay_bind<R: Serialize + DeserializeOwned>(
    site: &'static Site,
    location: &'static Location<'static>,
    recorded: &[u8],
    real: &R,
) -> Result<(), Divergence> {
    context::with_notes(|n| n.collected.clear());
    let noted = {
        let _collect = Scope::enter(ThreadMode::InCall, Phase::Collect);
        // Decoded only to note its handles; dropping it frees nothing.
        postcard::take_from_bytes::<R>(recorded).map(drop)
    };
    let bound = {
        let _bind = Scope::enter(ThreadMode::InCall, Phase::Bind);
        encode(real, &mut Vec::new())
    };
    let why = match (noted, bound) {
        (Ok(()), Ok(())) => return Ok(()),
        (Err(e), _) => format!(
            "the recorded result cannot be read as `{}`: {e}",
            std::any::type_name::<R>()
        ),
        (_, Err(e)) => format!("the real result's handles do not match the recorded ones: {e}"),
    };
    context::try_replay(location, |cursor| {
        Err(cursor.diverged_at(site, location, results_do_not_fit(site, &why)))
    })
}

fn results_do_not_fit(site: &Site, why: &str) -> String {
    format!("the results of `{}` do not fit: {why}", site.full_name())
}

/// Decodes a recorded call's result and writes its out-parameters back.
#[inline]
fn decode_results<R: DeserializeOwned, O: Outs>(
    recorded: &[u8],
    outs: &mut O,
) -> Result<R, String> {
    let (ret, mut rest) = postcard::take_from_bytes::<R>(recorded).map_err(|e| {
        format!(
            "the recorded result cannot be read as `{}`: {e}",
            std::any::type_name::<R>()
        )
    })?;
    outs.decode(&mut rest)?;
    Ok(ret)
}
