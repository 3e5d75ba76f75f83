//! The object index vector and map: a slot allocator with generations.
//! Pure bookkeeping: nothing here knows of sessions, threads or serde.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

use super::raw::RawHandle;

/// One slot of the object index vector.
#[derive(Clone, Copy, Debug)]
struct Slot {
    generation: u32,
    /// A handle holds the slot.
    occupied: bool,
    /// The handle's real raw value, when it has one (always when
    /// recording; in replay, once bound to a call that ran for real).
    raw: Option<u64>,
}

const EMPTY_SLOT: Slot = Slot {
    generation: 0,
    occupied: false,
    raw: None,
};

/// A multiply-shift hasher for raw handle bits: they are already
/// well-spread or small integers, and SipHash would dominate a lookup.
#[derive(Default)]
pub(crate) struct RawHasher(u64);

impl Hasher for RawHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (n ^ n >> 29).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

/// Where each handle stands, for one session.
#[derive(Default)]
pub struct HandleMap {
    slots: Vec<Slot>,
    /// Free slots, lowest first.
    free: BinaryHeap<Reverse<u32>>,
    /// Real raw values to their slot.
    by_raw: HashMap<u64, u32, BuildHasherDefault<RawHasher>>,
    replaying: bool,
}

/// What a handle is in this session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Resolved {
    /// A real raw value, registered in slot `index` at `generation`.
    Real { index: u32, generation: u32 },
    /// A replay placeholder for slot `index`, which it still holds.
    Placeholder { index: u32, generation: u32 },
    /// A placeholder for a slot that was freed or reused since.
    Stale {
        index: u32,
        held: u32,
        now: Option<u32>,
    },
    /// Never produced by a recorded call in this session.
    Unknown,
}

impl Resolved {
    /// The handle in words, `name` being its type's.
    pub(crate) fn describe(self, name: &str) -> String {
        match self {
            Resolved::Real { index, generation } | Resolved::Placeholder { index, generation } => {
                format!("{name} #{index}.{generation}")
            }
            Resolved::Stale {
                index,
                held,
                now: Some(now),
            } => format!("stale {name} #{index}.{held} (the slot now holds generation {now})"),
            Resolved::Stale {
                index,
                held,
                now: None,
            } => format!("stale {name} #{index}.{held} (the slot was freed)"),
            Resolved::Unknown => format!("unknown {name} (not returned by a recorded call)"),
        }
    }
}

impl HandleMap {
    /// An empty map for a record (`replaying == false`) or replay session.
    pub fn new(replaying: bool) -> Self {
        HandleMap {
            replaying,
            ..HandleMap::default()
        }
    }

    /// Whether the session replays (and so makes placeholders).
    pub(crate) fn replaying(&self) -> bool {
        self.replaying
    }

    /// Takes the lowest free slot; returns its index and generation.
    pub fn allocate(&mut self) -> (u32, u32) {
        let index = match self.free.pop() {
            Some(Reverse(index)) => index,
            None => {
                self.slots.push(EMPTY_SLOT);
                (self.slots.len() - 1) as u32
            }
        };
        let slot = &mut self.slots[index as usize];
        slot.occupied = true;
        (index, slot.generation)
    }

    /// Frees an occupied slot: its next holder gets the next generation.
    pub fn free(&mut self, index: u32) {
        if let Some(slot) = self.slots.get_mut(index as usize).filter(|s| s.occupied) {
            slot.occupied = false;
            slot.raw = None;
            slot.generation = slot.generation.wrapping_add(1);
            self.free.push(Reverse(index));
        }
    }

    /// Registers a real raw value in a new slot.
    pub fn register(&mut self, bits: u64) -> (u32, u32) {
        let (index, generation) = self.allocate();
        self.by_raw.insert(bits, index);
        self.slots[index as usize].raw = Some(bits);
        (index, generation)
    }

    /// The slot of a real raw value.
    pub fn lookup(&self, bits: u64) -> Option<(u32, u32)> {
        let index = *self.by_raw.get(&bits)?;
        Some((index, self.slots[index as usize].generation))
    }

    /// Forgets a real raw value and frees its slot.
    pub fn release(&mut self, bits: u64) -> bool {
        match self.by_raw.remove(&bits) {
            Some(index) => {
                self.free(index);
                true
            }
            None => false,
        }
    }

    /// Replay: occupies slot `index` at `generation`, as the recording says
    /// the call that produced it did.
    pub(crate) fn occupy(&mut self, index: u32, generation: u32) -> Result<(), String> {
        if index as usize >= self.slots.len() {
            let missing = index as usize + 1 - self.slots.len();
            let first = self.slots.len() as u32;
            self.slots.extend(std::iter::repeat_n(EMPTY_SLOT, missing));
            self.free.extend((first..index).map(Reverse));
        }
        let slot = &mut self.slots[index as usize];
        if slot.occupied && slot.generation == generation {
            // The call returned a handle the program already holds.
            return Ok(());
        }
        if slot.occupied {
            return Err(format!(
                "the recording returns handle #{index} (generation {generation}), but that \
                 slot still holds a handle of generation {}: the program releases \
                 handles differently than when it was recorded",
                slot.generation
            ));
        }
        slot.occupied = true;
        slot.generation = generation;
        self.free.retain(|&Reverse(i)| i != index);
        Ok(())
    }

    /// Replay: binds a real raw value to slot `index` at `generation`, the
    /// handle the recorded result holds where the real one returned it.
    pub(crate) fn bind(&mut self, bits: u64, index: u32, generation: u32) -> Result<(), String> {
        self.occupy(index, generation)?;
        self.by_raw.insert(bits, index);
        self.slots[index as usize].raw = Some(bits);
        Ok(())
    }

    /// The real raw value of slot `index` at `generation`.
    pub(crate) fn raw_of(&self, index: u32, generation: u32) -> Option<u64> {
        let slot = self.slots.get(index as usize)?;
        (slot.occupied && slot.generation == generation).then_some(slot.raw?)
    }

    pub(crate) fn resolve<R: RawHandle>(&self, raw: R) -> Resolved {
        // A registered real value first: a real handle may look like a
        // placeholder, and only replay makes placeholders.
        if let Some((index, generation)) = self.lookup(raw.to_bits()) {
            return Resolved::Real { index, generation };
        }
        if self.replaying
            && let Some((index, held)) = raw.as_virtual()
        {
            return match self.slots.get(index as usize) {
                Some(slot) if slot.occupied && slot.generation & mask::<R>() == held => {
                    Resolved::Placeholder {
                        index,
                        generation: slot.generation,
                    }
                }
                Some(slot) => Resolved::Stale {
                    index,
                    held,
                    now: slot.occupied.then_some(slot.generation),
                },
                None => Resolved::Unknown,
            };
        }
        Resolved::Unknown
    }
}

/// The generation bits a placeholder of type `R` can hold.
fn mask<R: RawHandle>() -> u32 {
    R::virtual_handle(0, u32::MAX)
        .as_virtual()
        .map_or(0, |(_, generation)| generation)
}

/// An index with no handle behind it, recorded for an unknown handle.
pub(crate) const NO_INDEX: u32 = u32::MAX;
/// The index recorded for "no handle": a null pointer, a `-1` descriptor,
/// a null `ContextPtr` (see `RawHandle::none`).
pub(crate) const NULL_INDEX: u32 = u32::MAX - 1;
