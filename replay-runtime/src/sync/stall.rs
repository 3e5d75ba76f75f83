//! The stall detector: a replaying thread that waits for another (a lock's
//! turn, a message) longer than the session's stall limit gives up with a
//! report, instead of hanging; a lock already past the awaited turn is
//! reported at once, since that turn can never come.
//!
//! One report per stall: the first thread to give up reports what every
//! waiting thread waits for and which one is most likely at fault
//! (`blame.rs`); the others stop within a slice with a short report
//! naming that thread, rather than each printing the whole story.

use std::collections::BTreeMap;
use std::panic::Location;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::{Duration, Instant};

use super::blame::{self, On, Verdict, Wait};
use crate::context;
use crate::shared::{STALL_VAR, Shared};

/// What a session's replaying threads wait for, and the stall reported,
/// once one is.
#[derive(Default)]
struct Board {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    waits: BTreeMap<u32, Wait>,
    /// The thread that reports the stall, and its verdict.
    reported: Option<(u32, Option<Verdict>)>,
    /// Whether that thread made its report yet: the thread that found the
    /// stall hands the report to the thread at fault when that one waits,
    /// so that the report (and its panic) is at the faulty line.
    made: bool,
    /// What every thread waited for when the stall was found: the threads
    /// stopped since then no longer wait.
    found: Vec<String>,
}

impl Board {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The board of `shared`'s session. Kept here rather than in
    /// `Shared`, which sits in a layer below `sync/`; dropped once the
    /// session is gone.
    fn of(shared: &Arc<Shared>) -> Arc<Board> {
        type Boards = Vec<(Weak<Shared>, u64, Arc<Board>)>;
        static BOARDS: Mutex<Boards> = Mutex::new(Vec::new());
        let mut boards = BOARDS.lock().unwrap_or_else(PoisonError::into_inner);
        boards.retain(|(session, _, _)| session.strong_count() > 0);
        if let Some((_, _, board)) = boards.iter().find(|(_, s, _)| *s == shared.serial) {
            return Arc::clone(board);
        }
        let board = Arc::new(Board::default());
        boards.push((Arc::downgrade(shared), shared.serial, Arc::clone(&board)));
        board
    }
}

/// A replaying thread waiting for another: registered for the stall report
/// while it lives.
pub(crate) struct Waiting {
    shared: Arc<Shared>,
    board: Arc<Board>,
    stream: u32,
    started: Instant,
    location: &'static Location<'static>,
}

/// A wait that cannot end; [`Stalled::raise`] reports it.
pub(crate) enum Stalled {
    /// The stall's one full report.
    Report {
        summary: String,
        expected: String,
        actual: String,
        notes: Vec<String>,
        hint: String,
        location: &'static Location<'static>,
    },
    /// Stopped by the stall another thread reported: a line saying so.
    Stopped {
        line: String,
        location: &'static Location<'static>,
    },
}

impl Waiting {
    /// Starts waiting for `what` (in words, for the report), on `on`.
    pub(crate) fn start(
        what: String,
        on: On,
        location: &'static Location<'static>,
    ) -> Option<Waiting> {
        let shared = context::with_shared(Arc::clone)?;
        let stream = context::thread_stream();
        let wait = Wait {
            what,
            location,
            since: Instant::now(),
            on,
        };
        let board = Board::of(&shared);
        board.state().waits.insert(stream, wait);
        Some(Waiting {
            shared,
            board,
            stream,
            started: Instant::now(),
            location,
        })
    }

    /// How long to block before checking again.
    pub(crate) const SLICE: Duration = Duration::from_millis(20);

    /// A lock wait: where the lock stands now, for the report.
    pub(crate) fn stands(&self, now: (u64, u64)) {
        if let Some(Wait {
            on: On::Lock { now: at, .. },
            ..
        }) = self.board.state().waits.get_mut(&self.stream)
        {
            *at = now;
        }
    }

    /// After a slice of waiting: whether to give up, because another
    /// thread reported a stall, or the wait went past the stall limit, or
    /// a thread that found the stall blames this one. The thread at fault
    /// makes the report if it waits (within a slice); else the thread
    /// that found the stall does.
    pub(crate) fn check(&self) -> Result<(), Box<Stalled>> {
        let mut state = self.board.state();
        if let Some(stopped) = self.stopped(&state) {
            return Err(stopped);
        }
        let waited = self.started.elapsed();
        let verdict = match &state.reported {
            Some((_, verdict)) => verdict.clone(), // handed to this thread
            None if waited < self.shared.stall => return Ok(()),
            None => {
                let verdict = blame::blame(&state.waits);
                state.found = (state.waits.iter())
                    .map(|(stream, w)| format!("  thread {stream}: {}, at {}", w.what, w.location))
                    .collect();
                let at_fault = verdict.as_ref().map_or(self.stream, |v| v.thread);
                if at_fault != self.stream && state.waits.contains_key(&at_fault) {
                    state.reported = Some((at_fault, verdict.clone()));
                    if let Some(stopped) = self.stopped(&state) {
                        return Err(stopped);
                    }
                }
                verdict
            }
        };
        state.reported = Some((self.stream, verdict.clone()));
        state.made = true;
        let what = self.what(&state);
        let mut notes: Vec<String> = verdict.iter().map(|v| format!("note: {v}")).collect();
        notes.push("note: what every waiting thread waits for:".to_owned());
        notes.extend(state.found.iter().cloned());
        Err(Box::new(Stalled::Report {
            summary: format!(
                "the replay stalled: it waited {:.1}s for {what}",
                waited.as_secs_f64()
            ),
            expected: what,
            actual: "nothing came within the stall limit".to_owned(),
            notes,
            hint: format!(
                "the thread at fault took another path than when recording (its own report, \
                 if it has one, says where); the limit is {:.1}s, set by {STALL_VAR}",
                self.shared.stall.as_secs_f64()
            ),
            location: self.location,
        }))
    }

    /// A lock wait whose turn has passed (`stands`, in words): reported at
    /// once, as the stall, unless another thread reported one first.
    pub(crate) fn past(&self, stands: String) -> Box<Stalled> {
        let mut state = self.board.state();
        if let Some(stopped) = self.stopped(&state) {
            return stopped;
        }
        let verdict = Verdict {
            thread: self.stream,
            location: Some(self.location),
            why: "this open is not where the recording has it: this thread opens one more \
                  lock before it, or another lock here, than when recording (or another \
                  thread took this turn by opening this lock where its recording opens another)"
                .to_owned(),
        };
        state.reported = Some((self.stream, Some(verdict.clone())));
        state.made = true;
        let what = self.what(&state);
        Box::new(Stalled::Report {
            summary: format!("the lock is already past the turn this open waits for, {what}"),
            expected: what,
            actual: format!("a lock that already {stands}: that turn will not come again"),
            notes: vec![format!("note: {verdict}")],
            hint: "reported at once, without waiting for the stall limit; if the program \
                   changed on purpose, re-record with REPLAY_MODE=record"
                .to_owned(),
            location: self.location,
        })
    }

    /// Whether a stall was reported on another thread: then this thread
    /// stops too, saying so briefly.
    pub(crate) fn stopped_by_another(&self) -> Option<Box<Stalled>> {
        self.stopped(&self.board.state())
    }

    fn stopped(&self, state: &State) -> Option<Box<Stalled>> {
        let (thread, verdict) = state.reported.as_ref().filter(|(t, _)| *t != self.stream)?;
        let blamed = verdict.as_ref().map_or(String::new(), |v| {
            let at = v.location.map_or(String::new(), |l| format!(" at {l}"));
            format!("; most likely at fault: thread {}{at}", v.thread)
        });
        Some(Box::new(Stalled::Stopped {
            line: format!(
                "stopped by the stall reported on thread {thread}, while waiting for {}{blamed}",
                self.what(state)
            ),
            location: self.location,
        }))
    }

    fn what(&self, state: &State) -> String {
        state
            .waits
            .get(&self.stream)
            .map_or("another thread", |w| w.what.as_str())
            .to_owned()
    }
}

impl Stalled {
    /// The full report, with `note` added; a short one is left as is.
    pub(crate) fn noted(mut self: Box<Self>, note: String) -> Box<Self> {
        if let Stalled::Report { notes, .. } = &mut *self {
            notes.push(note);
        }
        self
    }

    /// Reports the stall as this thread's divergence.
    #[track_caller]
    pub(crate) fn raise(self) -> ! {
        match self {
            Stalled::Report {
                summary,
                expected,
                actual,
                notes,
                hint,
                location,
            } => context::replay(location, move |cursor| {
                Err::<(), _>(cursor.stalled(summary, expected, actual, notes, hint, location))
            }),
            Stalled::Stopped { line, location } => context::replay(location, move |cursor| {
                Err::<(), _>(cursor.stopped(line, location))
            }),
        };
        unreachable!("a stall is raised as a divergence")
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        let mut state = self.board.state();
        state.waits.remove(&self.stream);
        // Handed the report, this thread stopped waiting without making
        // it (its turn came just then): the next thread to look makes it.
        if !state.made
            && state
                .reported
                .as_ref()
                .is_some_and(|(t, _)| *t == self.stream)
        {
            state.reported = None;
        }
    }
}
