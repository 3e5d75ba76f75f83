//! Locks and channels whose order is recorded: drop-in counterparts of
//! `std::sync::{Mutex, RwLock, mpsc}`.
//!
//! Only where threads meet is order recorded, in each thread's own stream:
//! the version of each lock it opened, and the sender of each message it
//! received. Replay makes every thread wait until the lock reaches the
//! recorded version, or until the recorded sender's message arrives, so
//! threads meet in the recorded order however the OS schedules them.
//! Without a session they behave as std's, at the cost of a check of the
//! thread's mode.
//!
//! ```
//! use replay_runtime::sync::{Mutex, mpsc};
//! use replay_runtime::{Session, thread};
//! use std::sync::Arc;
//!
//! fn run() -> Vec<u32> {
//!     let order = Arc::new(Mutex::new(Vec::new()));
//!     let (tx, rx) = mpsc::channel();
//!     let workers: Vec<_> = (0..3)
//!         .map(|i| {
//!             let (order, tx) = (Arc::clone(&order), tx.clone());
//!             thread::spawn(move || {
//!                 // Sent under the lock: messages arrive in the lock's order.
//!                 let mut order = order.lock().unwrap();
//!                 order.push(i);
//!                 tx.send(i).unwrap();
//!             })
//!         })
//!         .collect();
//!     let received: Vec<u32> = (0..3).map(|_| rx.recv().unwrap()).collect();
//!     workers.into_iter().for_each(|w| w.join().unwrap());
//!     assert_eq!(*order.lock().unwrap(), received);
//!     received
//! }
//!
//! # fn main() -> Result<(), replay_runtime::Error> {
//! # let path = std::env::temp_dir().join(format!("sync-doc-{}.replay", std::process::id()));
//! let session = Session::record(&path)?;
//! let recorded = run(); // the threads race: some order
//! session.finish()?;
//!
//! let session = Session::replay(&path)?;
//! assert_eq!(run(), recorded); // the same order, however they are scheduled
//! session.finish()?;
//! # std::fs::remove_file(&path).ok();
//! # Ok(())
//! # }
//! ```

mod blame;
pub mod mpsc;
mod mutex;
mod order;
mod plan;
mod rwlock;
pub(crate) mod stall;

pub use mutex::{Mutex, MutexGuard};
pub use rwlock::{RwLock, RwLockReadGuard, RwLockWriteGuard};
pub use std::sync::{LockResult, PoisonError, TryLockError, TryLockResult};
