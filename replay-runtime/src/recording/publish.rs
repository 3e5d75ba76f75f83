//! Publishing a file atomically: it is written under a name of its own
//! beside its path (created exclusively, never through a symlink, readable
//! by its owner only), synced, then renamed over the path, and the
//! directory synced. Another session's recording published at the path
//! meanwhile is never replaced: the rename is refused with an error, and
//! this one stays under its own name.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Who a file is: device and inode (on Unix), to tell a recording from
/// the one that replaced it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct FileId(u64, u64);

fn file_id(path: &Path) -> Option<FileId> {
    let meta = std::fs::symlink_metadata(path).ok()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Some(FileId(meta.dev(), meta.ino()))
    }
    #[cfg(not(unix))]
    {
        let modified = meta.modified().ok()?;
        let nanos = modified
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        Some(FileId(meta.len(), nanos))
    }
}

/// A file being written under its own temporary name, to be published at
/// `path`.
#[derive(Debug)]
pub(crate) struct Staged {
    path: PathBuf,
    temp: PathBuf,
    /// What was at `path` when this file was created: the only file it
    /// may replace.
    replaces: Option<FileId>,
}

/// Why a file could not be published.
#[derive(Debug)]
pub(crate) enum PublishError {
    /// Syncing, locking or renaming failed.
    Io(io::Error),
    /// Another writer published a file at the path meanwhile.
    Replaced,
}

/// Numbers the temporary files of one process.
static TEMP_SERIAL: AtomicU64 = AtomicU64::new(0);

/// The mode of a new recording: the existing one's, or owner-only.
#[cfg(unix)]
fn mode_for(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .ok()
        .filter(std::fs::Metadata::is_file)
        .map_or(0o600, |m| m.permissions().mode() & 0o777)
}

impl Staged {
    /// Creates the temporary file beside `path`: `<name>.<pid>.<n>.partial`,
    /// created exclusively (a file or symlink already there is an error,
    /// never reused or followed), with the mode of the recording it will
    /// replace, or 0600.
    pub(crate) fn create(path: &Path) -> io::Result<(Staged, File)> {
        let replaces = file_id(path);
        let mut name = path.file_name().unwrap_or_default().to_owned();
        name.push(format!(
            ".{}.{}.partial",
            std::process::id(),
            TEMP_SERIAL.fetch_add(1, Ordering::Relaxed)
        ));
        let temp = path.with_file_name(name);
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        let mode = mode_for(path);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(mode).custom_flags(libc::O_NOFOLLOW);
        }
        let file = options.open(&temp)?;
        // The umask may have taken bits away: set exactly the mode.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(std::fs::Permissions::from_mode(mode))?;
        }
        Ok((
            Staged {
                path: path.to_owned(),
                temp,
                replaces,
            },
            file,
        ))
    }

    /// Where the file is until published.
    pub(crate) fn temp(&self) -> &Path {
        &self.temp
    }

    /// Syncs `file` (the temporary file) and renames it over the path, then
    /// syncs the directory. Refused if another writer published at the
    /// path since this file was created.
    pub(crate) fn publish(&self, file: &File) -> Result<(), PublishError> {
        file.sync_all().map_err(PublishError::Io)?;
        let dir = self
            .path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let dir = File::open(dir).map_err(PublishError::Io)?;
        // Writers of this library publish one at a time in a directory, so
        // that the check below and the rename are one step for them.
        let _lock = DirLock::new(&dir);
        if let Some(now) = file_id(&self.path)
            && Some(now) != self.replaces
        {
            return Err(PublishError::Replaced);
        }
        std::fs::rename(&self.temp, &self.path).map_err(PublishError::Io)?;
        // Not every file system can sync a directory; the rename is done.
        let _ = dir.sync_all();
        Ok(())
    }

    /// Removes the temporary file (it holds nothing worth keeping).
    pub(crate) fn discard(&self) {
        let _ = std::fs::remove_file(&self.temp);
    }
}

/// An exclusive `flock` on a directory, released when dropped.
struct DirLock<'a> {
    #[cfg_attr(not(unix), allow(dead_code))]
    dir: &'a File,
}

impl<'a> DirLock<'a> {
    fn new(dir: &'a File) -> Self {
        #[cfg(unix)]
        {
            use std::os::fd::AsRawFd;
            // SAFETY: `flock` on a descriptor this function borrows.
            // A failure (a file system without locks) leaves it unlocked.
            unsafe { libc::flock(dir.as_raw_fd(), libc::LOCK_EX) };
        }
        DirLock { dir }
    }
}

impl Drop for DirLock<'_> {
    fn drop(&mut self) {
        #[cfg(unix)]
        {
            use std::os::fd::AsRawFd;
            // SAFETY: as in `new`.
            unsafe { libc::flock(self.dir.as_raw_fd(), libc::LOCK_UN) };
        }
    }
}
