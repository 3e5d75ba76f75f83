//! `replay`: reads recordings without the program that made them.
//!
//! ```text
//! replay dump FILE      every event, thread by thread
//! replay diff A B       where two recordings first differ, with context
//! replay stats FILE     calls per function, bytes, threads
//! ```
//!
//! Hostile files get a clear error (exit status 2), never a panic.

use std::collections::BTreeMap;
use std::process::ExitCode;

use replay_runtime::Error;
use replay_runtime::inspect::{Entry, Inspection, Value};

const USAGE: &str = "usage: replay dump FILE | replay diff A B | replay stats FILE";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["dump", file] => dump(file).map(|()| ExitCode::SUCCESS),
        ["diff", a, b] => diff(a, b),
        ["stats", file] => stats(file).map(|()| ExitCode::SUCCESS),
        ["--help" | "-h" | "help"] => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    outcome.unwrap_or_else(|e| {
        eprintln!("replay: {e}");
        ExitCode::from(2)
    })
}

fn dump(file: &str) -> Result<(), Error> {
    let recording = Inspection::open(file)?;
    let meta = recording.metadata();
    println!(
        "{file}: recorded by {} ({}), at {} s since the epoch",
        meta.program, meta.library, meta.created_unix_secs
    );
    for thread in recording.threads() {
        println!("thread {thread}:");
        for entry in recording.events(thread)? {
            println!("  {entry}");
        }
    }
    Ok(())
}

/// One thread's events, keyed for comparison.
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

fn diff(a: &str, b: &str) -> Result<ExitCode, Error> {
    let (left, right) = (Inspection::open(a)?, Inspection::open(b)?);
    let mut threads = left.threads();
    threads.extend(right.threads());
    threads.sort_unstable();
    threads.dedup();
    let mut compared = 0;
    for thread in threads {
        let (ours, theirs) = (events(&left, thread)?, events(&right, thread)?);
        let first =
            (0..ours.len().max(theirs.len())).find(|&i| match (ours.get(i), theirs.get(i)) {
                (Some(x), Some(y)) => !same(x, y),
                _ => true,
            });
        compared += ours.len().min(theirs.len());
        let Some(i) = first else { continue };
        println!(
            "the recordings first differ on thread {thread}, at event {}:",
            i + 1
        );
        for entry in &ours[i.saturating_sub(2)..i] {
            println!("    {entry}");
        }
        let show = |entry: Option<&Entry>| {
            entry.map_or(
                "(nothing: the thread's events end here)".to_owned(),
                ToString::to_string,
            )
        };
        println!("  {a}:\n    {}", show(ours.get(i)));
        println!("  {b}:\n    {}", show(theirs.get(i)));
        return Ok(ExitCode::from(1));
    }
    println!("the recordings hold the same events ({compared} compared)");
    Ok(ExitCode::SUCCESS)
}

fn events(recording: &Inspection, thread: u32) -> Result<Vec<Entry>, Error> {
    if recording.threads().contains(&thread) {
        recording.events(thread)
    } else {
        Ok(Vec::new())
    }
}

fn size(value: &Value) -> usize {
    match value {
        Value::Bytes(bytes) => bytes.len(),
        Value::Digests(digests) => digests.len() * 8,
    }
}

fn stats(file: &str) -> Result<(), Error> {
    let recording = Inspection::open(file)?;
    let bytes = std::fs::metadata(file).map_or(0, |m| m.len());
    let mut functions: BTreeMap<String, (u64, usize)> = BTreeMap::new();
    let mut lines = Vec::new();
    for thread in recording.threads() {
        let entries = recording.events(thread)?;
        let calls = entries
            .iter()
            .filter(|e| matches!(e, Entry::Call { .. }))
            .count();
        let meetings = entries
            .iter()
            .filter(|e| matches!(e, Entry::Thread(_)))
            .count();
        let ended = entries.last() == Some(&Entry::End);
        lines.push(format!(
            "  thread {thread}: {calls} call(s), {meetings} thread event(s){}",
            if ended { "" } else { ", no end marker" }
        ));
        for entry in entries {
            if let Entry::Call {
                function,
                arguments,
                results,
                ..
            } = entry
            {
                let slot = functions.entry(function).or_default();
                slot.0 += 1;
                slot.1 += size(&arguments) + size(&results);
            }
        }
    }
    println!("{file}: {bytes} bytes, {} thread(s)", lines.len());
    for line in lines {
        println!("{line}");
    }
    println!("calls per function (count, bytes of arguments and results):");
    let mut by_count: Vec<_> = functions.into_iter().collect();
    by_count.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(&b.0)));
    for (function, (count, bytes)) in by_count {
        println!("  {count:>8} {bytes:>10}  {function}");
    }
    Ok(())
}
