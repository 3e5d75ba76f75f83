//! Matching the program's calls against the recorded ones: the next call
//! read in place when it is a plain call, its site checked by address once
//! matched, and its recorded arguments and results.

use std::panic::Location;

use super::{Cursor, Matched, Nested, Next, unreadable};
use crate::divergence::Divergence;
use crate::site::Site;

impl Cursor {
    /// Advances to the next recorded call, checking it is to `site`.
    #[inline(always)]
    pub(crate) fn next_call(
        &mut self,
        site: &'static Site,
        location: &'static Location<'static>,
    ) -> Result<Matched, Divergence> {
        // Most calls: a plain call, read in place.
        if self.run.is_none_or(|(_, left)| left == 0)
            && let Some(call) = self.reader.next_plain_call(self.sites.len())
        {
            self.current = call.site;
            self.open = false;
            self.take_number();
            self.args_at = Some(call.args);
            self.rest_at = Some(call.rest);
            return self.call_to(site, location, call.digested);
        }
        self.next_call_slow(site, location)
    }

    /// Checks that the current recorded call is to `site`: by address
    /// once a site has matched, by name the first time.
    #[inline(always)]
    fn call_to(
        &mut self,
        site: &'static Site,
        location: &'static Location<'static>,
        digested: bool,
    ) -> Result<Matched, Divergence> {
        let matched = Matched {
            digested,
            open: self.open,
        };
        let address = site as *const Site as usize;
        let recorded = &mut self.sites[self.current];
        if recorded.matched == address {
            return Ok(matched);
        }
        if recorded.name == site.full_name() {
            recorded.matched = address;
            return Ok(matched);
        }
        let mut report = self.call_report(site, location, "another function was called".into());
        if let Some(patch) = self.current_patch(digested) {
            report.notes.push(Cursor::patch_note(&patch));
        }
        Err(self.diverge(report))
    }

    /// [`Cursor::next_call`] for any event.
    #[inline(never)]
    fn next_call_slow(
        &mut self,
        site: &'static Site,
        location: &'static Location<'static>,
    ) -> Result<Matched, Divergence> {
        let next = match self.pending_receives() {
            Some(pending) => Err(pending),
            None => Ok(self.advance()),
        };
        let (summary, expected) = match next {
            Err(pending) => pending,
            Ok(Ok(Next::Call(digested))) => return self.call_to(site, location, digested),
            Ok(Ok(Next::Thread(event))) => (
                "the program called a function where threads met".to_owned(),
                event.to_string(),
            ),
            Ok(Ok(Next::Nested(nested))) => (
                match nested {
                    Nested::Returned(_) => "the program called a function inside a callback \
                                            that returned there when recorded"
                        .to_owned(),
                    _ => "the program called a function where the recording has a \
                          callback's event"
                        .to_owned(),
                },
                self.describe(&nested),
            ),
            Ok(Ok(Next::End)) => (
                "the recording is exhausted".to_owned(),
                format!("no more calls (the recording holds {})", self.total),
            ),
            Ok(Err(e)) => unreadable(&e),
        };
        let mut notes = Vec::new();
        if !self.ended {
            notes.push(
                "note: the recording has no end marker: the recording program stopped \
                 before finishing its session (it crashed or was killed), so the \
                 recording may stop short of where this run goes"
                    .to_owned(),
            );
        }
        let actual = format!("a call to `{}`", site.full_name());
        Err(self.diverged(summary, expected, actual, notes, location))
    }

    /// The current recorded call's argument blob (without its length).
    #[inline(always)]
    pub(crate) fn recorded_args(&self) -> &[u8] {
        match &self.args_at {
            Some(range) => self.reader.bytes(range.clone()),
            None => &self.recorded_args,
        }
    }

    /// The current recorded call's results: the return value, then the
    /// out-parameters.
    #[inline(always)]
    pub(crate) fn recorded_results(&self) -> &[u8] {
        match &self.rest_at {
            Some(range) => self.reader.bytes(range.clone()),
            None => &self.recorded_rest,
        }
    }
}
