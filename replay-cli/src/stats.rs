//! `replay stats`: calls and bytes per function, events per thread, and
//! the patches the recording was made with.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use replay_runtime::inspect::{Entry, Inspection, Value, printable};

use crate::output::{Failure, Out, outln};

/// What `stats` counts of one function: its calls on every thread.
struct Function {
    function: Arc<str>,
    signature: Arc<str>,
    calls: u64,
    bytes: u64,
}

/// Writes the recording at `file`'s counts to `out`.
pub fn stats(file: &Path, out: &mut Out) -> Result<(), Failure> {
    let recording = Inspection::open(file)?;
    let bytes = std::fs::metadata(file).map_or(0, |m| m.len());
    let threads = recording.threads();
    outln!(
        out,
        "{}: {bytes} bytes, {} thread(s)",
        file.display(),
        threads.len()
    )?;
    let storage = recording.storage();
    outln!(
        out,
        "format version {}: {} chunk(s), {} compressed; {} bytes of events stored in {} ({:.1}x)",
        recording.version(),
        storage.chunks,
        storage.compressed,
        storage.events,
        storage.stored,
        storage.events as f64 / storage.stored.max(1) as f64
    )?;
    // One line per function, whichever threads called it.
    let mut functions: Vec<Function> = Vec::new();
    // The patch markers, by name: the threads that hold one.
    let mut patches: Vec<(String, Vec<u32>)> = Vec::new();
    let mut by_name: HashMap<(Arc<str>, Arc<str>), usize> = HashMap::new();
    for thread in threads {
        // A stream defines each of its call sites once, so a site's name is
        // one shared string: looked up by name once, then by address (a
        // hostile file's huge name is never hashed per call). The `Arc`
        // kept beside its address keeps the address from being reused.
        let mut sites: HashMap<*const u8, (Arc<str>, usize)> = HashMap::new();
        let (mut calls, mut meetings, mut callbacks, mut ended) = (0u64, 0u64, 0u64, false);
        let mut panics = 0u64;
        for entry in recording.entries(thread)? {
            let entry = entry?;
            if let Some(name) = entry.patch() {
                match patches.iter_mut().find(|(n, _)| *n == name) {
                    Some((_, threads)) => threads.push(thread),
                    None => patches.push((name, vec![thread])),
                }
            }
            match entry {
                Entry::Call {
                    function,
                    signature,
                    arguments,
                    results,
                    ..
                } => {
                    calls += 1;
                    let (_, index) =
                        sites
                            .entry(Arc::as_ptr(&function).cast())
                            .or_insert_with(|| {
                                let key = (function.clone(), signature.clone());
                                let index = *by_name.entry(key).or_insert_with(|| {
                                    functions.push(Function {
                                        function: function.clone(),
                                        signature,
                                        calls: 0,
                                        bytes: 0,
                                    });
                                    functions.len() - 1
                                });
                                (function.clone(), index)
                            });
                    let counted = &mut functions[*index];
                    counted.calls += 1;
                    counted.bytes += size(&arguments) + size(&results);
                }
                Entry::Panicked { .. } => {
                    calls += 1;
                    panics += 1;
                }
                Entry::Thread(_) => meetings += 1,
                Entry::Callback { .. } => callbacks += 1,
                Entry::End => ended = true,
                // The start of a call that called back, a callback's return.
                _ => {}
            }
        }
        let callbacks = match callbacks {
            0 => String::new(),
            n => format!(", {n} callback(s)"),
        };
        let panics = match panics {
            0 => String::new(),
            n => format!(", {n} panicked"),
        };
        outln!(
            out,
            "  thread {thread}: {calls} call(s){callbacks}{panics}, {meetings} thread \
             event(s){}",
            if ended { "" } else { ", no end marker" }
        )?;
    }
    write_patches(out, &patches)?;
    outln!(
        out,
        "calls per function (count, bytes of arguments and results):"
    )?;
    functions.sort_by(|a, b| {
        b.calls
            .cmp(&a.calls)
            .then_with(|| a.function.cmp(&b.function))
            .then_with(|| a.signature.cmp(&b.signature))
    });
    for counted in functions {
        outln!(
            out,
            "  {:>8} {:>10}  {}  {}",
            counted.calls,
            counted.bytes,
            printable(&counted.function),
            printable(&counted.signature)
        )?;
    }
    Ok(())
}

/// The patches the recording was made with (`replay_runtime::patched`),
/// with the threads whose streams hold their markers.
fn write_patches(out: &mut Out, patches: &[(String, Vec<u32>)]) -> Result<(), Failure> {
    if patches.is_empty() {
        return outln!(out, "patches: none");
    }
    outln!(out, "patches (markers of replay_runtime::patched):")?;
    for (name, threads) in patches {
        let threads: Vec<String> = threads.iter().map(u32::to_string).collect();
        outln!(
            out,
            "  {}  on thread(s) {}",
            printable(&format!("{name:?}")),
            threads.join(", ")
        )?;
    }
    Ok(())
}

/// The bytes a value takes in the recording.
fn size(value: &Value) -> u64 {
    match value {
        Value::Bytes(bytes) => bytes.len() as u64,
        Value::Digests(digests) => digests.len() as u64 * 8,
    }
}
