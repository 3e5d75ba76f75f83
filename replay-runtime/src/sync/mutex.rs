//! `Mutex`: std's, with its opens recorded by version.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::{LockResult, TryLockError, TryLockResult};

use super::order::{Open, Order};
use super::plan::{self, Plan, map_poison, map_try};

/// A mutual exclusion lock whose order of opens is recorded and replayed,
/// with the API of [`std::sync::Mutex`] (poisoning included).
///
/// Recording an open stores the lock's version (how many opens came
/// before); replay makes each open wait until the lock reaches the recorded
/// version, so threads take it in the recorded order.
pub struct Mutex<T: ?Sized> {
    order: Order,
    inner: std::sync::Mutex<T>,
}

/// The guard of a [`Mutex`], as [`std::sync::MutexGuard`].
pub struct MutexGuard<'a, T: ?Sized + 'a> {
    inner: std::sync::MutexGuard<'a, T>,
}

impl<T> Mutex<T> {
    /// A new unlocked mutex.
    pub const fn new(value: T) -> Mutex<T> {
        Mutex {
            order: Order::new(),
            inner: std::sync::Mutex::new(value),
        }
    }

    /// The value, consuming the mutex.
    pub fn into_inner(self) -> LockResult<T> {
        self.inner.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Opens the lock, blocking until it is free (in replay: until it is
    /// this thread's turn in the recorded order).
    #[track_caller]
    pub fn lock(&self) -> LockResult<MutexGuard<'_, T>> {
        let plan = plan::before_open(&self.order, Open::Write, false);
        let result = self.inner.lock();
        plan.opened(&self.order, Open::Write);
        map_poison(result, |inner| MutexGuard { inner })
    }

    /// Opens the lock if it is free; in replay, exactly when the recorded
    /// run found it free.
    #[track_caller]
    pub fn try_lock(&self) -> TryLockResult<MutexGuard<'_, T>> {
        let plan = plan::before_open(&self.order, Open::Write, true);
        let result = match plan {
            Plan::Taken => return Err(TryLockError::WouldBlock),
            // The recorded run got it: it is this thread's turn.
            Plan::Replay => self.inner.lock().map_err(TryLockError::Poisoned),
            Plan::Plain | Plan::Record => self.inner.try_lock(),
        };
        plan.tried(&self.order, Open::Write, &result);
        map_try(result, |inner| MutexGuard { inner })
    }

    /// Whether a thread panicked while holding the lock.
    pub fn is_poisoned(&self) -> bool {
        self.inner.is_poisoned()
    }

    /// The value, through a unique borrow: no locking needed.
    pub fn get_mut(&mut self) -> LockResult<&mut T> {
        self.inner.get_mut()
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<T> From<T> for Mutex<T> {
    fn from(value: T) -> Self {
        Mutex::new(value)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.inner
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.inner, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.inner, f)
    }
}
