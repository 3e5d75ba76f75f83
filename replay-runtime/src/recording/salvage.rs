//! Salvage: what a killed recorder wrote, up to its last complete chunk,
//! copied into a recording that replays.

use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;

use super::publish::{PublishError, Staged};
use super::reader::Recording;
use crate::error::{Error, Result};

/// What [`salvage`] kept of a file.
pub(crate) struct Kept {
    /// Bytes copied: the header and every complete chunk.
    pub(crate) bytes: u64,
    /// Bytes of the file left out.
    pub(crate) dropped: u64,
    /// Why the rest was left out, if anything was.
    pub(crate) why: Option<String>,
    /// Calls in what was kept.
    pub(crate) calls: u64,
}

/// Copies the header and every complete chunk of `from` (a `.partial`
/// left by a killed recorder, or any damaged recording) into a recording
/// published at `to` as recordings are: written aside, synced, renamed.
pub(crate) fn salvage(from: &Path, to: &Path) -> Result<Kept> {
    let recording = Recording::open_salvaging(from)?;
    let len = recording
        .file()
        .metadata()
        .map_err(|source| Error::Io {
            action: "read",
            path: from.to_owned(),
            source,
        })?
        .len();
    let kept = recording.cut.as_ref().map_or(len, |cut| cut.kept);
    let write_err = |source| Error::Io {
        action: "write",
        path: to.to_owned(),
        source,
    };
    if let Some(dir) = to.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(write_err)?;
    }
    let (staged, mut out) = Staged::create(to).map_err(write_err)?;
    let copied = (|| -> io::Result<()> {
        let mut file = recording.file();
        file.seek(SeekFrom::Start(0))?;
        let copied = io::copy(&mut file.take(kept), &mut out)?;
        if copied != kept {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        out.flush()
    })();
    if let Err(source) = copied {
        staged.discard();
        return Err(write_err(source));
    }
    match staged.publish(&out) {
        Ok(()) => {}
        Err(PublishError::Io(source)) => {
            staged.discard();
            return Err(write_err(source));
        }
        Err(PublishError::Replaced) => {
            return Err(Error::Replaced {
                path: to.to_owned(),
                kept: staged.temp().to_owned(),
            });
        }
    }
    Ok(Kept {
        bytes: kept,
        dropped: len - kept,
        why: recording.cut.map(|cut| cut.why),
        calls: recording.streams.indexes().map(|s| s.calls).sum(),
    })
}
