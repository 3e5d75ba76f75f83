//! Threads that follow their parent's session: drop-in counterparts of
//! `std::thread::spawn` and `std::thread::Builder`.
//!
//! A thread spawned here records into (or replays from) a stream of its own
//! in the session's one recording file. Its deterministic id is the
//! stream's number, which the parent records at the spawn, in its own
//! order: never an OS thread id. Threads spawned with `std::thread` run
//! unrecorded, as threads without a session do.
//!
//! ```
//! # fn main() -> Result<(), replay_runtime::Error> {
//! # let path = std::env::temp_dir().join(format!("thread-doc-{}.replay", std::process::id()));
//! let session = replay_runtime::Session::record(&path)?;
//! let worker = replay_runtime::thread::spawn(|| 6 * 7);
//! assert_eq!(worker.join().unwrap(), 42);
//! session.finish()?;
//! # std::fs::remove_file(&path).ok();
//! # Ok(())
//! # }
//! ```

use std::io;
use std::panic::Location;

use crate::session;

/// Spawns a thread that follows this thread's session, as
/// [`std::thread::spawn`] does a thread.
///
/// # Panics
///
/// If the OS cannot create a thread, as `std::thread::spawn` does; and, in
/// replay, with a report beginning `replay diverged` if the recording did
/// not spawn a thread here.
#[track_caller]
pub fn spawn<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    Builder::new()
        .spawn(f)
        .unwrap_or_else(|e| panic!("failed to spawn thread: {e}"))
}

/// Configures a thread before spawning it, as [`std::thread::Builder`].
#[derive(Debug)]
#[must_use = "a builder does nothing until `spawn` is called"]
pub struct Builder {
    inner: std::thread::Builder,
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

impl Builder {
    /// A builder with std's defaults.
    pub fn new() -> Builder {
        Builder {
            inner: std::thread::Builder::new(),
        }
    }

    /// Names the thread (for panics and debuggers).
    pub fn name(self, name: String) -> Builder {
        Builder {
            inner: self.inner.name(name),
        }
    }

    /// Sets the thread's stack size in bytes.
    pub fn stack_size(self, size: usize) -> Builder {
        Builder {
            inner: self.inner.stack_size(size),
        }
    }

    /// Spawns the thread; it follows this thread's session.
    #[track_caller]
    pub fn spawn<F, T>(self, f: F) -> io::Result<JoinHandle<T>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let inherited = session::inherit(Location::caller());
        let inner = self.inner.spawn(move || {
            // Ended (written out, or checked) when the thread finishes,
            // after `f`'s values are dropped.
            let _session = inherited.map(session::Inherited::install);
            f()
        })?;
        Ok(JoinHandle { inner })
    }
}

/// An owned permission to join a thread, as [`std::thread::JoinHandle`].
#[derive(Debug)]
pub struct JoinHandle<T> {
    inner: std::thread::JoinHandle<T>,
}

impl<T> JoinHandle<T> {
    /// Waits for the thread to finish; its result, or its panic's payload.
    pub fn join(self) -> std::thread::Result<T> {
        self.inner.join()
    }

    /// The underlying thread.
    pub fn thread(&self) -> &std::thread::Thread {
        self.inner.thread()
    }

    /// Whether the thread has finished.
    pub fn is_finished(&self) -> bool {
        self.inner.is_finished()
    }
}
