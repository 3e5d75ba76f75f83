//! `replay diff`: where two recordings first differ, with the events
//! before.

use std::collections::VecDeque;
use std::path::Path;
use std::process::ExitCode;

use replay_runtime::Error;
use replay_runtime::inspect::{Entry, Inspection};

use crate::decode::Decoder;
use crate::output::{Failure, Out, outln};

/// Events shown before the first difference.
const CONTEXT: usize = 2;

/// Compares the recordings at `a` and `b` thread by thread: exit status 0
/// if they hold the same events, 1 if not.
pub fn diff(a: &Path, b: &Path, out: &mut Out) -> Result<ExitCode, Failure> {
    let (left, right) = (Inspection::open(a)?, Inspection::open(b)?);
    let mut threads = left.threads();
    threads.extend(right.threads());
    threads.sort_unstable();
    threads.dedup();
    let mut compared = 0u64;
    for thread in threads {
        let mut xs = events(&left, thread)?;
        let mut ys = events(&right, thread)?;
        let mut before = VecDeque::with_capacity(CONTEXT);
        for index in 1u64.. {
            match (xs.next().transpose()?, ys.next().transpose()?) {
                (None, None) => break,
                (Some(x), Some(y)) if same(&x, &y) => {
                    compared += 1;
                    if before.len() == CONTEXT {
                        before.pop_front();
                    }
                    before.push_back((index, x));
                }
                (x, y) => {
                    let difference = Difference {
                        thread,
                        index,
                        before,
                        ours: (a, x),
                        theirs: (b, y),
                    };
                    // The verdict stands whoever stops reading the report.
                    return match difference.report(left.version(), out) {
                        Ok(()) | Err(Failure::Closed) => Ok(ExitCode::from(1)),
                        Err(e) => Err(e),
                    };
                }
            }
        }
    }
    outln!(
        out,
        "the recordings hold the same events ({compared} compared)"
    )?;
    Ok(ExitCode::SUCCESS)
}

/// A thread's events, or none if the recording has no such thread.
fn events(
    recording: &Inspection,
    thread: u32,
) -> Result<Box<dyn Iterator<Item = Result<Entry, Error>>>, Error> {
    Ok(match recording.threads().contains(&thread) {
        true => Box::new(recording.entries(thread)?),
        false => Box::new(std::iter::empty()),
    })
}

/// The first events that differ, each `None` where its thread ended.
struct Difference<'p> {
    thread: u32,
    index: u64,
    /// The events before, numbered.
    before: VecDeque<(u64, Entry)>,
    ours: (&'p Path, Option<Entry>),
    theirs: (&'p Path, Option<Entry>),
}

impl Difference<'_> {
    fn report(self, version: u16, out: &mut Out) -> Result<(), Failure> {
        let Difference { thread, index, .. } = self;
        outln!(
            out,
            "the recordings first differ on thread {thread}, at event {index} \
             (as `replay dump` numbers them):"
        )?;
        // Recordings of two versions show their in/out values alike only
        // where both have them: the left one's version decides.
        let mut decoder = Decoder::for_version(version);
        for (i, entry) in &self.before {
            outln!(out, "  {i:>6}  {}", decoder.show(entry))?;
        }
        for (path, entry) in [self.ours, self.theirs] {
            let shown = entry.map_or_else(
                || "(nothing: the thread's events end here)".to_owned(),
                |entry| decoder.show(&entry),
            );
            outln!(out, "  {}:\n  {index:>6}  {shown}", path.display())?;
        }
        Ok(())
    }
}

/// Whether two events are the same: a call's number is not compared.
fn same(a: &Entry, b: &Entry) -> bool {
    match (a, b) {
        (
            Entry::Call {
                function: fa,
                arguments: aa,
                results: ra,
                ..
            },
            Entry::Call {
                function: fb,
                arguments: ab,
                results: rb,
                ..
            },
        ) => fa == fb && aa == ab && ra == rb,
        _ => a == b,
    }
}
