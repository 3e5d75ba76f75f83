//! Deterministic object identities: what to key a map by instead of an
//! address.
//!
//! An address differs from run to run (ASLR, the allocator), so a map keyed
//! by addresses iterates in a different order every run, and a program
//! whose behaviour follows that order cannot be replayed. An [`Identity`]
//! is assigned in creation order instead: the n-th identity a thread
//! creates in a session is the same in every run of the same program. An
//! [`IdentityMap`] iterates in insertion order and hashes without a random
//! seed, so both its order and its lookups are the same in every run.
//!
//! ```
//! use replay_runtime::identity::{Identified, IdentityMap};
//!
//! struct Node { name: &'static str }
//!
//! let a = Identified::new(Node { name: "a" });
//! let b = Identified::new(Node { name: "b" });
//! let mut weights = IdentityMap::default();
//! weights.insert(b.id(), 2);
//! weights.insert(a.id(), 1);
//! let order: Vec<_> = weights.keys().copied().collect();
//! assert_eq!(order, [b.id(), a.id()]); // insertion order, every run
//! assert!(a.id() < b.id());             // creation order, every run
//! ```

use std::cell::Cell;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU32, Ordering};

use serde::{Deserialize, Serialize};

/// A thread without a session that has not numbered anything yet.
const UNASSIGNED: u32 = u32::MAX;

thread_local! {
    /// This thread's id for identities and its next number.
    static NEXT: Cell<(u32, u64)> = const { Cell::new((UNASSIGNED, 0)) };
    /// Inside a call: the call's number and the next number within it.
    static IN_CALL: Cell<(u64, u64)> = const { Cell::new((u64::MAX, 0)) };
}

/// Ids of threads without a session, counting down from the top of the
/// range, far from the small stream numbers of session threads: unique in
/// the process, though not the same from run to run.
static WITHOUT_SESSION: AtomicU32 = AtomicU32::new(UNASSIGNED - 1);

/// Restarts this thread's numbering: called when a session (or a thread of
/// one) starts, so that a recording and its replay number objects alike.
pub(crate) fn restart(thread: u32) {
    NEXT.with(|n| n.set((thread, 0)));
    IN_CALL.with(|c| c.set((u64::MAX, 0)));
}

/// Restarts this thread's numbering when its session ends: its next
/// identity takes a process-unique id, so it collides with none of the
/// session's.
pub(crate) fn restart_without_session() {
    NEXT.with(|n| n.set((UNASSIGNED, 0)));
    IN_CALL.with(|c| c.set((u64::MAX, 0)));
}

/// Numbers made inside a call have the top bit set, then the call's
/// number (39 bits), then their order within the call (24 bits).
const IN_CALL_BIT: u64 = 1 << 63;

/// The next number inside call `call` (`None`: the call's number is not
/// to be had, in a `Serialize` the runtime calls: numbered past the end).
fn in_call(call: Option<u64>) -> u64 {
    let call = call.unwrap_or((1 << 39) - 1) & ((1 << 39) - 1);
    IN_CALL.with(|c| {
        let (last, next) = c.get();
        let within = if last == call { next } else { 0 };
        c.set((call, within + 1));
        IN_CALL_BIT | call << 24 | (within & 0x00ff_ffff)
    })
}

/// A deterministic object identity: the creating thread's deterministic id
/// (0 for a session's first thread), then the object's creation order on
/// it, in its session. Hash, compare and record it freely.
///
/// Identities made inside a recorded call (in its body, which replay does
/// not run unless the call runs for real) are numbered apart: by the
/// call's number on its thread, then their order within the call. They are
/// the same in every run where the call's body runs, and the numbering
/// outside stays the same whether it runs or not.
///
/// On a thread without a session, identities are unique in the process
/// (each such thread numbers under an id of its own) but not the same from
/// run to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Identity {
    thread: u32,
    number: u64,
}

impl Identity {
    /// The next identity of this thread.
    pub fn next() -> Identity {
        let inside = crate::context::mode() == crate::context::ThreadMode::InCall;
        NEXT.with(|n| {
            let (mut thread, number) = n.get();
            if thread == UNASSIGNED {
                // Relaxed: only uniqueness matters, which the counter gives.
                thread = WITHOUT_SESSION.fetch_sub(1, Ordering::Relaxed);
            }
            if inside {
                n.set((thread, number));
                let number = in_call(crate::context::call_index());
                return Identity { thread, number };
            }
            n.set((thread, number + 1));
            Identity { thread, number }
        })
    }

    /// The identity's number: its position in its thread's creation order.
    pub fn get(self) -> u64 {
        self.number
    }

    /// The creating thread's deterministic id.
    pub fn thread(self) -> u32 {
        self.thread
    }
}

/// A value with an [`Identity`]: hashed and compared by identity, as one
/// would by address, but the same in every run.
#[derive(Debug)]
pub struct Identified<T> {
    id: Identity,
    value: T,
}

impl<T> Identified<T> {
    /// Gives `value` the next identity.
    pub fn new(value: T) -> Self {
        Identified {
            id: Identity::next(),
            value,
        }
    }

    /// The value's identity.
    pub fn id(&self) -> Identity {
        self.id
    }

    /// The value, without its identity.
    pub fn into_inner(self) -> T {
        self.value
    }
}

impl<T> Deref for Identified<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T> DerefMut for Identified<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.value
    }
}

impl<T> PartialEq for Identified<T> {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl<T> Eq for Identified<T> {}

impl<T> Hash for Identified<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.id.hash(state);
    }
}

/// A hasher with no random seed (FNV-1a): the same hashes in every run.
#[derive(Clone, Copy, Debug)]
pub struct FixedHasher(u64);

impl Default for FixedHasher {
    fn default() -> Self {
        FixedHasher(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for FixedHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

/// A map that iterates in insertion order and hashes without a random
/// seed: keyed by [`Identity`], it behaves the same in every run.
pub type IdentityMap<K, V> = indexmap::IndexMap<K, V, BuildHasherDefault<FixedHasher>>;

/// The set counterpart of [`IdentityMap`].
pub type IdentitySet<K> = indexmap::IndexSet<K, BuildHasherDefault<FixedHasher>>;
