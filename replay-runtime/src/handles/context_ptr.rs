//! Rust objects whose address is handed to foreign code (context and
//! user-data pointers), recorded as their slot in the object index map.

use std::fmt;

use serde::de::Error as _;
use serde::ser::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::raw::RawHandle;
use super::slots::{NO_INDEX, NULL_INDEX};
use crate::context::{self, Phase};

/// A Rust object whose address is handed to foreign code: a context or
/// user-data pointer. The address is recorded as the object's slot in the
/// object index map, and a pointer coming back from a replayed call
/// resolves to this run's object, wherever the allocator put it.
///
/// ```no_run
/// use replay_runtime::{Context, ContextPtr, deterministic};
///
/// #[deterministic]
/// unsafe extern "C" {
///     fn set_user_data(data: ContextPtr);
///     fn get_user_data() -> ContextPtr;
/// }
///
/// struct State { clicks: u32 }
///
/// fn main() {
///     let state = Context::new(State { clicks: 0 });
///     unsafe { set_user_data(state.ptr()) };
///     let back = unsafe { get_user_data() };
///     // SAFETY: the pointer is `state`'s, which is alive.
///     assert_eq!(unsafe { back.as_ref::<State>() }.clicks, 0);
/// }
/// ```
pub struct Context<T> {
    boxed: Box<Unique<T>>,
}

/// The object, with a byte that gives even a zero-sized one an address of
/// its own. The object comes first, so its address is the box's.
#[repr(C)]
struct Unique<T> {
    value: T,
    _own_address: u8,
}

impl<T> Context<T> {
    /// Boxes `value` and registers its address with this thread's session.
    /// One made inside a recorded call is not registered: replay does not
    /// run that code, and the slots outside stay the same in both runs.
    pub fn new(value: T) -> Self {
        let context = Context {
            boxed: Box::new(Unique {
                value,
                _own_address: 0,
            }),
        };
        if context::mode() != context::ThreadMode::InCall {
            context::with_handles(|h| h.register(context.bits()));
        }
        context
    }

    /// The object's address, to hand to foreign code.
    pub fn ptr(&self) -> ContextPtr {
        ContextPtr((&self.boxed.value as *const T).cast_mut().cast())
    }

    fn bits(&self) -> u64 {
        (&self.boxed.value as *const T).to_bits()
    }
}

impl<T> std::ops::Deref for Context<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.boxed.value
    }
}

impl<T> std::ops::DerefMut for Context<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.boxed.value
    }
}

impl<T> Drop for Context<T> {
    fn drop(&mut self) {
        let bits = self.bits();
        context::with_handles(|h| h.release(bits));
    }
}

impl<T: fmt::Debug> fmt::Debug for Context<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Context").field(&self.boxed.value).finish()
    }
}

/// The address of a [`Context`], as foreign code sees it: a `void *`
/// (`#[repr(transparent)]`), recorded as the context's slot.
#[repr(transparent)]
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ContextPtr(*mut std::ffi::c_void);

impl ContextPtr {
    /// The null pointer: recorded as such.
    pub const fn null() -> Self {
        ContextPtr(std::ptr::null_mut())
    }

    /// The raw pointer.
    pub fn as_ptr(self) -> *mut std::ffi::c_void {
        self.0
    }

    /// Whether the pointer is null.
    pub fn is_null(self) -> bool {
        self.0.is_null()
    }

    /// The object behind the pointer.
    ///
    /// # Safety
    ///
    /// The pointer must come from [`Context::ptr`] of a `Context<T>` that
    /// is still alive, and no `&mut` to that object may exist meanwhile.
    pub unsafe fn as_ref<'a, T>(self) -> &'a T {
        // SAFETY: the caller's contract.
        unsafe { &*self.0.cast::<T>() }
    }
}

impl fmt::Debug for ContextPtr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let resolved = context::with_handles(|h| h.lookup(self.0.to_bits()));
        match resolved {
            _ if self.0.is_null() => f.write_str("ContextPtr(null)"),
            Some(Some((index, generation))) => write!(f, "ContextPtr(#{index}.{generation})"),
            // A recorded value decoded for a report: its slot, as recorded.
            _ => match self.0.as_virtual() {
                Some((index, generation)) => write!(f, "ContextPtr(#{index}.{generation})"),
                None => f.write_str("ContextPtr(unregistered)"),
            },
        }
    }
}

impl Serialize for ContextPtr {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.0.is_null() {
            return (NULL_INDEX, 0u32).serialize(serializer);
        }
        let bits = self.0.to_bits();
        let phase = context::phase();
        match context::with_handles(|h| (h.lookup(bits), h.replaying())) {
            Some((Some(pair), _)) => pair.serialize(serializer),
            Some((None, replaying)) => {
                let why = "a ContextPtr that no live Context holds was passed to a recorded \
                           call; pass `Context::ptr()` of a Context that is still alive";
                context::with_notes(|n| {
                    n.error.get_or_insert_with(|| why.to_owned());
                });
                context::note_handles();
                if replaying || phase == Phase::Display {
                    (NO_INDEX, 0u32).serialize(serializer)
                } else {
                    Err(S::Error::custom(why))
                }
            }
            None => (NO_INDEX, 0u32).serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for ContextPtr {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let (index, generation) = <(u32, u32)>::deserialize(deserializer)?;
        if index == NULL_INDEX {
            return Ok(ContextPtr::null());
        }
        match context::phase() {
            Phase::Results => {}
            // Shown in a report: a placeholder that says its slot.
            Phase::Display => {
                let bits = <*mut std::ffi::c_void>::virtual_handle(index, generation);
                return Ok(ContextPtr(bits));
            }
            _ => return Ok(ContextPtr::null()),
        }
        let live = context::with_handles(|h| h.raw_of(index, generation)).flatten();
        match live {
            Some(bits) => Ok(ContextPtr(bits as usize as *mut std::ffi::c_void)),
            None => Err(D::Error::custom(format!(
                "the recording returns context #{index}.{generation}, which no Context alive holds"
            ))),
        }
    }
}
