//! The replay cursor: reads one thread's stream, matches what the program
//! does against it, and is the single owner of divergence. Every
//! divergence report is built by [`Cursor::diverge`], which also remembers
//! it for `Session::finish`. The cursor knows nothing of thread-locals: the
//! thread context (`context/`) hands it out and switches the thread's
//! mode when it reports a divergence.

use std::panic::Location;
use std::path::PathBuf;

use crate::divergence::Divergence;
use crate::error::{Error, Result};
use crate::recording::event::Event;
use crate::recording::format::{Metadata, NoMessage, ThreadEvent};
use crate::recording::reader::Recording;
use crate::recording::stream::StreamReader;

mod calls;
mod nested;
mod patches;
mod report;
mod stops;

/// A function as the recording defined it.
struct RecordedSite {
    name: String,
    signature: String,
    /// The `Site` that last matched it, by address: spares the name compare.
    matched: usize,
}

/// One thread's position in its recorded stream.
pub(crate) struct Cursor {
    path: PathBuf,
    thread: u32,
    reader: StreamReader,
    sites: Vec<RecordedSite>,
    /// Calls replayed so far.
    calls: u64,
    /// Calls taken from the stream so far, in the order they began: what
    /// names a call (`thread:call`) in reports, `REPLAY_BREAK` and
    /// `replay dump` (a call that called back begins before the calls
    /// its callbacks made).
    begun: u64,
    /// The number of the current recorded call.
    number: u64,
    /// The calls open around the current event (they called back): site
    /// and number, current again once their results are read.
    around: Vec<(usize, u64)>,
    /// Calls in the stream.
    total: u64,
    /// Whether the stream ends with the clean end marker.
    ended: bool,
    /// A note for every report when another program made the recording.
    other_program: Option<String>,
    /// The current recorded call's site, arguments and results. Those of
    /// a plain call stay in the reader's chunk (`args_at`, `rest_at`): its
    /// arguments are compared, and its results decoded, before anything
    /// else is read (a call whose arguments' `Drop` may read the stream
    /// holds a copy of its results first: `call::replay::hold_results`).
    current: usize,
    args_at: Option<std::ops::Range<usize>>,
    rest_at: Option<std::ops::Range<usize>>,
    recorded_args: Vec<u8>,
    recorded_rest: Vec<u8>,
    /// The actual call's arguments, encoded for comparison.
    pub(crate) scratch: Vec<u8>,
    /// The first divergence's report, once there was one.
    diverged: Option<String>,
    /// The run of receives under way: sender, receives left.
    run: Option<(u32, u64)>,
    /// The current call's foreign function called back: what it did
    /// follows, then its results (see `nested.rs`).
    open: bool,
    /// The recording's format version.
    version: u16,
    /// `REPLAY_BREAK`: the calls before the next one to stop at (the
    /// program's next call is that one when `calls` equals it;
    /// `u64::MAX`: none), and the call numbers of the later stops, last
    /// first.
    stop_after: u64,
    stops: Vec<u64>,
}

/// A recorded call matched by [`Cursor::next_call`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct Matched {
    /// Its arguments are recorded as digests.
    pub(crate) digested: bool,
    /// Its foreign function called back: see [`Cursor::next_inside`].
    pub(crate) open: bool,
}

/// An event of what happened inside a call, as the stream has it.
enum Nested {
    /// A callback's invocation: its site and arguments.
    Callback { site: usize, args: Vec<u8> },
    /// A callback's return value.
    Returned(Vec<u8>),
    /// The call's results (now the current results).
    Closed,
    /// The call panicked with this message, ending with the callbacks
    /// still open inside it.
    Panicked(String),
}

/// What comes next inside an open call.
pub(crate) enum Inside {
    /// Foreign code called the callback `name` with `args`.
    Callback { name: String, args: Vec<u8> },
    /// The call returned: its results are the current ones.
    Closed,
    /// The call panicked, with this message, when recorded.
    Panicked(String),
}

/// What comes next in a stream.
enum Next {
    /// A call, becoming current: whether its arguments are digests.
    Call(bool),
    Thread(ThreadEvent),
    /// What happens inside a call whose foreign function called back.
    Nested(Nested),
    End,
}

/// A report's summary and expectation when the stream cannot be read.
fn unreadable(e: &std::io::Error) -> (String, String) {
    (
        format!("the recording cannot be read: {e}"),
        "a readable recording".to_owned(),
    )
}

/// A program's name without the hash cargo appends to test binaries.
fn program_name(name: &str) -> &str {
    match name.rsplit_once('-') {
        Some((stem, hash)) if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
            stem
        }
        _ => name,
    }
}

/// A note saying that another program made the recording, if one did.
fn other_program(recorded: &Metadata) -> Option<String> {
    // Read once: every replaying thread's cursor asks.
    static OURS: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let ours = OURS.get_or_init(|| Metadata::current().program);
    let theirs = &recorded.program;
    (!ours.is_empty() && !theirs.is_empty() && program_name(ours) != program_name(theirs)).then(
        || {
            format!(
                "note: the recording was made by another program, `{}`; this is `{}`: \
                 is it the right recording?",
                crate::recording::printable(theirs),
                crate::recording::printable(ours)
            )
        },
    )
}

impl Cursor {
    /// The cursor of the thread recorded as `thread`, which stops right
    /// before the calls numbered `stops` (see [`Cursor::stops_here`]).
    pub(crate) fn new(recording: &Recording, thread: u32, mut stops: Vec<u64>) -> Result<Cursor> {
        let stream = recording.streams.get(thread);
        stops.sort_unstable_by(|a, b| b.cmp(a));
        let mut cursor = Cursor {
            path: recording.path.clone(),
            thread,
            reader: recording.stream(thread),
            sites: Vec::new(),
            calls: 0,
            begun: 0,
            number: 0,
            around: Vec::new(),
            total: stream.map_or(0, |s| s.calls),
            ended: stream.is_some_and(|s| s.ended),
            other_program: other_program(&recording.metadata),
            current: 0,
            args_at: None,
            rest_at: None,
            recorded_args: Vec::new(),
            recorded_rest: Vec::new(),
            scratch: Vec::new(),
            diverged: None,
            run: None,
            open: false,
            version: recording.version,
            stop_after: u64::MAX,
            stops,
        };
        cursor.next_stop();
        Ok(cursor)
    }

    /// The stream this cursor replays: the thread's number in reports.
    pub(crate) fn thread(&self) -> u32 {
        self.thread
    }

    /// Reads up to the next recorded call or thread event, learning
    /// definitions on the way; a call becomes current.
    fn advance(&mut self) -> std::io::Result<Next> {
        loop {
            let event = self.reader.next_event()?;
            // Validation saw every site defined before use; a file changed
            // since must not make an index out of bounds.
            if let Some(
                Event::Call { site, .. }
                | Event::OpenCall { site, .. }
                | Event::Callback { site, .. },
            ) = event
                && site >= self.sites.len() as u64
            {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!(
                        "{} changed while it was replayed (an event names undefined \
                         function #{site}); replay it again",
                        self.path.display()
                    ),
                ));
            }
            match event {
                Some(Event::Define {
                    name, signature, ..
                }) => self.sites.push(RecordedSite {
                    name: name.to_owned(),
                    signature: signature.to_owned(),
                    matched: 0,
                }),
                Some(Event::End) => {}
                Some(Event::Thread(event)) => return Ok(Next::Thread(event)),
                Some(Event::Call {
                    site,
                    digested,
                    args,
                    rest,
                }) => {
                    self.args_at = None;
                    self.rest_at = None;
                    self.recorded_args.clear();
                    self.recorded_args.extend_from_slice(args);
                    self.recorded_rest.clear();
                    self.recorded_rest.extend_from_slice(rest);
                    self.current = site as usize;
                    self.open = false;
                    self.take_number();
                    return Ok(Next::Call(digested));
                }
                Some(Event::OpenCall {
                    site,
                    digested,
                    args,
                }) => {
                    self.args_at = None;
                    self.rest_at = None;
                    self.recorded_args.clear();
                    self.recorded_args.extend_from_slice(args);
                    self.recorded_rest.clear();
                    self.current = site as usize;
                    self.open = true;
                    self.take_number();
                    self.around.push((self.current, self.number));
                    return Ok(Next::Call(digested));
                }
                Some(Event::CloseCall { rest }) => {
                    if let Some((site, number)) = self.around.pop() {
                        (self.current, self.number) = (site, number);
                    }
                    self.rest_at = None;
                    self.recorded_rest.clear();
                    self.recorded_rest.extend_from_slice(rest);
                    return Ok(Next::Nested(Nested::Closed));
                }
                Some(Event::Callback { site, args }) => {
                    return Ok(Next::Nested(Nested::Callback {
                        site: site as usize,
                        args: args.to_vec(),
                    }));
                }
                Some(Event::Returned { ret }) => {
                    return Ok(Next::Nested(Nested::Returned(ret.to_vec())));
                }
                Some(Event::Panicked { message }) => {
                    if let Some((site, number)) = self.around.pop() {
                        (self.current, self.number) = (site, number);
                    }
                    return Ok(Next::Nested(Nested::Panicked(message.to_owned())));
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

    /// Advances to the next recorded thread event and hands it to `expect`,
    /// which takes it (`Some`) or not; a program doing `doing` (in words,
    /// for the report) that meets anything else has diverged.
    pub(crate) fn thread_event<T>(
        &mut self,
        doing: &str,
        location: &'static Location<'static>,
        expect: impl FnOnce(ThreadEvent) -> Option<T>,
    ) -> Result<T, Divergence> {
        let next_call = self.begun + 1;
        let (summary, expected) = match self.pending_receives() {
            Some(pending) => pending,
            // Most thread events: a lock's open, read in place.
            None => match self
                .reader
                .next_lock_open()
                .map_or_else(|| self.advance(), |event| Ok(Next::Thread(event)))
            {
                Ok(Next::Thread(event)) => match expect(event) {
                    Some(taken) => return Ok(taken),
                    None => ("the threads met differently".to_owned(), event.to_string()),
                },
                Ok(Next::Call(_)) => (
                    "the program did something else than call a function".to_owned(),
                    format!("a call to `{}`", self.sites[self.current].name),
                ),
                Ok(Next::Nested(nested)) => (
                    "threads met where the recording has a callback's event".to_owned(),
                    self.describe(&nested),
                ),
                Ok(Next::End) => (
                    "the recording is exhausted".to_owned(),
                    "nothing more on this thread".to_owned(),
                ),
                Err(e) => unreadable(&e),
            },
        };
        let mut report = self.report(summary, expected, doing.to_owned(), location);
        // Where threads meet, not at a call: no stop comes before it. The
        // next call's number, whether or not it was read meanwhile.
        report.stoppable = false;
        report.call = next_call;
        Err(self.diverge(report))
    }

    /// The next receive, by a program doing `doing`: from which sender, or
    /// why no message. `fits` says whether this receive may come back
    /// without a message for the recorded reason.
    pub(crate) fn next_receive(
        &mut self,
        doing: &str,
        location: &'static Location<'static>,
        fits: impl FnOnce(NoMessage) -> bool,
    ) -> Result<Result<u32, NoMessage>, Divergence> {
        if let Some((sender, remaining)) = &mut self.run
            && *remaining > 0
        {
            *remaining -= 1;
            return Ok(Ok(*sender));
        }
        let next = self.thread_event(doing, location, |event| match event {
            ThreadEvent::Recv { sender, count, .. } => Some(Ok((sender, count))),
            ThreadEvent::RecvNone(why) if fits(why) => Some(Err(why)),
            _ => None,
        })?;
        Ok(next.map(|(sender, count)| {
            self.run = Some((sender, count.saturating_sub(1)));
            sender
        }))
    }

    /// Whether a call's arguments hold the value each `&mut` parameter
    /// had before the call: from format version 2 on.
    #[inline]
    pub(crate) fn records_inouts(&self) -> bool {
        self.version >= 2
    }

    /// A call was taken from the stream: it becomes the current one, with
    /// the next number.
    #[inline(always)]
    fn take_number(&mut self) {
        self.begun += 1;
        self.number = self.begun;
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
        let number = self.begun + 1;
        let next = self.advance().map_err(|source| Error::Io {
            action: "read",
            path: self.path.clone(),
            source,
        })?;
        let left = match (self.pending_receives(), next) {
            (Some((_, receives)), _) => receives,
            (None, Next::Call(_)) => format!("`{}`", self.sites[self.current].name),
            (None, Next::Thread(event)) => event.to_string(),
            (None, Next::Nested(nested)) => self.describe(&nested),
            (None, Next::End) => return Ok(()),
        };
        Err(Error::Unconsumed {
            path: self.path.clone(),
            call: number,
            thread: self.thread,
            function: left,
            remaining: self.total - self.calls,
        })
    }
}
