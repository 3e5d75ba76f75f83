//! Locks and channels whose order is recorded: drop-in counterparts of
//! `std::sync::{Mutex, RwLock, mpsc}`.
//!
//! Only where threads meet is order recorded, in each thread's own stream:
//! the version of each lock it opened, and the sender of each message it
//! received. Replay makes every thread wait until the lock reaches the
//! recorded version, or until the recorded sender's message arrives, so
//! threads meet in the recorded order however the OS schedules them.
//! Without a session they behave as std's, at the cost of a version count.

pub mod mpsc;
mod mutex;
mod order;
mod rwlock;
mod stall;

pub use mutex::{Mutex, MutexGuard};
pub use rwlock::{RwLock, RwLockReadGuard, RwLockWriteGuard};
pub use std::sync::{LockResult, PoisonError, TryLockError, TryLockResult};
