//! Raw handle types, and the placeholders replay gives handles that have
//! no real value: values no OS or allocator hands out.

use std::ptr::NonNull;

/// A raw handle type: an integer (a file descriptor) or a pointer.
pub trait RawHandle: Copy {
    /// The value as map key.
    fn to_bits(self) -> u64;
    /// The replay placeholder for slot `index` at `generation`: a value no
    /// real handle of this type takes.
    fn virtual_handle(index: u32, generation: u32) -> Self;
    /// The slot and generation, if this value is a replay placeholder.
    fn as_virtual(self) -> Option<(u32, u32)>;
    /// The value that means "no handle" (a null pointer, the `-1` a failed
    /// `open` returns), if this type has one: recorded as such, never as a
    /// slot, so that replay gives back the same value to test.
    fn none() -> Option<Self> {
        None
    }
}

/// Placeholders of 32-bit signed handles are negative: `i32::MIN`, then
/// 24 bits of index and 7 of generation (descriptors are never negative).
impl RawHandle for i32 {
    fn to_bits(self) -> u64 {
        i64::from(self) as u64
    }
    fn none() -> Option<Self> {
        Some(-1)
    }
    fn virtual_handle(index: u32, generation: u32) -> Self {
        (0x8000_0000 | (generation & 0x7f) << 24 | (index & 0x00ff_ffff)) as i32
    }
    fn as_virtual(self) -> Option<(u32, u32)> {
        let bits = self as u32;
        (bits & 0x8000_0000 != 0).then_some((bits & 0x00ff_ffff, (bits >> 24) & 0x7f))
    }
}

/// Placeholders of 32-bit unsigned handles have the top bit set.
impl RawHandle for u32 {
    fn to_bits(self) -> u64 {
        u64::from(self)
    }
    fn virtual_handle(index: u32, generation: u32) -> Self {
        0x8000_0000 | (generation & 0x7f) << 24 | (index & 0x00ff_ffff)
    }
    fn as_virtual(self) -> Option<(u32, u32)> {
        (self & 0x8000_0000 != 0).then_some((self & 0x00ff_ffff, (self >> 24) & 0x7f))
    }
}

/// Placeholders of 64-bit handles (and pointers, whose top 16 bits are
/// then non-canonical on every 64-bit platform) start with `0xfff0`.
const VIRTUAL_TAG: u64 = 0xfff0_0000_0000_0000;

fn virtual_bits(index: u32, generation: u32) -> u64 {
    VIRTUAL_TAG | u64::from(generation & 0x000f_ffff) << 32 | u64::from(index)
}

fn bits_as_virtual(bits: u64) -> Option<(u32, u32)> {
    (bits & 0xfff0_0000_0000_0000 == VIRTUAL_TAG)
        .then_some((bits as u32, (bits >> 32) as u32 & 0x000f_ffff))
}

macro_rules! wide_handles {
    ($($t:ty),*) => {$(
        impl RawHandle for $t {
            fn to_bits(self) -> u64 {
                self as u64
            }
            fn virtual_handle(index: u32, generation: u32) -> Self {
                virtual_bits(index, generation) as $t
            }
            fn as_virtual(self) -> Option<(u32, u32)> {
                bits_as_virtual(self as u64)
            }
        }
    )*};
}

wide_handles!(i64, u64, isize, usize);

impl<T> RawHandle for *mut T {
    fn to_bits(self) -> u64 {
        self as usize as u64
    }
    fn none() -> Option<Self> {
        Some(std::ptr::null_mut())
    }
    fn virtual_handle(index: u32, generation: u32) -> Self {
        virtual_bits(index, generation) as usize as *mut T
    }
    fn as_virtual(self) -> Option<(u32, u32)> {
        bits_as_virtual(self as usize as u64)
    }
}

impl<T> RawHandle for *const T {
    fn to_bits(self) -> u64 {
        self.cast_mut().to_bits()
    }
    fn none() -> Option<Self> {
        Some(std::ptr::null())
    }
    fn virtual_handle(index: u32, generation: u32) -> Self {
        <*mut T>::virtual_handle(index, generation).cast_const()
    }
    fn as_virtual(self) -> Option<(u32, u32)> {
        self.cast_mut().as_virtual()
    }
}

impl<T> RawHandle for NonNull<T> {
    fn to_bits(self) -> u64 {
        self.as_ptr().to_bits()
    }
    fn virtual_handle(index: u32, generation: u32) -> Self {
        // The tag makes the value non-zero.
        NonNull::new(<*mut T>::virtual_handle(index, generation)).unwrap_or(NonNull::dangling())
    }
    fn as_virtual(self) -> Option<(u32, u32)> {
        self.as_ptr().as_virtual()
    }
}
