//! The stall detector: a replaying thread that waits for another (a lock's
//! turn, a message) longer than the session's stall limit gives up with a
//! report of what every waiting thread waits for, instead of hanging.

use std::panic::Location;
use std::sync::{Arc, PoisonError};
use std::time::{Duration, Instant};

use crate::context;
use crate::shared::{STALL_VAR, Shared};

/// A replaying thread waiting for another: registered for the stall report
/// while it lives.
pub(crate) struct Waiting {
    shared: Arc<Shared>,
    stream: u32,
    started: Instant,
    location: &'static Location<'static>,
}

/// A wait that went on past the stall limit; [`Stalled::raise`] reports it.
pub(crate) struct Stalled {
    summary: String,
    expected: String,
    notes: Vec<String>,
    hint: String,
    location: &'static Location<'static>,
}

impl Waiting {
    /// Starts waiting for `what`, described for the stall report.
    pub(crate) fn start(what: String, location: &'static Location<'static>) -> Option<Waiting> {
        let shared = context::with_shared(Arc::clone)?;
        let stream = context::thread_stream();
        shared
            .waits
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(stream, what);
        Some(Waiting {
            shared,
            stream,
            started: Instant::now(),
            location,
        })
    }

    /// How long to block before checking again.
    pub(crate) const SLICE: Duration = Duration::from_millis(20);

    /// After a slice of waiting: whether the wait has gone on past the
    /// session's stall limit.
    pub(crate) fn check(&self) -> Result<(), Box<Stalled>> {
        let waited = self.started.elapsed();
        if waited < self.shared.stall {
            return Ok(());
        }
        let waits = self
            .shared
            .waits
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let what = waits
            .get(&self.stream)
            .map_or("another thread", String::as_str)
            .to_owned();
        let mut notes = vec!["note: what every waiting thread waits for:".to_owned()];
        notes.extend(
            waits
                .iter()
                .map(|(stream, what)| format!("  thread {stream}: {what}")),
        );
        Err(Box::new(Stalled {
            summary: format!(
                "the replay stalled: it waited {:.1}s for {what}",
                waited.as_secs_f64()
            ),
            expected: what,
            notes,
            hint: format!(
                "a thread took another path than when recording (its own report, if it \
                 has one, says where); the limit is {:.1}s, set by {STALL_VAR}",
                self.shared.stall.as_secs_f64()
            ),
            location: self.location,
        }))
    }
}

impl Stalled {
    /// Reports the stall as this thread's divergence, with `note` added.
    #[track_caller]
    pub(crate) fn raise(mut self, note: Option<String>) -> ! {
        self.notes.extend(note);
        let Stalled {
            summary,
            expected,
            notes,
            hint,
            location,
        } = self;
        context::replay(location, move |cursor| {
            Err::<(), _>(cursor.stalled(summary, expected, notes, hint, location))
        });
        unreachable!("a stall is raised as a divergence")
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        self.shared
            .waits
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.stream);
    }
}
