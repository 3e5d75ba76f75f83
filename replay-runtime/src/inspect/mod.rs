//! Reading a recording without the program that made it: what the
//! `replay` command-line tool (`replay dump`, `diff`, `stats`) shows.
//!
//! A recording names every function it calls and keeps each call's
//! arguments and results as postcard bytes. Without the program's types
//! the bytes cannot be decoded for certain; [`Value`]'s `Display` shows
//! them in hex with a best guess at what they hold. (The `replay` command
//! goes further: it decodes the types a call's recorded signature names.)
//!
//! ```
//! use replay_runtime::inspect::{Entry, Inspection};
//! use replay_runtime::{Session, deterministic};
//!
//! #[deterministic]
//! fn answer() -> u32 {
//!     42
//! }
//!
//! # fn main() -> Result<(), replay_runtime::Error> {
//! # let path = std::env::temp_dir().join(format!("inspect-doc-{}.replay", std::process::id()));
//! let session = Session::record(&path)?;
//! answer();
//! session.finish()?;
//!
//! let recording = Inspection::open(&path)?;
//! for thread in recording.threads() {
//!     for entry in recording.entries(thread)? {
//!         if let Entry::Call { function, .. } = entry? {
//!             assert!(function.ends_with("::answer"));
//!         }
//!     }
//! }
//! # std::fs::remove_file(&path).ok();
//! # Ok(())
//! # }
//! ```

use std::path::Path;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::recording::Metadata;
use crate::recording::event::Event;
use crate::recording::reader::Recording;
pub use crate::recording::reader::Storage;

mod display;
mod meeting;

pub use meeting::Meeting;

/// A recording, validated, ready to be read stream by stream.
pub struct Inspection {
    recording: Recording,
}

/// One event of a thread's stream.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Entry {
    /// A recorded call.
    Call {
        /// Its number on its thread, from 1, in the order calls began (a
        /// call that called back comes before the calls its callbacks
        /// made): `thread:call` in reports, `REPLAY_BREAK` and dumps.
        number: u64,
        /// The function, as the recording names it.
        function: Arc<str>,
        /// Its signature as written.
        signature: Arc<str>,
        /// The recorded arguments.
        arguments: Value,
        /// The recorded result and out-parameters.
        results: Value,
    },
    /// A call whose foreign function called back into Rust begins: the
    /// callbacks and the calls they made follow, then the call itself
    /// (an [`Entry::Call`], shown when it returned, numbered when it began).
    Opened {
        /// The function, as the recording names it.
        function: Arc<str>,
    },
    /// Foreign code called a callback.
    Callback {
        /// The callback, as the recording names it.
        function: Arc<str>,
        /// Its signature as written.
        signature: Arc<str>,
        /// The recorded arguments.
        arguments: Value,
    },
    /// The innermost callback returned.
    Returned {
        /// The recorded return value.
        result: Value,
    },
    /// A recorded call panicked (format version 3): replay raises the
    /// same panic at the same call.
    Panicked {
        /// Its number on its thread, from 1, in the order calls began (a
        /// call that called back comes before the calls its callbacks
        /// made): `thread:call` in reports, `REPLAY_BREAK` and dumps.
        number: u64,
        /// The function, as the recording names it.
        function: Arc<str>,
        /// Its signature as written.
        signature: Arc<str>,
        /// The recorded arguments.
        arguments: Value,
        /// The panic's message.
        message: String,
    },
    /// Where threads met (a spawn, a lock, a receive); its `Display` says
    /// it in words.
    Thread(Meeting),
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

    /// Opens what a killed recorder left (its `.partial` file) or a
    /// damaged recording: validated up to the first chunk that is cut
    /// short or damaged, which [`Self::cut`] describes; the rest is left
    /// out. The header must be whole.
    pub fn open_salvaging(path: impl AsRef<Path>) -> Result<Inspection> {
        Ok(Inspection {
            recording: Recording::open_salvaging(path.as_ref())?,
        })
    }

    /// With [`Self::open_salvaging`], why reading stopped before the
    /// file's end, and the bytes before that point; `None` if the whole
    /// file was read.
    pub fn cut(&self) -> Option<(u64, &str)> {
        self.recording
            .cut
            .as_ref()
            .map(|cut| (cut.kept, cut.why.as_str()))
    }

    /// The recording's format version: from 2 on, a call's arguments end
    /// with the value each of its `&mut` parameters (not marked `#[out]`)
    /// held before the call.
    pub fn version(&self) -> u16 {
        self.recording.version
    }

    /// How the recording's chunks are stored: how many are compressed, and
    /// how many bytes of events their payloads hold and take.
    pub fn storage(&self) -> Storage {
        self.recording.storage
    }

    /// The recording's header.
    pub fn metadata(&self) -> &Metadata {
        &self.recording.metadata
    }

    /// The recording's threads (their streams), in order.
    pub fn threads(&self) -> Vec<u32> {
        self.recording.streams.numbers().collect()
    }

    /// One thread's events, in order, collected (see [`Self::entries`]
    /// to read them one at a time instead).
    pub fn events(&self, thread: u32) -> Result<Vec<Entry>> {
        self.entries(thread)?.collect()
    }

    /// One thread's events, read as they are iterated: memory stays
    /// bounded by one chunk, whatever the recording's size.
    pub fn entries(&self, thread: u32) -> Result<Entries> {
        Ok(Entries {
            reader: self.recording.stream(thread),
            path: self.recording.path.clone(),
            sites: Vec::new(),
            number: 0,
            open: Vec::new(),
        })
    }
}

/// One thread's events; see [`Inspection::entries`].
pub struct Entries {
    reader: crate::recording::stream::StreamReader,
    path: std::path::PathBuf,
    sites: Vec<(Arc<str>, Arc<str>)>,
    number: u64,
    /// The calls open around the current event: site, digested,
    /// arguments, number.
    open: Vec<(u64, bool, Vec<u8>, u64)>,
}

impl Iterator for Entries {
    type Item = Result<Entry>;

    fn next(&mut self) -> Option<Result<Entry>> {
        loop {
            let event = match self.reader.next_event() {
                Ok(event) => event?,
                Err(source) => {
                    return Some(Err(Error::Io {
                        action: "read",
                        path: self.path.clone(),
                        source,
                    }));
                }
            };
            return Some(Ok(match event {
                Event::Define {
                    name, signature, ..
                } => {
                    self.sites.push((name.into(), signature.into()));
                    continue;
                }
                Event::Call {
                    site,
                    digested,
                    args,
                    rest,
                } => {
                    self.number += 1;
                    call(self.number, &self.sites, site, digested, args, rest)
                }
                Event::OpenCall {
                    site,
                    digested,
                    args,
                } => {
                    // Numbered as it begins, before the calls its
                    // callbacks make: as replay counts them.
                    self.number += 1;
                    self.open.push((site, digested, args.to_vec(), self.number));
                    Entry::Opened {
                        function: site_of(&self.sites, site).0,
                    }
                }
                Event::CloseCall { rest } => {
                    // Validation guarantees a call is open.
                    let (site, digested, args, number) = self.open.pop().unwrap_or_default();
                    call(number, &self.sites, site, digested, &args, rest)
                }
                Event::Callback { site, args } => {
                    let (function, signature) = site_of(&self.sites, site);
                    Entry::Callback {
                        function,
                        signature,
                        arguments: Value::Bytes(args.to_vec()),
                    }
                }
                Event::Returned { ret } => Entry::Returned {
                    result: Value::Bytes(ret.to_vec()),
                },
                Event::Panicked { message } => {
                    // Validation guarantees a call is open: the innermost.
                    let (site, digested, args, number) = self.open.pop().unwrap_or_default();
                    let (function, signature) = site_of(&self.sites, site);
                    Entry::Panicked {
                        number,
                        function,
                        signature,
                        arguments: arguments(digested, &args),
                        message: message.to_owned(),
                    }
                }
                Event::Thread(event) => Entry::Thread(Meeting::from(event)),
                Event::End => Entry::End,
            }));
        }
    }
}

/// A site's name and signature.
fn site_of(sites: &[(Arc<str>, Arc<str>)], site: u64) -> (Arc<str>, Arc<str>) {
    // Validation guarantees the site was defined before.
    sites
        .get(site as usize)
        .cloned()
        .unwrap_or_else(|| ("?".into(), "?".into()))
}

/// A call returned: call `number` of its thread.
fn call(
    number: u64,
    sites: &[(Arc<str>, Arc<str>)],
    site: u64,
    digested: bool,
    args: &[u8],
    rest: &[u8],
) -> Entry {
    let (function, signature) = site_of(sites, site);
    Entry::Call {
        number,
        function,
        signature,
        arguments: arguments(digested, args),
        results: Value::Bytes(rest.to_vec()),
    }
}

/// A call's recorded arguments: bytes, or one digest each.
fn arguments(digested: bool, args: &[u8]) -> Value {
    if digested {
        Value::Digests(
            args.chunks_exact(8)
                .map(|c| u64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
                .collect(),
        )
    } else {
        Value::Bytes(args.to_vec())
    }
}

pub use crate::recording::printable;

/// What [`salvage`] recovered.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Salvaged {
    /// Bytes kept: the header and every complete chunk.
    pub kept: u64,
    /// Bytes left out: the chunk the writer was cut off in, and what follows.
    pub dropped: u64,
    /// Why the rest was left out, if anything was.
    pub why: Option<String>,
    /// Recorded calls in what was kept.
    pub calls: u64,
}

/// Recovers what a killed recorder wrote: copies the header and every
/// complete chunk of `from` (the `<name>.<pid>.<n>.partial` file it left
/// beside its recording, or a damaged recording) into a recording at `to`,
/// written as recordings are (aside, synced, then renamed; mode 0600). The
/// recovered recording has no end marker: replay follows it as far as it
/// goes and says so if the program goes further.
///
/// ```no_run
/// # fn main() -> Result<(), replay_runtime::Error> {
/// let saved = replay_runtime::inspect::salvage("run.replay.4242.0.partial", "run.replay")?;
/// eprintln!("kept {} call(s), {} byte(s) left out", saved.calls, saved.dropped);
/// # Ok(())
/// # }
/// ```
pub fn salvage(from: impl AsRef<Path>, to: impl AsRef<Path>) -> Result<Salvaged> {
    let kept = crate::recording::salvage::salvage(from.as_ref(), to.as_ref())?;
    Ok(Salvaged {
        kept: kept.bytes,
        dropped: kept.dropped,
        why: kept.why,
        calls: kept.calls,
    })
}

/// The function a patch marker is recorded as a call to (see
/// [`patched`](crate::patched)): its one argument is the patch's name.
pub const PATCH_FUNCTION: &str = crate::site::PATCH_NAME;

impl Entry {
    /// The patch's name, if this is the marker [`patched`](crate::patched)
    /// recorded: a call to [`PATCH_FUNCTION`].
    pub fn patch(&self) -> Option<String> {
        match self {
            Entry::Call {
                function,
                arguments: Value::Bytes(bytes),
                ..
            } if **function == *PATCH_FUNCTION => match postcard::take_from_bytes(bytes) {
                Ok((name, [])) => Some(name),
                _ => None,
            },
            _ => None,
        }
    }
}
