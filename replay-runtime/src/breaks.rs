//! `REPLAY_BREAK`: the recorded calls a replay stops right before, named
//! `thread:call` as divergence reports, `replay dump` and the timeline name
//! them (`2:1418`: the 1418th call of the thread recorded as stream 2).
//! Read and checked against the recording when a replay starts; each
//! thread's cursor is given its own (`Cursor::new`), and the wrapper stops
//! (`call::stop`).

use crate::error::{Error, Result};
use crate::recording::reader::Recording;

/// The variable naming the calls to stop before.
pub(crate) const BREAK_VAR: &str = "REPLAY_BREAK";

/// The calls a replay stops before: stream, call number (from 1), sorted.
#[derive(Debug, Default)]
pub(crate) struct Breaks(Vec<(u32, u64)>);

impl Breaks {
    /// The breaks `REPLAY_BREAK` asks for, each checked to name a call
    /// the recording holds.
    pub(crate) fn from_env(recording: &Recording) -> Result<Breaks> {
        match std::env::var(BREAK_VAR) {
            Ok(value) => Breaks::parse(&value, recording),
            Err(std::env::VarError::NotPresent) => Ok(Breaks::default()),
            Err(std::env::VarError::NotUnicode(value)) => Err(Error::InvalidBreak {
                value: value.to_string_lossy().into_owned(),
                why: "it is not valid UTF-8".to_owned(),
            }),
        }
    }

    /// An error if `REPLAY_BREAK` is set for a session that records.
    pub(crate) fn refuse_when_recording() -> Result<()> {
        match std::env::var_os(BREAK_VAR) {
            Some(value) if !value.is_empty() => Err(Error::InvalidBreak {
                value: value.to_string_lossy().into_owned(),
                why: "it stops a replay, and this session records; unset it to record".to_owned(),
            }),
            _ => Ok(()),
        }
    }

    fn parse(value: &str, recording: &Recording) -> Result<Breaks> {
        let invalid = |why: String| Error::InvalidBreak {
            value: value.to_owned(),
            why,
        };
        let mut breaks = Vec::new();
        for item in value.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (thread, call) = item
                .split_once(':')
                .and_then(|(t, c)| Some((t.trim().parse::<u32>().ok()?, c.trim().parse().ok()?)))
                .ok_or_else(|| {
                    invalid(format!(
                        "{item:?} is not `thread:call` (e.g. `2:1418`, the 1418th call of \
                         thread 2, as divergence reports and `replay dump` name calls)"
                    ))
                })?;
            let Some(stream) = recording.streams.get(thread) else {
                let threads: Vec<String> =
                    recording.streams.numbers().map(|n| n.to_string()).collect();
                return Err(invalid(format!(
                    "the recording has no thread {thread} (its threads: {})",
                    threads.join(", ")
                )));
            };
            if call == 0 || call > stream.calls {
                return Err(invalid(format!(
                    "thread {thread} recorded calls 1 to {}; there is no call {call}",
                    stream.calls
                )));
            }
            breaks.push((thread, call));
        }
        breaks.sort_unstable();
        breaks.dedup();
        Ok(Breaks(breaks))
    }

    /// The calls to stop before on the thread recorded as `stream`, in
    /// order.
    pub(crate) fn of(&self, stream: u32) -> Vec<u64> {
        self.0
            .iter()
            .filter(|(s, _)| *s == stream)
            .map(|&(_, call)| call)
            .collect()
    }
}
