//! `replay salvage`: what a killed recorder wrote, as a recording.

use std::path::Path;

use crate::output::{Failure, Out, outln};

/// `replay salvage`: recovers `partial` into `output`, and says how much.
pub fn salvage(partial: &Path, output: &Path, out: &mut Out) -> Result<(), Failure> {
    let saved = replay_runtime::inspect::salvage(partial, output)?;
    outln!(
        out,
        "salvaged {} call(s), {} byte(s), into {}",
        saved.calls,
        saved.kept,
        output.display()
    )?;
    if let Some(why) = &saved.why {
        outln!(out, "left out {} byte(s): {why}", saved.dropped)?;
    }
    Ok(())
}
