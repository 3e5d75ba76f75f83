//! Output buffers of pointers C writes: into the memory of another
//! argument (`points_into`), or to C strings (`char **`).

use std::ffi::c_char;

use super::args::Out;
use super::c_values::{CStrRet, ReadPtr};
use super::out_raw::{Extent, OutBuffer};
use crate::recording::encode::{EncodeError, encode};

/// An output buffer of pointers C writes into the memory of another
/// argument (`#[out(len = 1, points_into = zSql)] pzTail: *mut *const
/// c_char`): recorded as offsets from that argument's pointer, written
/// back in replay as this run's pointer plus the offset. Null stays null.
pub struct OutOffsets {
    ptr: *mut *const u8,
    base: *const u8,
    /// Bytes of the memory `base` points at (a C string's NUL included):
    /// a pointer written beyond is refused, not recorded as an offset.
    spans: usize,
    extent: Extent,
}

impl OutOffsets {
    /// A buffer of `len` pointers into the `spans` bytes `base` points at.
    ///
    /// # Safety
    ///
    /// As for [`OutRaw::new`](super::OutRaw::new).
    #[inline]
    pub unsafe fn new<T>(
        ptr: *mut *const T,
        base: *const u8,
        spans: usize,
        len: usize,
        exact: bool,
    ) -> Self {
        OutOffsets {
            ptr: ptr.cast(),
            base,
            spans,
            extent: Extent::new(ptr.is_null(), len, exact),
        }
    }
}

impl OutBuffer for OutOffsets {
    #[inline]
    fn wrote(&mut self, elements: usize) {
        self.extent.wrote(elements);
    }
}

impl Out for OutOffsets {
    fn encode(&self, buf: &mut Vec<u8>) -> Result<(), EncodeError> {
        let mut offsets = Vec::with_capacity(self.extent.written);
        for i in 0..self.extent.written {
            // SAFETY: `new`'s contract; the call wrote these pointers.
            let at = unsafe { self.ptr.add(i).read() };
            let offset = match (at as usize).checked_sub(self.base as usize) {
                _ if at.is_null() => None,
                Some(offset) if !self.base.is_null() && offset <= self.spans => Some(offset as u64),
                _ => {
                    return Err(serde::ser::Error::custom(
                        "a pointer the call wrote does not point into the memory of its \
                         `points_into` parameter",
                    ));
                }
            };
            offsets.push(offset);
        }
        encode(&offsets, buf)
    }
    fn decode(&mut self, bytes: &mut &[u8]) -> Result<(), String> {
        let (offsets, rest) = postcard::take_from_bytes::<Vec<Option<u64>>>(bytes)
            .map_err(|e| format!("the recorded pointers cannot be read: {e}"))?;
        self.extent.fits(offsets.len(), "pointer(s)")?;
        for (i, offset) in offsets.into_iter().enumerate() {
            let at = match offset.map(|o| usize::try_from(o).unwrap_or(usize::MAX)) {
                // Within this run's memory (it was when recording): the
                // argument it points into is checked equal.
                Some(offset) if offset <= self.spans => self.base.wrapping_add(offset),
                Some(offset) => {
                    return Err(format!(
                        "a recorded pointer is {offset} bytes into memory of {} bytes",
                        self.spans
                    ));
                }
                None => std::ptr::null(),
            };
            // SAFETY: `new`'s contract, `i < capacity`.
            unsafe { self.ptr.add(i).write(at) };
        }
        *bytes = rest;
        Ok(())
    }
}

/// The bytes a `points_into` base spans: a C string with its NUL, an
/// array's elements.
///
/// # Safety
///
/// As for the foreign function: `ptr` is null or a NUL-terminated string.
#[inline]
pub unsafe fn c_str_extent(ptr: impl ReadPtr<c_char>) -> usize {
    let ptr = ptr.as_const();
    if ptr.is_null() {
        return 0;
    }
    // SAFETY: the caller's contract.
    unsafe { std::ffi::CStr::from_ptr(ptr) }.count_bytes() + 1
}

/// The bytes of `len` elements at `_ptr`: a `points_into` base's extent.
#[inline]
pub fn array_extent<T>(_ptr: impl ReadPtr<T>, len: usize) -> usize {
    len.saturating_mul(size_of::<T>())
}

/// An output buffer of C strings C writes (`char **errmsg`, declared
/// `#[out(len = 1)] errmsg: *mut *mut c_char`): recorded as the strings;
/// replay writes pointers to copies kept as long as the process. What C
/// allocated stays the caller's to free in record; in replay the copy is
/// the session's (freeing it through a recorded call is replayed, not made).
pub struct OutCStrings {
    ptr: *mut *const c_char,
    extent: Extent,
}

impl OutCStrings {
    /// A buffer of `len` C string pointers.
    ///
    /// # Safety
    ///
    /// As for [`OutRaw::new`](super::OutRaw::new); each pointer C writes is null or a
    /// NUL-terminated string.
    #[inline]
    pub unsafe fn new<P: ReadPtr<c_char>>(ptr: *mut P, len: usize, exact: bool) -> Self {
        OutCStrings {
            ptr: ptr.cast(),
            extent: Extent::new(ptr.is_null(), len, exact),
        }
    }
}

impl OutBuffer for OutCStrings {
    #[inline]
    fn wrote(&mut self, elements: usize) {
        self.extent.wrote(elements);
    }
}

impl Out for OutCStrings {
    fn encode(&self, buf: &mut Vec<u8>) -> Result<(), EncodeError> {
        let strings: Vec<CStrRet> = (0..self.extent.written)
            // SAFETY: `new`'s contract; the call wrote these pointers.
            .map(|i| CStrRet(unsafe { self.ptr.add(i).read() }))
            .collect();
        encode(&strings, buf)
    }
    fn decode(&mut self, bytes: &mut &[u8]) -> Result<(), String> {
        let (strings, rest) = postcard::take_from_bytes::<Vec<CStrRet>>(bytes)
            .map_err(|e| format!("the recorded C strings cannot be read: {e}"))?;
        self.extent.fits(strings.len(), "string(s)")?;
        for (i, string) in strings.into_iter().enumerate() {
            // SAFETY: `new`'s contract, `i < capacity`.
            unsafe { self.ptr.add(i).write(string.0) };
        }
        *bytes = rest;
        Ok(())
    }
}
