//! Reading a recording without the program that made it: what the
//! `replay` command-line tool (`replay dump`, `diff`, `stats`) shows.
//!
//! A recording names every function it calls and keeps each call's
//! arguments and results as postcard bytes. Without the program's types
//! the bytes cannot be decoded for certain; [`Value`]'s `Display` shows
//! them in hex with a best guess at what they hold.

use std::fmt;
use std::path::Path;

use crate::error::{Error, Result};
use crate::recording::Metadata;
use crate::recording::format::{Event, take_varint};
use crate::recording::reader::Recording;
use crate::replayer;

/// A recording, validated, ready to be read stream by stream.
pub struct Inspection {
    recording: Recording,
}

/// One event of a thread's stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// A recorded call.
    Call {
        /// Its number on its thread, from 1.
        number: u64,
        /// The function, as the recording names it.
        function: String,
        /// Its signature as written.
        signature: String,
        /// The recorded arguments.
        arguments: Value,
        /// The recorded result and out-parameters.
        results: Value,
    },
    /// Where threads met (a spawn, a lock, a receive), in words.
    Thread(String),
    /// The stream ended cleanly.
    End,
}

/// Recorded bytes of arguments or results.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// Postcard bytes.
    Bytes(Vec<u8>),
    /// Arguments too large to store: one 64-bit digest each.
    Digests(Vec<u64>),
}

impl Inspection {
    /// Opens and validates the recording at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Inspection> {
        Ok(Inspection {
            recording: Recording::open(path.as_ref())?,
        })
    }

    /// The recording's header.
    pub fn metadata(&self) -> &Metadata {
        &self.recording.metadata
    }

    /// The recording's threads (their streams), in order.
    pub fn threads(&self) -> Vec<u32> {
        self.recording.streams.keys().copied().collect()
    }

    /// One thread's events, in order.
    pub fn events(&self, thread: u32) -> Result<Vec<Entry>> {
        let mut reader = self.recording.stream(thread)?;
        let mut sites: Vec<(String, String)> = Vec::new();
        let mut entries = Vec::new();
        let mut number = 0;
        loop {
            let event = reader.next_event().map_err(|source| Error::Io {
                action: "read",
                path: self.recording.path.clone(),
                source,
            })?;
            match event {
                None => return Ok(entries),
                Some(Event::Define {
                    name, signature, ..
                }) => sites.push((name.to_owned(), signature.to_owned())),
                Some(Event::Call {
                    site,
                    digested,
                    args,
                    rest,
                }) => {
                    number += 1;
                    // Validation guarantees the site was defined before.
                    let (function, signature) =
                        sites.get(site as usize).cloned().unwrap_or_default();
                    let arguments = if digested {
                        Value::Digests(
                            args.chunks_exact(8)
                                .map(|c| u64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
                                .collect(),
                        )
                    } else {
                        Value::Bytes(args.to_vec())
                    };
                    entries.push(Entry::Call {
                        number,
                        function,
                        signature,
                        arguments,
                        results: Value::Bytes(rest.to_vec()),
                    });
                }
                Some(Event::Sync(sync)) => entries.push(Entry::Thread(replayer::describe(sync))),
                Some(Event::End) => entries.push(Entry::End),
            }
        }
    }
}

impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Entry::Call {
                number,
                function,
                arguments,
                results,
                ..
            } if *arguments == Value::Bytes(Vec::new()) => {
                write!(f, "#{number} {function}() -> {results}")
            }
            Entry::Call {
                number,
                function,
                arguments,
                results,
                ..
            } => write!(f, "#{number} {function}({arguments}) -> {results}"),
            Entry::Thread(what) => write!(f, "~ {what}"),
            Entry::End => f.write_str("(end)"),
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Digests(digests) => {
                let shown: Vec<_> = digests.iter().map(|d| format!("digest {d:016x}")).collect();
                f.write_str(&shown.join(", "))
            }
            Value::Bytes(bytes) if bytes.is_empty() => f.write_str("()"),
            Value::Bytes(bytes) => {
                let hex: Vec<_> = bytes.iter().take(24).map(|b| format!("{b:02x}")).collect();
                let more = if bytes.len() > 24 {
                    format!(" …{} bytes", bytes.len())
                } else {
                    String::new()
                };
                write!(f, "[{}{more}]", hex.join(" "))?;
                if let Some(guess) = guess(bytes) {
                    write!(f, " ~ {guess}")?;
                }
                Ok(())
            }
        }
    }
}

/// A best guess at what postcard bytes hold, without their types: a
/// sequence of printable strings (length-prefixed) and integers (varints).
fn guess(bytes: &[u8]) -> Option<String> {
    let mut rest = bytes;
    let mut parts = Vec::new();
    while !rest.is_empty() && parts.len() < 16 {
        let mut after = rest;
        let len = take_varint(&mut after)?;
        let string = usize::try_from(len)
            .ok()
            .filter(|&n| n >= 2 && n <= after.len())
            .and_then(|n| std::str::from_utf8(&after[..n]).ok().map(|s| (n, s)))
            .filter(|(_, s)| s.chars().all(|c| !c.is_control()));
        match string {
            Some((n, s)) => {
                parts.push(format!("{s:?}"));
                rest = &after[n..];
            }
            None => {
                parts.push(len.to_string());
                rest = after;
            }
        }
    }
    rest.is_empty().then(|| parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::guess;

    #[test]
    fn guesses_strings_and_numbers() {
        let mut bytes = postcard::to_stdvec(&(7u32, "hello", 300u64)).unwrap_or_default();
        assert_eq!(guess(&bytes).as_deref(), Some("7, \"hello\", 300"));
        bytes.push(0xff);
        assert_eq!(guess(&bytes), None, "a varint cut short is no guess");
    }
}
