//! The recording's file, shared by all its streams: written under a name
//! of its own, then published at its path (see `publish.rs`).

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};

use super::format::{self, MAGIC, Metadata, VERSION, meta_crc};
use super::publish::{PublishError, Staged};
use super::spool::{Output, Spool};
use crate::error::{Error, Result};

/// The file all of a recording's streams write into, through the
/// session's background writer.
pub(crate) struct Sink {
    path: PathBuf,
    output: Arc<Output>,
    spool: Spool,
    /// The temporary file written until it is published at `path` (none
    /// when `path` is a device or a pipe, written directly).
    staged: Option<Staged>,
    published: AtomicBool,
    /// The header written first.
    metadata: Metadata,
}

/// The sinks of the record sessions alive in this process, for the panic
/// hook: under `panic = "abort"` it publishes each before the process ends.
static SINKS: Mutex<Vec<Weak<Sink>>> = Mutex::new(Vec::new());

impl Sink {
    /// Creates the file (and its directory) and writes the header. A
    /// regular file is written beside `path` under a name of its own and
    /// renamed over `path` once published: re-recording never destroys an
    /// existing recording until the new one is complete.
    pub(crate) fn create(path: &Path) -> Result<Arc<Sink>> {
        let io_err = |source| Error::Io {
            action: "create",
            path: path.to_owned(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io_err)?;
        }
        let special = path.metadata().is_ok_and(|m| !m.is_file());
        let (staged, mut file) = if special {
            (None, File::create(path).map_err(io_err)?)
        } else {
            let (staged, file) = Staged::create(path).map_err(io_err)?;
            (Some(staged), file)
        };
        let metadata = Metadata::current();
        let header = header_bytes(&metadata);
        if let Err(source) = file.write_all(&header) {
            if let Some(staged) = &staged {
                staged.discard();
            }
            return Err(Error::Io {
                action: "write",
                path: path.to_owned(),
                source,
            });
        }
        let output = Arc::new(Output::new(file, header.len() as u64));
        let sink = Arc::new(Sink {
            path: path.to_owned(),
            spool: Spool::start(Arc::clone(&output)),
            output,
            staged,
            published: AtomicBool::new(false),
            metadata,
        });
        let mut sinks = SINKS.lock().unwrap_or_else(PoisonError::into_inner);
        sinks.retain(|s| s.strong_count() > 0);
        sinks.push(Arc::downgrade(&sink));
        Ok(sink)
    }

    /// The header this recording starts with.
    pub(crate) fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// Bytes written so far, header included (of what the background
    /// writer has written: all of it once `finish` returned).
    pub(crate) fn bytes(&self) -> u64 {
        self.output.bytes()
    }

    /// Hands a full chunk (header reserved, its length and stream set) to
    /// the background writer; returns an empty buffer for the next one.
    pub(super) fn exchange(&self, chunk: Vec<u8>) -> Vec<u8> {
        self.spool.exchange(chunk)
    }

    /// Waits until the background writer has written every chunk handed
    /// over.
    pub(crate) fn drain(&self) {
        self.spool.drain();
    }

    /// Fails the recording: nothing more is written and `finish` reports why.
    pub(crate) fn fail(&self, reason: String) {
        self.output
            .failed()
            .get_or_insert_with(|| io::Error::other(reason));
    }

    /// Whether a write failed: the recording will not be published.
    fn has_failed(&self) -> bool {
        self.output.failed().is_some()
    }

    /// Moves the recording to its path (once), unless a write failed: from
    /// then on it replaces whatever was there. Writes that follow go on
    /// into the same file.
    pub(crate) fn publish(&self) -> Result<()> {
        // Everything handed over so far is written first.
        self.spool.drain();
        let Some(staged) = &self.staged else {
            return Ok(());
        };
        if self.has_failed() || self.published.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        let file = self.output.file();
        let published = staged.publish(&file);
        if published.is_err() {
            // Not published: a later attempt tries again, and fails again
            // with the same error, rather than finding it done.
            self.published.store(false, Ordering::Release);
        }
        match published {
            Ok(()) => Ok(()),
            Err(PublishError::Replaced) => Err(Error::Replaced {
                path: self.path.clone(),
                kept: staged.temp().to_owned(),
            }),
            Err(PublishError::Io(source)) => Err(Error::Io {
                action: "publish",
                path: self.path.clone(),
                source,
            }),
        }
    }

    /// Publishes the recording, or reports the first write error (the
    /// recording is then not published: the temporary file keeps what was
    /// written, if anything beyond the header, for `replay salvage`).
    pub(crate) fn finish(&self) -> Result<()> {
        self.spool.drain();
        let failed = self.output.failed().take();
        let Some(source) = failed else {
            return match self.published.load(Ordering::Acquire) {
                // Published early (by the panic hook): what followed is
                // made durable too.
                true => self.output.file().sync_all().map_err(|source| Error::Io {
                    action: "write",
                    path: self.path.clone(),
                    source,
                }),
                false => self.publish(),
            };
        };
        // Still failed: nothing more is written, nothing is published.
        self.fail(source.to_string());
        let header = header_bytes(&self.metadata).len() as u64;
        let kept = match &self.staged {
            Some(staged) if self.bytes() <= header => {
                staged.discard();
                None
            }
            Some(staged) => Some(staged.temp().to_owned()),
            None => None,
        };
        Err(Error::WriteFailed {
            path: self.path.clone(),
            kept,
            source,
        })
    }
}

/// From the panic hook under `panic = "abort"`: publishes every record
/// session's recording as written so far, since the process ends without
/// unwinding.
pub(crate) fn publish_all() {
    // `try_lock`: the panic may have struck while this thread held it.
    let Ok(sinks) = SINKS.try_lock().map(|s| s.clone()) else {
        return;
    };
    for sink in sinks.iter().filter_map(Weak::upgrade) {
        let _ = sink.publish();
    }
}

/// The header: magic, version, and the checksummed metadata.
pub(crate) fn header_bytes(meta: &Metadata) -> Vec<u8> {
    let meta = postcard::to_stdvec(meta).unwrap_or_default();
    let mut out = Vec::with_capacity(format::HEADER_FIXED + meta.len() + 4);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&(meta.len() as u32).to_le_bytes());
    out.extend_from_slice(&meta);
    out.extend_from_slice(&meta_crc(VERSION, &meta).to_le_bytes());
    out
}
