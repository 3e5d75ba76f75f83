//! `replay`: reads recordings without the program that made them.
//!
//! ```text
//! replay dump FILE      every event, thread by thread, with its values
//! replay diff A B       where two recordings first differ, with context
//! replay stats FILE     calls per function, bytes, threads
//! ```
//!
//! Values are decoded with the types of the call's recorded signature
//! where they are known (`decode.rs` per event, `values.rs` per value;
//! `signature.rs` and `type_syntax.rs` read the signature), and shown in hex
//! with a guess otherwise. Hostile files get a clear error (exit status 2),
//! never a panic; every command reads one chunk of a thread at a time, so
//! memory stays bounded whatever a file claims.

mod decode;
mod lex;
mod signature;
mod type_syntax;
mod types;
mod values;

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use replay_runtime::Error;
use replay_runtime::inspect::{Entry, Inspection, Value, printable};

use crate::decode::Decoder;

/// The help's last section: a command's exit statuses, then the one they
/// all share.
macro_rules! exit_status {
    ($($line:literal),*) => {
        concat!(
            "Exit status:\n",
            $("  ", $line, "\n",)*
            "  2  an error (a file that cannot be read or is not a valid recording) or bad usage"
        )
    };
}

/// Reads replay recordings without the program that made them.
#[derive(Parser)]
#[command(
    name = "replay",
    version,
    propagate_version = true,
    after_help = exit_status!(
        "0  success; for `diff`, the recordings hold the same events",
        "1  `diff` found a difference"
    )
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Every event, thread by thread: each call with its arguments and results
    ///
    /// Values are decoded with the types the call's recorded signature
    /// names. Where it names types the command cannot know (the program's
    /// own structs, handles), they are shown in hex, with a guess marked `~`.
    #[command(verbatim_doc_comment, after_help = exit_status!("0  success"))]
    Dump {
        /// The recording
        file: PathBuf,
    },
    /// Where two recordings first differ, with the events before
    #[command(after_help = exit_status!(
        "0  the recordings hold the same events",
        "1  the recordings differ"
    ))]
    Diff {
        /// One recording
        a: PathBuf,
        /// The other
        b: PathBuf,
    },
    /// Calls and bytes per function, events per thread
    #[command(after_help = exit_status!("0  success"))]
    Stats {
        /// The recording
        file: PathBuf,
    },
}

fn main() -> ExitCode {
    // Help and `--version` exit with 0, bad usage with 2.
    let cli = Cli::parse();
    let outcome = match &cli.command {
        Command::Dump { file } => dump(file).map(|()| ExitCode::SUCCESS),
        Command::Diff { a, b } => diff(a, b),
        Command::Stats { file } => stats(file).map(|()| ExitCode::SUCCESS),
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
        let mut decoder = Decoder::for_version(recording.version());
        for (i, entry) in recording.entries(thread)?.enumerate() {
            println!("  {:>6}  {}", i + 1, decoder.show(&entry?));
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
        // Recordings of two versions show their in/out values alike only
        // where both have them: the left one's version decides.
        let mut decoder = Decoder::for_version(left.version());
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
                println!("  {i:>6}  {}", decoder.show(entry));
            }
            let mut show = |entry: Option<&Entry>| {
                entry.map_or_else(
                    || "(nothing: the thread's events end here)".to_owned(),
                    |entry| decoder.show(entry),
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
    // One line per function, whichever threads called it.
    let mut functions: Vec<Function> = Vec::new();
    let mut by_name: HashMap<(Arc<str>, Arc<str>), usize> = HashMap::new();
    let mut lines = Vec::new();
    for thread in recording.threads() {
        // A stream defines each of its call sites once, so a site's name is
        // one shared string: looked up by name once, then by address (a
        // hostile file's huge name is never hashed per call). The `Arc`
        // kept beside its address keeps the address from being reused.
        let mut sites: HashMap<*const u8, (Arc<str>, usize)> = HashMap::new();
        let (mut calls, mut meetings, mut callbacks, mut ended) = (0u64, 0u64, 0u64, false);
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
        lines.push(format!(
            "  thread {thread}: {calls} call(s){callbacks}, {meetings} thread event(s){}",
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
    functions.sort_by(|a, b| {
        b.calls
            .cmp(&a.calls)
            .then_with(|| a.function.cmp(&b.function))
            .then_with(|| a.signature.cmp(&b.signature))
    });
    for counted in functions {
        println!(
            "  {:>8} {:>10}  {}  {}",
            counted.calls,
            counted.bytes,
            printable(&counted.function),
            printable(&counted.signature)
        );
    }
    Ok(())
}

/// What `stats` counts of one function: its calls on every thread.
struct Function {
    function: Arc<str>,
    signature: Arc<str>,
    calls: u64,
    bytes: usize,
}
