//! Raw output buffers of extern functions (`#[out(len = ..)]`): plain data
//! copied byte for byte ([`OutRaw`]), or handles C writes (`T**`,
//! [`OutHandles`]), chosen by the element type through [`OutProbe`].
//! Pointers C writes are in `out_pointers.rs`.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::args::Out;
use super::c_values::Bytes;
use super::plain::Plain;
use crate::handles::Mapped;
use crate::recording::encode::{EncodeError, encode};
use crate::recording::format;

/// How much of an output buffer there is, and how much the call wrote:
/// in elements for handles, strings and pointers, in bytes for plain data.
#[derive(Clone, Copy)]
pub(super) struct Extent {
    pub(super) capacity: usize,
    pub(super) written: usize,
    /// The call fills the whole buffer (no `written = ..`): replay must
    /// find exactly as many recorded as the buffer holds now.
    exact: bool,
}

impl Extent {
    /// `capacity` (none for a null buffer), all written unless
    /// [`Extent::wrote`] says less.
    pub(super) fn new(null: bool, capacity: usize, exact: bool) -> Extent {
        let capacity = if null { 0 } else { capacity };
        Extent {
            capacity,
            written: capacity,
            exact,
        }
    }

    /// The call reports writing `count`.
    pub(super) fn wrote(&mut self, count: usize) {
        self.written = count.min(self.capacity);
    }

    /// Whether `recorded` elements (or bytes) fit the buffer passed now.
    pub(super) fn fits(&self, recorded: usize, what: &str) -> Result<(), String> {
        if recorded > self.capacity || (self.exact && recorded != self.capacity) {
            return Err(format!(
                "the recorded buffer holds {recorded} {what} but the buffer passed now holds {}",
                self.capacity
            ));
        }
        Ok(())
    }
}

/// A raw output buffer of plain data: `#[out(len = ..)]`.
pub struct OutRaw {
    ptr: *mut u8,
    /// Bytes of one element.
    element: usize,
    /// In bytes.
    extent: Extent,
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
        OutRaw {
            ptr: ptr.cast(),
            element,
            extent: Extent::new(ptr.is_null(), len.saturating_mul(element), exact),
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
        self.extent.wrote(elements.saturating_mul(self.element));
    }
}

impl Out for OutRaw {
    fn encode(&self, buf: &mut Vec<u8>) -> Result<(), EncodeError> {
        let written = self.extent.written;
        let bytes: &[u8] = if written == 0 {
            &[]
        } else {
            // SAFETY: `new`'s contract: valid for `capacity >= written` bytes.
            unsafe { std::slice::from_raw_parts(self.ptr, written) }
        };
        encode(&Bytes(bytes), buf)
    }
    fn decode(&mut self, bytes: &mut &[u8]) -> Result<(), String> {
        let data = format::take_blob(bytes).ok_or("the recorded buffer is cut short")?;
        self.extent.fits(data.len(), "bytes")?;
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
    extent: Extent,
}

impl<T: Mapped + Serialize + DeserializeOwned> OutHandles<T> {
    /// A buffer of `len` handles; see [`OutRaw::new`].
    ///
    /// # Safety
    ///
    /// As for [`OutRaw::new`].
    #[inline]
    pub unsafe fn new(ptr: *mut T, len: usize, exact: bool) -> Self {
        OutHandles {
            ptr,
            extent: Extent::new(ptr.is_null(), len, exact),
        }
    }
}

impl<T: Mapped + Serialize + DeserializeOwned> OutBuffer for OutHandles<T> {
    #[inline]
    fn wrote(&mut self, elements: usize) {
        self.extent.wrote(elements);
    }
}

impl<T: Mapped + Serialize + DeserializeOwned> Out for OutHandles<T> {
    fn encode(&self, buf: &mut Vec<u8>) -> Result<(), EncodeError> {
        let written = self.extent.written;
        let handles: &[T] = if written == 0 {
            &[]
        } else {
            // SAFETY: `new`'s contract, and the call wrote these: each is
            // a handle (`Mapped` is a transparent wrapper of a raw one).
            unsafe { std::slice::from_raw_parts(self.ptr, written) }
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
        self.extent.fits(handles.len(), "handle(s)")?;
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
