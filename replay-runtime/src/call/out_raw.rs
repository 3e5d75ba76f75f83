//! Raw output buffers of extern functions (`#[out(len = ..)]`): plain data
//! copied byte for byte ([`OutRaw`]), or handles C writes (`T**`,
//! [`OutHandles`]), chosen by the element type through [`OutProbe`].

use serde::Serialize;
use serde::de::DeserializeOwned;

use std::ffi::c_char;

use super::args::Out;
use super::c_values::{Bytes, CStrRet, ReadPtr};
use super::plain::Plain;
use crate::handles::Mapped;
use crate::recording::encode::{EncodeError, encode};
use crate::recording::format;

/// A raw output buffer of plain data: `#[out(len = ..)]`.
pub struct OutRaw {
    ptr: *mut u8,
    /// Bytes of one element.
    element: usize,
    /// Bytes the buffer holds, and the call wrote.
    capacity: usize,
    written: usize,
    /// The call fills the whole buffer (no `written = ..`): replay must
    /// find exactly as many bytes recorded as the buffer holds now.
    exact: bool,
}

impl OutRaw {
    /// A buffer of `len` elements, all of which the call is taken to write
    /// unless `exact` is false and [`wrote`](Self::wrote) says less. A null
    /// pointer is an empty buffer.
    ///
    /// # Safety
    ///
    /// As for the foreign function: unless null, `ptr` is valid for writes
    /// of `len` elements.
    #[inline]
    pub unsafe fn new<T: Plain>(ptr: *mut T, len: usize, exact: bool) -> Self {
        let element = size_of::<T>();
        let capacity = if ptr.is_null() {
            0
        } else {
            len.saturating_mul(element)
        };
        OutRaw {
            ptr: ptr.cast(),
            element,
            capacity,
            written: capacity,
            exact,
        }
    }
}

/// An output buffer's element count from its length (`len = n`, `written
/// = return`, `written = *n`): negative or unrepresentable means none.
#[inline]
pub fn count<T: TryInto<usize>>(n: T) -> usize {
    n.try_into().unwrap_or(0)
}

/// How many elements a call reports writing through its return value
/// (`written = return`): negative or unrepresentable means none.
#[inline]
pub fn written<T: Copy + TryInto<usize>>(ret: &T) -> usize {
    count(*ret)
}

/// One out-buffer, whichever its elements: how many the call wrote.
pub trait OutBuffer: Out {
    /// The call reports writing the first `elements` elements (`written = ..`).
    fn wrote(&mut self, elements: usize);
}

impl OutBuffer for OutRaw {
    #[inline]
    fn wrote(&mut self, elements: usize) {
        self.written = elements.saturating_mul(self.element).min(self.capacity);
    }
}

impl Out for OutRaw {
    fn encode(&self, buf: &mut Vec<u8>) -> Result<(), EncodeError> {
        let bytes: &[u8] = if self.written == 0 {
            &[]
        } else {
            // SAFETY: `new`'s contract: valid for `capacity >= written` bytes.
            unsafe { std::slice::from_raw_parts(self.ptr, self.written) }
        };
        encode(&Bytes(bytes), buf)
    }
    fn decode(&mut self, bytes: &mut &[u8]) -> Result<(), String> {
        let data = format::take_blob(bytes).ok_or("the recorded buffer is cut short")?;
        if data.len() > self.capacity || (self.exact && data.len() != self.capacity) {
            return Err(format!(
                "the recorded buffer holds {} bytes but the buffer passed now holds {}",
                data.len(),
                self.capacity
            ));
        }
        // SAFETY: `new`'s contract, and `data.len() <= capacity` just above.
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), self.ptr, data.len()) };
        Ok(())
    }
}

/// A raw output buffer of `#[mapped]` handles C writes (`sqlite3 **ppDb`
/// declared `#[out(len = 1)] db: *mut Db`): recorded as their slots, as
/// a returned handle is; replay writes placeholders.
pub struct OutHandles<T> {
    ptr: *mut T,
    capacity: usize,
    written: usize,
    exact: bool,
}

impl<T: Mapped + Serialize + DeserializeOwned> OutHandles<T> {
    /// A buffer of `len` handles; see [`OutRaw::new`].
    ///
    /// # Safety
    ///
    /// As for [`OutRaw::new`].
    #[inline]
    pub unsafe fn new(ptr: *mut T, len: usize, exact: bool) -> Self {
        let capacity = if ptr.is_null() { 0 } else { len };
        OutHandles {
            ptr,
            capacity,
            written: capacity,
            exact,
        }
    }
}

impl<T: Mapped + Serialize + DeserializeOwned> OutBuffer for OutHandles<T> {
    #[inline]
    fn wrote(&mut self, elements: usize) {
        self.written = elements.min(self.capacity);
    }
}

impl<T: Mapped + Serialize + DeserializeOwned> Out for OutHandles<T> {
    fn encode(&self, buf: &mut Vec<u8>) -> Result<(), EncodeError> {
        let handles: &[T] = if self.written == 0 {
            &[]
        } else {
            // SAFETY: `new`'s contract, and the call wrote these: each is
            // a handle (`Mapped` is a transparent wrapper of a raw one).
            unsafe { std::slice::from_raw_parts(self.ptr, self.written) }
        };
        encode(handles, buf)
    }
    fn decode(&mut self, bytes: &mut &[u8]) -> Result<(), String> {
        let (handles, rest) = postcard::take_from_bytes::<Vec<T>>(bytes).map_err(|e| {
            format!(
                "the recorded handles cannot be read as `{}`: {e}",
                std::any::type_name::<T>()
            )
        })?;
        if handles.len() > self.capacity || (self.exact && handles.len() != self.capacity) {
            return Err(format!(
                "the recorded buffer holds {} handle(s) but the buffer passed now holds {}",
                handles.len(),
                self.capacity
            ));
        }
        for (i, handle) in handles.into_iter().enumerate() {
            // SAFETY: `new`'s contract, `i < capacity`; written, not
            // assigned: what is there is not a value to drop.
            unsafe { self.ptr.add(i).write(handle) };
        }
        *bytes = rest;
        Ok(())
    }
}

/// An output buffer on its way to becoming an [`OutRaw`] or an
/// [`OutHandles`], by autoref specialisation on its element type:
/// `(&OutProbe(ptr)).buffer(len, exact)` with [`OutHandle`] and
/// [`OutPlain`] in scope.
pub struct OutProbe<T>(pub *mut T);

// By hand: a derive would ask `T: Copy`. The fallback trait takes the
// probe by value through a reference.
impl<T> Clone for OutProbe<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for OutProbe<T> {}

/// Handles: recorded as slots.
pub trait OutHandle<T> {
    /// The buffer; see [`OutHandles::new`].
    ///
    /// # Safety
    ///
    /// As for [`OutRaw::new`].
    unsafe fn buffer(self, len: usize, exact: bool) -> OutHandles<T>;
}

impl<T: Mapped + Serialize + DeserializeOwned> OutHandle<T> for &OutProbe<T> {
    #[inline]
    unsafe fn buffer(self, len: usize, exact: bool) -> OutHandles<T> {
        // SAFETY: the caller's contract, the same.
        unsafe { OutHandles::new(self.0, len, exact) }
    }
}

/// Anything else must be plain data, copied byte for byte.
pub trait OutPlain<T> {
    /// The buffer; see [`OutRaw::new`].
    ///
    /// # Safety
    ///
    /// As for [`OutRaw::new`].
    unsafe fn buffer(self, len: usize, exact: bool) -> OutRaw
    where
        T: Plain;
}

impl<T> OutPlain<T> for OutProbe<T> {
    #[inline]
    unsafe fn buffer(self, len: usize, exact: bool) -> OutRaw
    where
        T: Plain,
    {
        // SAFETY: the caller's contract, the same.
        unsafe { OutRaw::new(self.0, len, exact) }
    }
}

/// An output buffer of pointers C writes into the memory of another
/// argument (`#[out(len = 1, points_into = zSql)] pzTail: *mut *const
/// c_char`): recorded as offsets from that argument's pointer, written
/// back in replay as this run's pointer plus the offset. Null stays null.
pub struct OutOffsets {
    ptr: *mut *const u8,
    base: *const u8,
    /// Bytes of the memory `base` points at (a C string's NUL included):
    /// a pointer written beyond is refused, not recorded as an offset.
    extent: usize,
    capacity: usize,
    written: usize,
    exact: bool,
}

impl OutOffsets {
    /// A buffer of `len` pointers into the `extent` bytes `base` points at.
    ///
    /// # Safety
    ///
    /// As for [`OutRaw::new`].
    #[inline]
    pub unsafe fn new<T>(
        ptr: *mut *const T,
        base: *const u8,
        extent: usize,
        len: usize,
        exact: bool,
    ) -> Self {
        let capacity = if ptr.is_null() { 0 } else { len };
        OutOffsets {
            ptr: ptr.cast(),
            base,
            extent,
            capacity,
            written: capacity,
            exact,
        }
    }
}

impl OutBuffer for OutOffsets {
    #[inline]
    fn wrote(&mut self, elements: usize) {
        self.written = elements.min(self.capacity);
    }
}

impl Out for OutOffsets {
    fn encode(&self, buf: &mut Vec<u8>) -> Result<(), EncodeError> {
        let mut offsets = Vec::with_capacity(self.written);
        for i in 0..self.written {
            // SAFETY: `new`'s contract; the call wrote these pointers.
            let at = unsafe { self.ptr.add(i).read() };
            let offset = match (at as usize).checked_sub(self.base as usize) {
                _ if at.is_null() => None,
                Some(offset) if !self.base.is_null() && offset <= self.extent => {
                    Some(offset as u64)
                }
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
        if offsets.len() > self.capacity || (self.exact && offsets.len() != self.capacity) {
            return Err(format!(
                "the recorded buffer holds {} pointer(s) but the buffer passed now holds {}",
                offsets.len(),
                self.capacity
            ));
        }
        for (i, offset) in offsets.into_iter().enumerate() {
            let at = match offset.map(|o| usize::try_from(o).unwrap_or(usize::MAX)) {
                // Within this run's memory (it was when recording): the
                // argument it points into is checked equal.
                Some(offset) if offset <= self.extent => self.base.wrapping_add(offset),
                Some(offset) => {
                    return Err(format!(
                        "a recorded pointer is {offset} bytes into memory of {} bytes",
                        self.extent
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
    capacity: usize,
    written: usize,
    exact: bool,
}

impl OutCStrings {
    /// A buffer of `len` C string pointers.
    ///
    /// # Safety
    ///
    /// As for [`OutRaw::new`]; each pointer C writes is null or a
    /// NUL-terminated string.
    #[inline]
    pub unsafe fn new<P: ReadPtr<c_char>>(ptr: *mut P, len: usize, exact: bool) -> Self {
        let capacity = if ptr.is_null() { 0 } else { len };
        OutCStrings {
            ptr: ptr.cast(),
            capacity,
            written: capacity,
            exact,
        }
    }
}

impl OutBuffer for OutCStrings {
    #[inline]
    fn wrote(&mut self, elements: usize) {
        self.written = elements.min(self.capacity);
    }
}

impl Out for OutCStrings {
    fn encode(&self, buf: &mut Vec<u8>) -> Result<(), EncodeError> {
        let strings: Vec<CStrRet> = (0..self.written)
            // SAFETY: `new`'s contract; the call wrote these pointers.
            .map(|i| CStrRet(unsafe { self.ptr.add(i).read() }))
            .collect();
        encode(&strings, buf)
    }
    fn decode(&mut self, bytes: &mut &[u8]) -> Result<(), String> {
        let (strings, rest) = postcard::take_from_bytes::<Vec<CStrRet>>(bytes)
            .map_err(|e| format!("the recorded C strings cannot be read: {e}"))?;
        if strings.len() > self.capacity || (self.exact && strings.len() != self.capacity) {
            return Err(format!(
                "the recorded buffer holds {} string(s) but the buffer passed now holds {}",
                strings.len(),
                self.capacity
            ));
        }
        for (i, string) in strings.into_iter().enumerate() {
            // SAFETY: `new`'s contract, `i < capacity`.
            unsafe { self.ptr.add(i).write(string.0) };
        }
        *bytes = rest;
        Ok(())
    }
}
