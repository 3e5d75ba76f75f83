//! Building divergence reports: every one is made by [`Cursor::diverge`],
//! which also keeps the first for `Session::finish`.

use std::panic::Location;

use super::Cursor;
use crate::divergence::{ArgReport, Divergence, Report};
use crate::site::Site;

impl Cursor {
    /// The one place a divergence is made: renders the report and keeps
    /// the first for `finish`.
    #[cold]
    pub(super) fn diverge(&mut self, mut report: Report) -> Divergence {
        report.notes.extend(self.other_program.clone());
        let divergence = report.render();
        self.diverged
            .get_or_insert_with(|| divergence.message().to_owned());
        divergence
    }

    /// A report on this thread's next call, at `location`.
    pub(super) fn report(
        &self,
        summary: String,
        expected: String,
        actual: String,
        location: &'static Location<'static>,
    ) -> Report {
        let call = self.begun + 1;
        Report {
            path: self.path.clone(),
            call,
            thread: self.thread,
            summary,
            expected,
            actual,
            notes: Vec::new(),
            hint: None,
            location,
            stoppable: call <= self.total,
        }
    }

    /// A divergence described by the caller: what went wrong, what the
    /// recording expected and what the program did, with notes.
    #[cold]
    pub(crate) fn diverged(
        &mut self,
        summary: String,
        expected: String,
        actual: String,
        notes: Vec<String>,
        location: &'static Location<'static>,
    ) -> Divergence {
        let mut report = self.report(summary, expected, actual, location);
        report.notes = notes;
        self.diverge(report)
    }

    /// A stalled replay: the report says what every thread waits for.
    #[cold]
    pub(crate) fn stalled(
        &mut self,
        summary: String,
        expected: String,
        actual: String,
        notes: Vec<String>,
        hint: String,
        location: &'static Location<'static>,
    ) -> Divergence {
        let mut report = self.report(summary, expected, actual, location);
        report.notes = notes;
        report.hint = Some(hint);
        // Stalls happen where threads meet, not at a call.
        report.stoppable = false;
        self.diverge(report)
    }

    /// A thread stopped by the stall another thread reported: `line` says
    /// so, the full report being that thread's.
    #[cold]
    pub(crate) fn stopped(&mut self, line: String, location: &Location<'_>) -> Divergence {
        let divergence = Divergence::stated(format!(
            "replay diverged at call #{} on thread {}: {line}\n  at {location}\n  recording: {}",
            self.begun + 1,
            self.thread,
            self.path.display()
        ));
        self.diverged
            .get_or_insert_with(|| divergence.message().to_owned());
        divergence
    }

    /// A report on a call to `site`, naming the recorded function.
    pub(super) fn call_report(
        &self,
        site: &Site,
        location: &'static Location<'static>,
        summary: String,
    ) -> Report {
        let recorded = &self.sites[self.current];
        let mut report = self.report(
            summary,
            format!("a call to `{}`", recorded.name),
            format!("a call to `{}`", site.full_name()),
            location,
        );
        // The current call's own number: taken already, so it is there
        // for a stop to come before.
        report.call = self.number;
        report.stoppable = true;
        // Only the same function's signature can have changed.
        if recorded.name == site.full_name() && recorded.signature != site.signature {
            report.notes.push(format!(
                "note: the signature changed since the recording: recorded `{}`, now `{}`",
                recorded.signature, site.signature
            ));
        }
        report
    }

    /// A divergence on the arguments of a call to `site`.
    #[cold]
    pub(crate) fn diverged_on_args(
        &mut self,
        site: &'static Site,
        location: &'static Location<'static>,
        report: ArgReport,
    ) -> Divergence {
        let name = site.full_name();
        let summary = match &report {
            ArgReport::Differs { index, .. } => {
                format!("{} of `{name}` differs", site.argument(*index))
            }
            ArgReport::Count { recorded, actual } => {
                format!(
                    "`{name}` was recorded with {recorded} arguments but is called with {actual}"
                )
            }
            ArgReport::Extra => {
                format!("`{name}` was recorded with more arguments than it is called with")
            }
            ArgReport::Unknown => format!("the arguments of `{name}` differ"),
        };
        let mut r = self.call_report(site, location, summary);
        if let ArgReport::Differs {
            index,
            recorded,
            actual,
        } = report
        {
            let param = site.param_name(index);
            let shown = |v: Option<String>| {
                v.unwrap_or_else(|| "<large value, recorded as a digest>".into())
            };
            r.expected = format!("a call to `{name}` with {param} = {}", shown(recorded));
            r.actual = format!("a call to `{name}` with {param} = {}", shown(actual));
        }
        self.diverge(r)
    }

    /// A divergence at a call to `site`, described by `summary`.
    #[cold]
    pub(crate) fn diverged_at(
        &mut self,
        site: &'static Site,
        location: &'static Location<'static>,
        summary: String,
    ) -> Divergence {
        let report = self.call_report(site, location, summary);
        self.diverge(report)
    }
}
