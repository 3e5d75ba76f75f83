//! Replaying what happened inside a call whose foreign function called
//! back into Rust: each callback in turn (the call glue invokes it), its
//! return value checked, then the call's results. Also a callback foreign
//! code invoked outside any recorded call.

use std::panic::Location;

use super::{Cursor, Inside, Nested, Next, unreadable};
use crate::divergence::Divergence;
use crate::site::Site;

impl Cursor {
    /// Describes a nested event for a report.
    pub(super) fn describe(&self, nested: &Nested) -> String {
        match nested {
            Nested::Callback { site, .. } => {
                format!("a call of the callback `{}`", self.sites[*site].name)
            }
            Nested::Returned(_) => "a callback's return".to_owned(),
            Nested::Closed => {
                "the return of a call that foreign code called back during".to_owned()
            }
            Nested::Panicked(message) => format!(
                "a panic of the call to `{}`: {}",
                self.sites[self.current].name,
                crate::recording::printable(message)
            ),
        }
    }

    /// Inside the open call to `site` (just matched): the next callback
    /// foreign code made, or the call's end.
    pub(crate) fn next_inside(
        &mut self,
        site: &'static Site,
        location: &'static Location<'static>,
    ) -> Result<Inside, Divergence> {
        let (summary, expected) = match self.advance() {
            Ok(Next::Nested(Nested::Callback { site, args })) => {
                let name = self.sites[site].name.clone();
                return Ok(Inside::Callback { name, args });
            }
            Ok(Next::Nested(Nested::Closed)) => return Ok(Inside::Closed),
            Ok(Next::Nested(Nested::Panicked(message))) => {
                self.calls += 1;
                return Ok(Inside::Panicked(message));
            }
            Ok(Next::Call(_)) => (
                "the recording is malformed: a call inside another, outside any callback"
                    .to_owned(),
                format!("a call to `{}`", self.sites[self.current].name),
            ),
            Ok(Next::Nested(nested)) => (
                "the recording is malformed: a callback returns that never began".to_owned(),
                self.describe(&nested),
            ),
            Ok(Next::Thread(event)) => (
                "the recording is malformed: threads met inside a call".to_owned(),
                event.to_string(),
            ),
            Ok(Next::End) => (
                "the recording ends inside a call".to_owned(),
                "the rest of the call".to_owned(),
            ),
            Err(e) => unreadable(&e),
        };
        let actual = format!("the replay of `{}`", site.full_name());
        Err(self.diverged(summary, expected, actual, Vec::new(), location))
    }

    /// The callback `name` returned `actual` (encoded); `show` renders a
    /// return value for the report. Diverges when it returned something
    /// else than recorded, or returned before making the calls the
    /// recording has inside it.
    pub(crate) fn callback_returned(
        &mut self,
        name: &str,
        location: &'static Location<'static>,
        actual: &[u8],
        show: fn(&[u8]) -> Option<String>,
    ) -> Result<(), Divergence> {
        let shown = |bytes: &[u8]| show(bytes).unwrap_or_else(|| crate::divergence::hex(bytes));
        let (summary, expected) = match self.advance() {
            Ok(Next::Nested(Nested::Returned(ret))) if ret == actual => return Ok(()),
            Ok(Next::Nested(Nested::Returned(ret))) => (
                format!("the callback `{name}` returned another value"),
                format!("a return of {}", shown(&ret)),
            ),
            Ok(Next::Call(_)) => (
                format!("the callback `{name}` returned before a call it made when recorded"),
                format!("a call to `{}`", self.sites[self.current].name),
            ),
            Ok(Next::Thread(event)) => (
                format!("the callback `{name}` returned where threads met when recorded"),
                event.to_string(),
            ),
            Ok(Next::Nested(nested)) => (
                format!("the callback `{name}` returned where the recording has more inside it"),
                self.describe(&nested),
            ),
            Ok(Next::End) => (
                "the recording ends inside a callback".to_owned(),
                "the callback's return".to_owned(),
            ),
            Err(e) => unreadable(&e),
        };
        let actual = format!("a return of {}", shown(actual));
        Err(self.diverged(summary, expected, actual, Vec::new(), location))
    }

    /// Passes over what happened inside the open call just matched, up to
    /// its results (now the current ones), for a call run for real in
    /// replay: its callbacks run for real too, unrecorded.
    pub(crate) fn skip_inside(
        &mut self,
        site: &'static Site,
        location: &'static Location<'static>,
    ) -> Result<(), Divergence> {
        let mut depth = 1usize;
        loop {
            match self.advance() {
                Ok(Next::Call(_)) if self.open => depth += 1,
                Ok(Next::Call(_)) => self.calls += 1,
                Ok(Next::Nested(Nested::Closed | Nested::Panicked(_))) => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(());
                    }
                    self.calls += 1;
                }
                Ok(Next::Thread(_) | Next::Nested(_)) => {}
                Ok(Next::End) | Err(_) => return self.next_inside(site, location).map(drop),
            }
        }
    }

    /// The callback `name`, invoked by replay inside the call just matched,
    /// panicked: the recording must have that call's panic next (it is
    /// then raised again); anything else is a divergence.
    pub(crate) fn callback_panicked(
        &mut self,
        name: &str,
        location: &'static Location<'static>,
    ) -> Result<(), Divergence> {
        let (summary, expected) = match self.advance() {
            Ok(Next::Nested(Nested::Panicked(_))) => {
                self.calls += 1;
                return Ok(());
            }
            Ok(Next::Nested(nested)) => (
                format!("the callback `{name}` panicked, and did not when recorded"),
                self.describe(&nested),
            ),
            Ok(Next::Call(_)) => (
                format!("the callback `{name}` panicked before a call it made when recorded"),
                format!("a call to `{}`", self.sites[self.current].name),
            ),
            Ok(Next::Thread(event)) => (
                format!("the callback `{name}` panicked where threads met when recorded"),
                event.to_string(),
            ),
            Ok(Next::End) => (
                "the recording ends inside a callback".to_owned(),
                "the callback's return".to_owned(),
            ),
            Err(e) => unreadable(&e),
        };
        let actual = format!("a panic of the callback `{name}`");
        Err(self.diverged(summary, expected, actual, Vec::new(), location))
    }

    /// A callback foreign code invoked outside any recorded call: checks
    /// it is the next thing recorded, and returns its recorded arguments.
    pub(crate) fn next_callback(
        &mut self,
        site: &'static Site,
        location: &'static Location<'static>,
    ) -> Result<Vec<u8>, Divergence> {
        let (summary, expected) = match self.advance() {
            Ok(Next::Nested(Nested::Callback {
                site: recorded,
                args,
            })) if self.sites[recorded].name == site.full_name() => {
                return Ok(args);
            }
            Ok(Next::Nested(nested)) => (
                "another callback was called".to_owned(),
                self.describe(&nested),
            ),
            Ok(Next::Call(_)) => (
                "foreign code called back where the program called a function when recorded"
                    .to_owned(),
                format!("a call to `{}`", self.sites[self.current].name),
            ),
            Ok(Next::Thread(event)) => (
                "foreign code called back where threads met when recorded".to_owned(),
                event.to_string(),
            ),
            Ok(Next::End) => (
                "the recording is exhausted".to_owned(),
                "nothing more on this thread".to_owned(),
            ),
            Err(e) => unreadable(&e),
        };
        let actual = format!("a call of the callback `{}`", site.full_name());
        Err(self.diverged(summary, expected, actual, Vec::new(), location))
    }
}
