//! Patch markers: `patched(name)` asks whether the next recorded event on
//! this thread is the marker a recording run left for `name`. A recording
//! made before the patch has something else there, which stays unread.

use std::panic::Location;

use super::{Cursor, RecordedSite, unreadable};
use crate::divergence::Divergence;
use crate::recording::event::Event;
use crate::site::PATCH_NAME;

impl Cursor {
    /// Takes the marker of the patch whose encoded name is `args` if it is
    /// the next event: whether it was there, and its call number when
    /// `REPLAY_BREAK` stops there (see [`Cursor::stops_here`]).
    pub(crate) fn take_patch(
        &mut self,
        args: &[u8],
        digested: bool,
        location: &'static Location<'static>,
    ) -> Result<(bool, Option<u64>), Divergence> {
        // Receives are due: a marker cannot come before they are made.
        if self.pending_receives().is_some() {
            return Ok((false, None));
        }
        loop {
            let peeked = match self.reader.peek_event() {
                Ok(peeked) => peeked,
                Err(e) => {
                    let (summary, expected) = unreadable(&e);
                    let actual = "a question for a patch marker".to_owned();
                    return Err(self.diverged(summary, expected, actual, Vec::new(), location));
                }
            };
            let (marker, end) = match peeked {
                Some((
                    Event::Define {
                        name, signature, ..
                    },
                    end,
                )) => {
                    // A definition only names a site: learnt, and read on.
                    let site = RecordedSite {
                        name: name.to_owned(),
                        signature: signature.to_owned(),
                        matched: 0,
                    };
                    self.sites.push(site);
                    self.reader.skip_to(end);
                    continue;
                }
                Some((
                    Event::Call {
                        site,
                        digested: recorded_digested,
                        args: recorded,
                        ..
                    },
                    end,
                )) => (
                    self.sites
                        .get(site as usize)
                        .is_some_and(|s| s.name == PATCH_NAME)
                        && recorded_digested == digested
                        && recorded == args,
                    end,
                ),
                _ => return Ok((false, None)),
            };
            if !marker {
                return Ok((false, None));
            }
            self.reader.skip_to(end);
            self.args_at = None;
            self.rest_at = None;
            let stop = self.stops_here();
            self.take_number();
            self.calls += 1;
            return Ok((true, stop));
        }
    }

    /// The name of the patch whose marker is the current recorded call,
    /// if it is one (and its name is stored, not `digested`).
    pub(super) fn current_patch(&self, digested: bool) -> Option<String> {
        if digested || self.sites.get(self.current)?.name != PATCH_NAME {
            return None;
        }
        match postcard::take_from_bytes::<String>(self.recorded_args()) {
            Ok((name, [])) => Some(name),
            _ => None,
        }
    }

    /// A note for a report on a program that does something else where
    /// the recording has a patch marker.
    pub(super) fn patch_note(name: &str) -> String {
        format!(
            "note: the recording has a patch marker here: it was made by code that asked \
             `replay_runtime::patched({name:?})` at this point, and this program does not \
             ask; if the old path was removed on purpose, \
             `replay_runtime::deprecate_patch({name:?})` here replays such recordings"
        )
    }
}
