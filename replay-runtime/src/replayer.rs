//! One thread's replay: reads its stream, matches each call against the
//! next recorded one, and reports divergence.

use std::panic::Location;
use std::path::PathBuf;

use crate::call::Site;
use crate::divergence::{self, ArgReport, Divergence, Report};
use crate::error::{Error, Result};
use crate::recording::format::{Event, NoMessage, Sync};
use crate::recording::reader::{Recording, StreamReader};

/// A function as the recording defined it.
struct RecordedSite {
    name: String,
    signature: String,
    /// The `Site` that last matched it, by address: spares the name compare.
    matched: usize,
}

pub(crate) struct Replayer {
    path: PathBuf,
    thread: u32,
    reader: StreamReader,
    sites: Vec<RecordedSite>,
    /// Calls replayed so far.
    calls: u64,
    /// Calls in the stream.
    total: u64,
    /// Whether the stream ends with the clean end marker.
    ended: bool,
    /// The current recorded call's site, arguments and results.
    current: usize,
    pub(crate) recorded_args: Vec<u8>,
    pub(crate) recorded_rest: Vec<u8>,
    /// The actual call's arguments, encoded for comparison.
    pub(crate) scratch: Vec<u8>,
    /// The first divergence's report, once there was one.
    pub(crate) diverged: Option<String>,
    /// The run of receives under way: sender, receives left.
    run: Option<(u32, u64)>,
}

/// What comes next in a stream.
enum Next {
    Call(bool),
    Sync(Sync),
    End,
}

/// A recorded thread event, in words.
pub(crate) fn describe(sync: Sync) -> String {
    match sync {
        Sync::Spawn { stream } => format!("a spawn of the thread recorded as {stream}"),
        Sync::Lock { version, reads } => {
            format!("a lock opened for writing at version {version}, after {reads} read(s)")
        }
        Sync::ReadLock { version } => format!("a lock opened for reading at version {version}"),
        Sync::TrySend { outcome } => format!(
            "a try_send that {}",
            ["sent", "found the channel full", "found the receiver gone"]
                .get(outcome as usize)
                .unwrap_or(&"did something unknown")
        ),
        Sync::TryLockFailed => "a try_lock that found the lock taken".to_owned(),
        Sync::Recv { sender, count } => {
            format!("{count} receive(s) of messages from thread {sender}")
        }
        Sync::RecvNone(why) => format!("a receive that got no message ({why:?})"),
        Sync::Select { branch } => format!("a select won by branch {branch}"),
    }
}

impl Replayer {
    pub(crate) fn new(recording: &Recording, thread: u32) -> Result<Replayer> {
        Ok(Replayer {
            path: recording.path.clone(),
            thread,
            reader: recording.stream(thread)?,
            sites: Vec::new(),
            calls: 0,
            total: recording.streams.get(&thread).map_or(0, |s| s.calls),
            ended: recording.streams.get(&thread).is_some_and(|s| s.ended),
            current: 0,
            recorded_args: Vec::new(),
            recorded_rest: Vec::new(),
            scratch: Vec::new(),
            diverged: None,
            run: None,
        })
    }

    fn report(
        &self,
        site: &Site,
        location: &'static Location<'static>,
        summary: String,
    ) -> Report<'_> {
        let recorded = &self.sites[self.current];
        let mut notes = Vec::new();
        if recorded.signature != site.signature {
            notes.push(format!(
                "note: the signature changed since the recording: recorded `{}`, now `{}`",
                recorded.signature, site.signature
            ));
        }
        Report {
            path: &self.path,
            call: self.calls + 1,
            thread: self.thread,
            summary,
            expected: format!("a call to `{}`", recorded.name),
            actual: format!("a call to `{}`", site.full_name()),
            notes,
            location,
        }
    }

    fn diverge(&mut self, report: Divergence) -> Divergence {
        self.diverged = Some(report.message.clone());
        crate::session::set_thread_mode(crate::session::ThreadMode::Diverged);
        report
    }

    /// Reads up to the next recorded call or thread event, learning
    /// definitions on the way; a call becomes current.
    fn advance(&mut self) -> std::io::Result<Next> {
        loop {
            match self.reader.next_event()? {
                Some(Event::Define {
                    name, signature, ..
                }) => self.sites.push(RecordedSite {
                    name: name.to_owned(),
                    signature: signature.to_owned(),
                    matched: 0,
                }),
                Some(Event::End) => {}
                Some(Event::Sync(sync)) => return Ok(Next::Sync(sync)),
                Some(Event::Call {
                    site,
                    digested,
                    args,
                    rest,
                }) => {
                    self.recorded_args.clear();
                    self.recorded_args.extend_from_slice(args);
                    self.recorded_rest.clear();
                    self.recorded_rest.extend_from_slice(rest);
                    // Validation guarantees the site was defined before.
                    self.current = site as usize;
                    return Ok(Next::Call(digested));
                }
                None => return Ok(Next::End),
            }
        }
    }

    /// The unfinished run of receives, as a divergence, if there is one.
    fn pending_receives(&self) -> Option<(String, String)> {
        let (sender, remaining) = self.run.filter(|&(_, remaining)| remaining > 0)?;
        Some((
            "the recording has more receives here".to_owned(),
            format!("{remaining} more receive(s) of messages from thread {sender}"),
        ))
    }

    /// Advances to the next recorded thread event, for a program doing
    /// `doing` (a description, for the report).
    pub(crate) fn next_sync(
        &mut self,
        doing: &dyn Fn() -> String,
        location: &'static Location<'static>,
    ) -> Result<Sync, Divergence> {
        let (summary, expected) = match self.pending_receives() {
            Some(pending) => pending,
            None => match self.advance() {
                Ok(Next::Sync(sync)) => return Ok(sync),
                Ok(Next::Call(_)) => (
                    "the program did something else than call a function".to_owned(),
                    format!("a call to `{}`", self.sites[self.current].name),
                ),
                Ok(Next::End) => (
                    "the recording is exhausted".to_owned(),
                    "nothing more on this thread".to_owned(),
                ),
                Err(e) => (
                    format!("the recording cannot be read: {e}"),
                    "a readable recording".to_owned(),
                ),
            },
        };
        Err(self.fail(summary, expected, doing(), Vec::new(), location))
    }

    /// A divergence with this report, the thread spent.
    fn fail(
        &mut self,
        summary: String,
        expected: String,
        actual: String,
        notes: Vec<String>,
        location: &'static Location<'static>,
    ) -> Divergence {
        let d = Report {
            path: &self.path,
            call: self.calls + 1,
            thread: self.thread,
            summary,
            expected,
            actual,
            notes,
            location,
        }
        .render();
        self.diverge(d)
    }

    /// The next receive: from which sender, or why no message.
    pub(crate) fn next_receive(
        &mut self,
        location: &'static Location<'static>,
    ) -> Result<Result<u32, NoMessage>, Divergence> {
        if let Some((sender, remaining)) = &mut self.run
            && *remaining > 0
        {
            *remaining -= 1;
            return Ok(Ok(*sender));
        }
        match self.next_sync(&|| "a receive".to_owned(), location)? {
            Sync::Recv { sender, count } => {
                self.run = Some((sender, count.saturating_sub(1)));
                Ok(Ok(sender))
            }
            Sync::RecvNone(why) => Ok(Err(why)),
            other => Err(self.mismatch(other, "a receive", location)),
        }
    }

    /// A thread event other than the one the program made.
    pub(crate) fn mismatch(
        &mut self,
        recorded: Sync,
        doing: &str,
        location: &'static Location<'static>,
    ) -> Divergence {
        self.fail(
            "the threads met differently".to_owned(),
            describe(recorded),
            doing.to_owned(),
            Vec::new(),
            location,
        )
    }

    /// Advances to the next recorded call, checking it is to `site`.
    /// Fills `recorded_args` and `recorded_rest`; returns whether the
    /// arguments are digests.
    #[inline]
    pub(crate) fn next_call(
        &mut self,
        site: &'static Site,
        location: &'static Location<'static>,
    ) -> Result<bool, Divergence> {
        let next = match self.pending_receives() {
            Some(pending) => Err(pending),
            None => Ok(self.advance()),
        };
        let (summary, expected) = match next {
            Err(pending) => pending,
            Ok(Ok(Next::Call(digested))) => {
                let address = site as *const Site as usize;
                let recorded = &mut self.sites[self.current];
                if recorded.matched == address {
                    return Ok(digested);
                }
                if recorded.name == site.full_name() {
                    recorded.matched = address;
                    return Ok(digested);
                }
                let d = self.report(site, location, "another function was called".into());
                let d = d.render();
                return Err(self.diverge(d));
            }
            Ok(Ok(Next::Sync(sync))) => (
                "the program called a function where threads met".to_owned(),
                describe(sync),
            ),
            Ok(Ok(Next::End)) => (
                "the recording is exhausted".to_owned(),
                format!("no more calls (the recording holds {})", self.total),
            ),
            Ok(Err(e)) => (
                format!("the recording cannot be read: {e}"),
                "a readable recording".to_owned(),
            ),
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
        Err(self.fail(summary, expected, actual, notes, location))
    }

    #[cold]
    pub(crate) fn diverged_on_args(
        &mut self,
        site: &'static Site,
        location: &'static Location<'static>,
        report: ArgReport,
    ) -> Divergence {
        let name = site.full_name();
        let mut r = match &report {
            ArgReport::Differs { index, .. } => {
                let argument = divergence::argument(*index, site.params);
                self.report(site, location, format!("{argument} of `{name}` differs"))
            }
            ArgReport::Count { recorded, actual } => self.report(
                site,
                location,
                format!(
                    "`{name}` was recorded with {recorded} arguments but is called with {actual}"
                ),
            ),
            ArgReport::Extra => self.report(
                site,
                location,
                format!("`{name}` was recorded with more arguments than it is called with"),
            ),
            ArgReport::Unknown => {
                self.report(site, location, format!("the arguments of `{name}` differ"))
            }
        };
        if let ArgReport::Differs {
            index,
            recorded,
            actual,
        } = report
        {
            let param = site.params.get(index).map_or("_", |&(_, name)| name);
            let shown = |v: Option<String>| {
                v.unwrap_or_else(|| "<large value, recorded as a digest>".into())
            };
            r.expected = format!("a call to `{name}` with {param} = {}", shown(recorded));
            r.actual = format!("a call to `{name}` with {param} = {}", shown(actual));
        }
        let d = r.render();
        self.diverge(d)
    }

    /// A divergence at a call to `site`, described by `summary`.
    #[cold]
    pub(crate) fn diverged_at(
        &mut self,
        site: &'static Site,
        location: &'static Location<'static>,
        summary: String,
    ) -> Divergence {
        let d = self.report(site, location, summary).render();
        self.diverge(d)
    }

    #[inline]
    pub(crate) fn call_done(&mut self) {
        self.calls += 1;
    }

    pub(crate) fn calls(&self) -> u64 {
        self.calls
    }

    /// At `Session::finish`: an error if the replay diverged or recorded
    /// calls were left over.
    pub(crate) fn finish(&mut self) -> Result<()> {
        if let Some(message) = self.diverged.take() {
            return Err(Error::Diverged { message });
        }
        let next = self.advance().map_err(|source| Error::Io {
            action: "read",
            path: self.path.clone(),
            source,
        })?;
        let left = match (self.pending_receives(), next) {
            (Some((_, receives)), _) => receives,
            (None, Next::Call(_)) => format!("`{}`", self.sites[self.current].name),
            (None, Next::Sync(sync)) => describe(sync),
            (None, Next::End) => return Ok(()),
        };
        Err(Error::Unconsumed {
            path: self.path.clone(),
            call: self.calls + 1,
            thread: self.thread,
            function: left,
            remaining: self.total - self.calls,
        })
    }
}
