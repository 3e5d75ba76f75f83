//! `replay diff`: where two recordings first differ, with the events
//! before.
//!
//! Linear in the recordings: each thread's events are read once from
//! each, the threads are looked up in sets, and the names and signatures
//! events carry are compared as numbers, each string hashed once however
//! many calls name it (a hostile file's 1 MiB name is not compared per
//! call).

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

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
    let ours: BTreeSet<u32> = left.threads().into_iter().collect();
    let theirs: BTreeSet<u32> = right.threads().into_iter().collect();
    let mut compared = 0u64;
    for &thread in ours.union(&theirs) {
        let mut xs = events(&left, ours.contains(&thread), thread)?;
        let mut ys = events(&right, theirs.contains(&thread), thread)?;
        let mut names = Names::default();
        let mut before = VecDeque::with_capacity(CONTEXT);
        for index in 1u64.. {
            match (xs.next().transpose()?, ys.next().transpose()?) {
                (None, None) => break,
                (Some(x), Some(y)) if names.same(&x, &y) => {
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
    has: bool,
    thread: u32,
) -> Result<Box<dyn Iterator<Item = Result<Entry, Error>>>, Error> {
    Ok(match has {
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

/// The names and signatures of one thread's events as numbers, equal when
/// their text is.
#[derive(Default)]
struct Names {
    /// By the address of a recording's shared string (each site's name and
    /// signature is one), which the `Arc` beside it keeps from reuse.
    known: HashMap<*const u8, (Arc<str>, usize)>,
    /// By text: each string is hashed here once.
    numbers: HashMap<Arc<str>, usize>,
}

impl Names {
    fn number(&mut self, text: &Arc<str>) -> usize {
        let address = Arc::as_ptr(text).cast::<u8>();
        if let Some(&(_, number)) = self.known.get(&address) {
            return number;
        }
        let next = self.numbers.len();
        let number = *self.numbers.entry(text.clone()).or_insert(next);
        self.known.insert(address, (text.clone(), number));
        number
    }

    fn same_name(&mut self, a: &Arc<str>, b: &Arc<str>) -> bool {
        self.number(a) == self.number(b)
    }

    /// Whether two events are the same: a call's number is not compared.
    fn same(&mut self, a: &Entry, b: &Entry) -> bool {
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
            ) => aa == ab && ra == rb && self.same_name(fa, fb),
            (Entry::Opened { function: fa }, Entry::Opened { function: fb }) => {
                self.same_name(fa, fb)
            }
            (
                Entry::Callback {
                    function: fa,
                    signature: sa,
                    arguments: aa,
                },
                Entry::Callback {
                    function: fb,
                    signature: sb,
                    arguments: ab,
                },
            ) => aa == ab && self.same_name(fa, fb) && self.same_name(sa, sb),
            // No names: their contents are the events' own bytes.
            _ => a == b,
        }
    }
}
