//! The receiver's iterators. `Iterator::next` cannot be `#[track_caller]`
//! usefully: its caller is whatever drives the iterator (`collect` in
//! `alloc`, a `for` loop's desugaring), never the user's line. So each
//! iterator keeps the location where it was made (`rx.iter()`,
//! `rx.try_iter()`, `for x in &rx`, `for x in rx`), and a divergence or
//! stall in one of its receives is reported there. What remains: the
//! panic's own location (the `panicked at` line std prints) is still
//! `next`'s caller, since std offers no way to panic at another location;
//! the report's `at` line is the right one.

use std::panic::Location;

use super::channel::{Receiver, Wait};

/// Blocking receives until every sender is gone: [`Receiver::iter`], or
/// `for x in &rx`.
pub struct Iter<'a, T> {
    rx: &'a Receiver<T>,
    location: &'static Location<'static>,
}

/// The messages there now: [`Receiver::try_iter`].
pub struct TryIter<'a, T> {
    rx: &'a Receiver<T>,
    location: &'static Location<'static>,
}

/// Blocking receives until every sender is gone, owning the receiver:
/// `for x in rx`.
pub struct IntoIter<T> {
    rx: Receiver<T>,
    location: &'static Location<'static>,
}

impl<T> Receiver<T> {
    /// Blocking receives until every sender is gone. A divergence or
    /// stall in one of them is reported at this call's line: see [`Iter`].
    #[track_caller]
    pub fn iter(&self) -> Iter<'_, T> {
        Iter {
            rx: self,
            location: Location::caller(),
        }
    }

    /// The messages there now, without blocking (in replay, those the
    /// recorded run found). Reported at this call's line, as [`Iter`].
    #[track_caller]
    pub fn try_iter(&self) -> TryIter<'_, T> {
        TryIter {
            rx: self,
            location: Location::caller(),
        }
    }
}

impl<T> Iterator for Iter<'_, T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.rx.receive(Wait::Forever, self.location).ok()
    }
}

impl<T> Iterator for TryIter<'_, T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.rx.receive(Wait::Never, self.location).ok()
    }
}

impl<T> Iterator for IntoIter<T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.rx.receive(Wait::Forever, self.location).ok()
    }
}

impl<'a, T> IntoIterator for &'a Receiver<T> {
    type Item = T;
    type IntoIter = Iter<'a, T>;
    #[track_caller]
    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}

impl<T> IntoIterator for Receiver<T> {
    type Item = T;
    type IntoIter = IntoIter<T>;
    #[track_caller]
    fn into_iter(self) -> IntoIter<T> {
        IntoIter {
            rx: self,
            location: Location::caller(),
        }
    }
}

impl<T> std::fmt::Debug for Iter<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Iter { .. }")
    }
}

impl<T> std::fmt::Debug for TryIter<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TryIter { .. }")
    }
}

impl<T> std::fmt::Debug for IntoIter<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IntoIter { .. }")
    }
}
