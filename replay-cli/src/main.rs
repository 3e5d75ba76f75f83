//! `replay`: reads recordings without the program that made them.
//!
//! ```text
//! replay dump FILE      every event, thread by thread
//! replay diff A B       where two recordings first differ, with context
//! replay stats FILE     calls per function, bytes, threads
//! ```
//!
//! Hostile files get a clear error (exit status 2), never a panic; every
//! command reads one chunk of a thread at a time, so memory stays bounded
//! whatever a file claims.

use std::collections::{HashMap, VecDeque};
use std::ffi::OsString;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use replay_runtime::Error;
use replay_runtime::inspect::{Entry, Inspection, Value, printable};

const USAGE: &str = "usage: replay dump FILE | replay diff A B | replay stats FILE";

fn main() -> ExitCode {
    // Paths need not be UTF-8.
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let command = args.first().and_then(|c| c.to_str()).unwrap_or_default();
    let files: Vec<&Path> = args.iter().skip(1).map(Path::new).collect();
    let outcome = match (command, &files[..]) {
        ("dump", [file]) => dump(file).map(|()| ExitCode::SUCCESS),
        ("diff", [a, b]) => diff(a, b),
        ("stats", [file]) => stats(file).map(|()| ExitCode::SUCCESS),
        ("--help" | "-h" | "help", []) => {
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

fn dump(file: &Path) -> Result<(), Error> {
    let recording = Inspection::open(file)?;
    let meta = recording.metadata();
    println!(
        "{}: recorded by {} ({}), at {} s since the epoch",
        file.display(),
        printable(&meta.program),
        printable(&meta.library),
        meta.created_unix_secs
    );
    for thread in recording.threads() {
        println!("thread {thread}:");
        for (i, entry) in recording.entries(thread)?.enumerate() {
            println!("  {:>6}  {}", i + 1, entry?);
        }
    }
    Ok(())
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

/// Events shown before the first difference.
const CONTEXT: usize = 2;

fn diff(a: &Path, b: &Path) -> Result<ExitCode, Error> {
    let (left, right) = (Inspection::open(a)?, Inspection::open(b)?);
    let mut threads = left.threads();
    threads.extend(right.threads());
    threads.sort_unstable();
    threads.dedup();
    let mut compared = 0u64;
    for thread in threads {
        let mut ours = entries(&left, thread)?;
        let mut theirs = entries(&right, thread)?;
        let mut before = VecDeque::with_capacity(CONTEXT);
        for index in 1u64.. {
            let (x, y) = (ours.next().transpose()?, theirs.next().transpose()?);
            match (&x, &y) {
                (None, None) => break,
                (Some(x), Some(y)) if same(x, y) => {
                    compared += 1;
                    if before.len() == CONTEXT {
                        before.pop_front();
                    }
                    before.push_back((index, x.clone()));
                    continue;
                }
                _ => {}
            }
            println!(
                "the recordings first differ on thread {thread}, at event {index} (as `replay dump` numbers them):"
            );
            for (i, entry) in &before {
                println!("  {i:>6}  {entry}");
            }
            let show = |entry: Option<&Entry>| {
                entry.map_or(
                    "(nothing: the thread's events end here)".to_owned(),
                    ToString::to_string,
                )
            };
            println!("  {}:\n  {index:>6}  {}", a.display(), show(x.as_ref()));
            println!("  {}:\n  {index:>6}  {}", b.display(), show(y.as_ref()));
            return Ok(ExitCode::from(1));
        }
    }
    println!("the recordings hold the same events ({compared} compared)");
    Ok(ExitCode::SUCCESS)
}

/// A thread's events, or none if the recording has no such thread.
fn entries(
    recording: &Inspection,
    thread: u32,
) -> Result<Box<dyn Iterator<Item = Result<Entry, Error>>>, Error> {
    if recording.threads().contains(&thread) {
        Ok(Box::new(recording.entries(thread)?))
    } else {
        Ok(Box::new(std::iter::empty()))
    }
}

fn size(value: &Value) -> usize {
    match value {
        Value::Bytes(bytes) => bytes.len(),
        Value::Digests(digests) => digests.len() * 8,
    }
}

fn stats(file: &Path) -> Result<(), Error> {
    let recording = Inspection::open(file)?;
    let bytes = std::fs::metadata(file).map_or(0, |m| m.len());
    // By call site: the recording defines each once, so its name is one
    // shared string (a hostile file's huge name is never copied per call).
    let mut functions: HashMap<*const str, Site> = HashMap::new();
    let mut lines = Vec::new();
    for thread in recording.threads() {
        let (mut calls, mut meetings, mut ended) = (0u64, 0u64, false);
        for entry in recording.entries(thread)? {
            match entry? {
                Entry::Call {
                    function,
                    signature,
                    arguments,
                    results,
                    ..
                } => {
                    calls += 1;
                    let site = functions
                        .entry(Arc::as_ptr(&function))
                        .or_insert_with(|| Site {
                            function: function.clone(),
                            signature,
                            calls: 0,
                            bytes: 0,
                        });
                    site.calls += 1;
                    site.bytes += size(&arguments) + size(&results);
                }
                Entry::Thread(_) => meetings += 1,
                Entry::End => ended = true,
            }
        }
        lines.push(format!(
            "  thread {thread}: {calls} call(s), {meetings} thread event(s){}",
            if ended { "" } else { ", no end marker" }
        ));
    }
    println!(
        "{}: {bytes} bytes, {} thread(s)",
        file.display(),
        lines.len()
    );
    for line in lines {
        println!("{line}");
    }
    println!("calls per function (count, bytes of arguments and results):");
    let mut sites: Vec<_> = functions.into_values().collect();
    sites.sort_by(|a, b| {
        b.calls
            .cmp(&a.calls)
            .then_with(|| a.function.cmp(&b.function))
    });
    for site in sites {
        println!(
            "  {:>8} {:>10}  {}  {}",
            site.calls,
            site.bytes,
            printable(&site.function),
            printable(&site.signature)
        );
    }
    Ok(())
}

/// What `stats` counts of one call site.
struct Site {
    function: Arc<str>,
    signature: Arc<str>,
    calls: u64,
    bytes: usize,
}
