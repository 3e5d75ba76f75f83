//! The recording's file, shared by all its streams: written under a
//! `.partial` name, then published at its path.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use super::format::{self, MAGIC, Metadata, VERSION};
use crate::error::{Error, Result};

/// The file all of a recording's streams write into.
pub(crate) struct Sink {
    path: PathBuf,
    file: Mutex<File>,
    /// The first write error; later writes are skipped and `finish` reports it.
    failed: Mutex<Option<io::Error>>,
    /// Bytes written so far, header included.
    bytes: AtomicU64,
    /// Where the recording is written until it is published at `path`
    /// (none when `path` is a device or a pipe, written directly).
    partial: Option<PathBuf>,
    published: std::sync::atomic::AtomicBool,
    /// The header written first.
    metadata: Metadata,
}

impl Sink {
    /// Creates the file (and its directory) and writes the header. A
    /// regular file is written beside `path`, as `<name>.partial`, and
    /// renamed over `path` once published: re-recording never destroys an
    /// existing recording until the new one is written.
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
        let partial = (!special).then(|| {
            let mut name = path.file_name().unwrap_or_default().to_owned();
            name.push(".partial");
            path.with_file_name(name)
        });
        let mut file = File::create(partial.as_deref().unwrap_or(path)).map_err(io_err)?;
        let metadata = Metadata::current();
        let header = header_bytes(&metadata);
        file.write_all(&header).map_err(|source| Error::Io {
            action: "write",
            path: path.to_owned(),
            source,
        })?;
        let sink = Sink {
            path: path.to_owned(),
            file: Mutex::new(file),
            failed: Mutex::new(None),
            bytes: AtomicU64::new(header.len() as u64),
            partial,
            published: std::sync::atomic::AtomicBool::new(false),
            metadata,
        };
        Ok(Arc::new(sink))
    }

    /// The header this recording starts with.
    pub(crate) fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// Bytes written so far, header included.
    pub(crate) fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    pub(super) fn write(&self, bytes: &[u8]) {
        let mut failed = self.failed.lock().unwrap_or_else(PoisonError::into_inner);
        if failed.is_some() {
            return;
        }
        let mut file = self.file.lock().unwrap_or_else(PoisonError::into_inner);
        match file.write_all(bytes) {
            Ok(()) => {
                self.bytes.fetch_add(bytes.len() as u64, Ordering::Relaxed);
            }
            Err(e) => *failed = Some(e),
        }
    }

    /// Fails the recording: nothing more is written and `finish` reports why.
    pub(super) fn fail(&self, reason: String) {
        let mut failed = self.failed.lock().unwrap_or_else(PoisonError::into_inner);
        failed.get_or_insert_with(|| io::Error::other(reason));
    }

    /// Moves the recording to its path (once): from then on it replaces
    /// whatever was there. Writes that follow go on into the same file.
    pub(crate) fn publish(&self) -> io::Result<()> {
        match &self.partial {
            Some(partial) if !self.published.swap(true, Ordering::SeqCst) => {
                std::fs::rename(partial, &self.path)
            }
            _ => Ok(()),
        }
    }

    /// Flushes the file to the OS, publishes it, and reports the first
    /// write error, if any (an unpublished recording stays `.partial`).
    pub(crate) fn finish(&self) -> Result<()> {
        let failed = self
            .failed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let flushed = match failed {
            Some(e) => Err(e),
            None => self
                .file
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .flush()
                .and_then(|()| self.publish()),
        };
        flushed.map_err(|source| Error::Io {
            action: "write",
            path: self.path.clone(),
            source,
        })
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
    out.extend_from_slice(&crc32fast::hash(&meta).to_le_bytes());
    out
}
