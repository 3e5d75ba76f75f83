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
use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::context::{self, Active, Installed, ThreadMode};
use crate::cursor::Cursor;
use crate::divergence;
use crate::identity;
use crate::recording::format::ThreadEvent;
use crate::recording::writer::StreamWriter;
use crate::shared::{Shared, SharedKind};

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
        let inherited = inherit(Location::caller());
        let inner = self.inner.spawn(move || {
            // Ended (written out, or checked) when the thread finishes,
            // after `f`'s values are dropped.
            let _session = inherited.map(Inherited::install);
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

/// A session, inherited by a thread spawned with `replay_runtime::thread`.
struct Inherited {
    shared: Arc<Shared>,
    stream: u32,
    running: Running,
}

/// On the spawning thread: gives the thread about to be spawned its own
/// stream of the session (recording the spawn, or reading it from the
/// recording). `None` without a session, or inside a recorded call (whose
/// threads are part of it).
#[track_caller]
fn inherit(location: &'static Location<'static>) -> Option<Inherited> {
    let stream = match context::mode() {
        ThreadMode::Record => {
            let stream = context::with_shared(|shared| match &shared.kind {
                // Relaxed: only uniqueness matters, which the counter gives;
                // the spawn event orders the stream in the recording.
                SharedKind::Record { next_stream, .. } => {
                    Some(next_stream.fetch_add(1, Ordering::Relaxed))
                }
                SharedKind::Replay { .. } => None,
            })??;
            context::record_thread_event(ThreadEvent::Spawn { stream });
            stream
        }
        ThreadMode::Replay => context::replay(location, |cursor| {
            cursor.thread_event("a spawn", location, |event| match event {
                ThreadEvent::Spawn { stream } => Some(stream),
                _ => None,
            })
        }),
        ThreadMode::Diverged => divergence::spent("the spawn", location),
        ThreadMode::Off | ThreadMode::Assumed | ThreadMode::InCall => return None,
    };
    let shared = context::with_shared(Arc::clone)?;
    Some(Inherited {
        running: Running::new(&shared),
        shared,
        stream,
    })
}

/// Counts a thread of the session as running, from before it is spawned
/// (`finish` right after the spawn waits for it) until dropped: after its
/// stream ended, or with the thread that could not be spawned.
struct Running(Arc<Shared>);

impl Running {
    fn new(shared: &Arc<Shared>) -> Running {
        shared.thread_spawned();
        Running(Arc::clone(shared))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.0.thread_ended();
    }
}

/// A spawned thread's share of its parent's session: installed when the
/// thread starts, ended when it finishes.
struct ThreadSession {
    installed: Option<Installed>,
    /// Dropped after the stream ended (fields drop after `drop`).
    _running: Running,
}

impl Inherited {
    /// On the spawned thread: installs its stream.
    fn install(self) -> ThreadSession {
        let (active, mode) = match &self.shared.kind {
            SharedKind::Record { sink, .. } => (
                Ok(Active::Record(StreamWriter::new(
                    Arc::clone(sink),
                    self.stream,
                ))),
                ThreadMode::Record,
            ),
            SharedKind::Replay { recording, breaks } => (
                Cursor::new(recording, self.stream, breaks.of(self.stream)).map(Active::Replay),
                ThreadMode::Replay,
            ),
        };
        let installed = active.and_then(|active| {
            context::install(active, mode, Arc::clone(&self.shared), self.stream)
        });
        match installed {
            Ok(installed) => {
                identity::restart(self.stream);
                ThreadSession {
                    installed: Some(installed),
                    _running: self.running,
                }
            }
            Err(e) => {
                self.shared.report(e);
                ThreadSession {
                    installed: None,
                    _running: self.running,
                }
            }
        }
    }
}

impl Drop for ThreadSession {
    fn drop(&mut self) {
        let Some(installed) = self.installed.take() else {
            return;
        };
        let shared = Arc::clone(installed.shared());
        identity::restart_without_session();
        match installed.end() {
            Ok(ended) => {
                shared
                    .thread_calls
                    .fetch_add(ended.calls, Ordering::Relaxed);
                if let Err(e) = ended.result {
                    shared.report(e);
                }
            }
            Err(e) => shared.report(e),
        }
    }
}
