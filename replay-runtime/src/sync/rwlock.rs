//! `RwLock`: std's, with its opens recorded by version and reads.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::{LockResult, TryLockError, TryLockResult};

use super::order::{Open, Order};
use super::plan::{self, Plan, map_poison, map_try};

/// A reader-writer lock whose order of opens is recorded and replayed,
/// with the API of [`std::sync::RwLock`] (poisoning included).
///
/// Recording a write-open stores the lock's version and the read-opens
/// since the last write-open; a read-open stores the version. Replay makes
/// a write-open wait until the lock reaches that version *and* those reads
/// have happened, and a read-open until the version: readers of one
/// version may still overlap, in any order.
pub struct RwLock<T: ?Sized> {
    order: Order,
    inner: std::sync::RwLock<T>,
}

/// A read guard, as [`std::sync::RwLockReadGuard`].
pub struct RwLockReadGuard<'a, T: ?Sized + 'a> {
    inner: std::sync::RwLockReadGuard<'a, T>,
}

/// A write guard, as [`std::sync::RwLockWriteGuard`].
pub struct RwLockWriteGuard<'a, T: ?Sized + 'a> {
    inner: std::sync::RwLockWriteGuard<'a, T>,
}

impl<T> RwLock<T> {
    /// A new unlocked lock.
    pub const fn new(value: T) -> RwLock<T> {
        RwLock {
            order: Order::new(),
            inner: std::sync::RwLock::new(value),
        }
    }

    /// The value, consuming the lock.
    pub fn into_inner(self) -> LockResult<T> {
        self.inner.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    /// Opens the lock for reading.
    #[track_caller]
    pub fn read(&self) -> LockResult<RwLockReadGuard<'_, T>> {
        let plan = plan::before_open(&self.order, Open::Read, false);
        let result = self.inner.read();
        plan.opened(&self.order, Open::Read);
        map_poison(result, |inner| RwLockReadGuard { inner })
    }

    /// Opens the lock for writing.
    #[track_caller]
    pub fn write(&self) -> LockResult<RwLockWriteGuard<'_, T>> {
        let plan = plan::before_open(&self.order, Open::Write, false);
        let result = self.inner.write();
        plan.opened(&self.order, Open::Write);
        map_poison(result, |inner| RwLockWriteGuard { inner })
    }

    /// Opens the lock for reading if no writer holds it; in replay, exactly
    /// when the recorded run could.
    #[track_caller]
    pub fn try_read(&self) -> TryLockResult<RwLockReadGuard<'_, T>> {
        let plan = plan::before_open(&self.order, Open::Read, true);
        let result = match plan {
            Plan::Taken => return Err(TryLockError::WouldBlock),
            Plan::Replay => self.inner.read().map_err(TryLockError::Poisoned),
            Plan::Plain | Plan::Record => self.inner.try_read(),
        };
        plan.tried(&self.order, Open::Read, &result);
        map_try(result, |inner| RwLockReadGuard { inner })
    }

    /// Opens the lock for writing if it is free; in replay, exactly when
    /// the recorded run could.
    #[track_caller]
    pub fn try_write(&self) -> TryLockResult<RwLockWriteGuard<'_, T>> {
        let plan = plan::before_open(&self.order, Open::Write, true);
        let result = match plan {
            Plan::Taken => return Err(TryLockError::WouldBlock),
            Plan::Replay => self.inner.write().map_err(TryLockError::Poisoned),
            Plan::Plain | Plan::Record => self.inner.try_write(),
        };
        plan.tried(&self.order, Open::Write, &result);
        map_try(result, |inner| RwLockWriteGuard { inner })
    }

    /// Whether a thread panicked while holding the lock for writing.
    pub fn is_poisoned(&self) -> bool {
        self.inner.is_poisoned()
    }

    /// The value, through a unique borrow: no locking needed.
    pub fn get_mut(&mut self) -> LockResult<&mut T> {
        self.inner.get_mut()
    }
}

impl<T: Default> Default for RwLock<T> {
    fn default() -> Self {
        RwLock::new(T::default())
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.inner
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.inner, f)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.inner, f)
    }
}
