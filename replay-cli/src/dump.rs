//! `replay dump`: every event, thread by thread, with its values, each
//! named `thread:call` (see `names.rs`).

use std::path::Path;

use replay_runtime::inspect::{Inspection, printable};

use crate::decode::Decoder;
use crate::names::Namer;
use crate::output::{Failure, Out, outln};

/// Writes every event of the recording at `file` to `out`.
pub fn dump(file: &Path, out: &mut Out) -> Result<(), Failure> {
    let recording = Inspection::open(file)?;
    let meta = recording.metadata();
    outln!(
        out,
        "{}: recorded by {} ({}), at {} s since the epoch",
        file.display(),
        printable(&meta.program),
        printable(&meta.library),
        meta.created_unix_secs
    )?;
    for thread in recording.threads() {
        outln!(out, "thread {thread}:")?;
        let mut decoder = Decoder::for_version(recording.version());
        let mut namer = Namer::new(thread);
        for entry in recording.entries(thread)? {
            let entry = entry?;
            let name = namer.name(&entry);
            outln!(out, "  {name:>10}  {}", decoder.describe(&entry))?;
        }
    }
    Ok(())
}
