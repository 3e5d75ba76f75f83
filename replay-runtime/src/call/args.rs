//! A call's values as the wrapper hands them over: input arguments
//! ([`Arg`], [`Args`]) and out-parameters ([`Out`], [`Outs`]).

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::plain::Plain;
use super::show::Show;
use crate::recording::encode::{EncodeError, encode};
use crate::recording::format::{self, ArgValues};

/// One input argument of a call, borrowed for recording or checking.
pub struct Arg<'a, T: ?Sized> {
    value: &'a T,
    show: Show<T>,
}

impl<'a, T: ?Sized + Serialize> Arg<'a, T> {
    /// Borrows `value`, with the renderers a [`Probe`](super::probe::Probe) chose for its type.
    #[inline]
    pub fn new(value: &'a T, show: Show<T>) -> Self {
        Arg { value, show }
    }
}

/// An argument seen without its type, for the cold paths.
pub(crate) trait ErasedArg {
    fn encode(&self, buf: &mut Vec<u8>) -> Result<(), EncodeError>;
    fn show_actual(&self) -> Option<String>;
    fn show_recorded(&self, bytes: &[u8]) -> Option<String>;
}

impl<T: ?Sized + Serialize> ErasedArg for Arg<'_, T> {
    fn encode(&self, buf: &mut Vec<u8>) -> Result<(), EncodeError> {
        encode(self.value, buf)
    }
    fn show_actual(&self) -> Option<String> {
        self.show.actual.map(|f| f(self.value))
    }
    fn show_recorded(&self, bytes: &[u8]) -> Option<String> {
        self.show.recorded.and_then(|f| f(bytes))
    }
}

/// The input arguments of a call: a tuple of [`Arg`]s.
#[allow(private_bounds)]
pub trait Args {
    /// How many there are.
    const COUNT: usize;
    /// Appends every argument's encoding, in order.
    fn encode(&self, buf: &mut Vec<u8>) -> Result<(), EncodeError>;
    #[doc(hidden)]
    #[allow(private_interfaces)]
    fn get(&self, index: usize) -> &dyn ErasedArg;
}

/// One out-parameter: written by the real call, recorded, written back on replay.
pub trait Out {
    /// Appends the value the real call left.
    fn encode(&self, buf: &mut Vec<u8>) -> Result<(), EncodeError>;
    /// Writes the recorded value back; an error says why it does not fit.
    fn decode(&mut self, bytes: &mut &[u8]) -> Result<(), String>;
}

/// The out-parameters of a call: a tuple of [`Out`]s.
pub trait Outs {
    /// Appends every out-parameter's encoding, in order.
    fn encode(&self, buf: &mut Vec<u8>) -> Result<(), EncodeError>;
    /// Writes every recorded value back, in order.
    fn decode(&mut self, bytes: &mut &[u8]) -> Result<(), String>;
}

macro_rules! tuples {
    ($count:expr; $($name:ident $index:tt),*) => {
        impl<$($name: ?Sized + Serialize),*> Args for ($(Arg<'_, $name>,)*) {
            const COUNT: usize = $count;
            #[inline]
            #[allow(unused_variables)]
            fn encode(&self, buf: &mut Vec<u8>) -> Result<(), EncodeError> {
                // One serializer for all: a tuple encodes as its elements in turn.
                encode(&($(self.$index.value,)*), buf)
            }
            #[allow(private_interfaces)]
            fn get(&self, index: usize) -> &dyn ErasedArg {
                match index {
                    $($index => &self.$index,)*
                    _ => panic!("argument {index} out of range"),
                }
            }
        }

        impl<$($name: Out),*> Outs for ($($name,)*) {
            #[inline]
            #[allow(unused_variables)]
            fn encode(&self, buf: &mut Vec<u8>) -> Result<(), EncodeError> {
                $(self.$index.encode(buf)?;)*
                Ok(())
            }
            #[allow(unused_variables)]
            fn decode(&mut self, bytes: &mut &[u8]) -> Result<(), String> {
                $(self.$index.decode(bytes)?;)*
                Ok(())
            }
        }
    };
}

tuples!(0;);
tuples!(1; A 0);
tuples!(2; A 0, B 1);
tuples!(3; A 0, B 1, C 2);
tuples!(4; A 0, B 1, C 2, D 3);
tuples!(5; A 0, B 1, C 2, D 3, E 4);
tuples!(6; A 0, B 1, C 2, D 3, E 4, F 5);
tuples!(7; A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuples!(8; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
tuples!(9; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);
tuples!(10; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);
tuples!(11; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10);
tuples!(12; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11);

/// A `&mut T` out-parameter.
pub struct OutRef<'a, T>(pub &'a mut T);

impl<T: Serialize + DeserializeOwned> Out for OutRef<'_, T> {
    fn encode(&self, buf: &mut Vec<u8>) -> Result<(), EncodeError> {
        encode(&*self.0, buf)
    }
    fn decode(&mut self, bytes: &mut &[u8]) -> Result<(), String> {
        let (value, rest) = postcard::take_from_bytes::<T>(bytes).map_err(|e| {
            format!(
                "the recorded value cannot be read as `{}`: {e}",
                std::any::type_name::<T>()
            )
        })?;
        *self.0 = value;
        *bytes = rest;
        Ok(())
    }
}

/// A `&mut [T]` out-parameter.
pub struct OutSlice<'a, T>(pub &'a mut [T]);

impl<T: Serialize + DeserializeOwned> Out for OutSlice<'_, T> {
    fn encode(&self, buf: &mut Vec<u8>) -> Result<(), EncodeError> {
        encode(&*self.0, buf)
    }
    fn decode(&mut self, bytes: &mut &[u8]) -> Result<(), String> {
        let (values, rest) = postcard::take_from_bytes::<Vec<T>>(bytes).map_err(|e| {
            format!(
                "the recorded slice cannot be read as `[{}]`: {e}",
                std::any::type_name::<T>()
            )
        })?;
        if values.len() != self.0.len() {
            return Err(format!(
                "the recorded slice has {} elements but the slice passed now has {}",
                values.len(),
                self.0.len()
            ));
        }
        for (slot, value) in self.0.iter_mut().zip(values) {
            *slot = value;
        }
        *bytes = rest;
        Ok(())
    }
}

/// A raw output buffer of an extern function: `#[out(len = ...)]`.
pub struct OutRaw {
    ptr: *mut u8,
    capacity: usize,
    written: usize,
    /// The call fills the whole buffer (no `written = return`): replay
    /// must find exactly as many bytes recorded as the buffer holds now.
    exact: bool,
}

impl OutRaw {
    /// A buffer of `capacity` bytes, all of which the call is taken to
    /// write unless [`wrote`](Self::wrote) says less. A null pointer is an
    /// empty buffer.
    ///
    /// # Safety
    ///
    /// As for the foreign function: unless null, `ptr` is valid for writes
    /// of `capacity` bytes.
    #[inline]
    pub unsafe fn new<T: Plain>(ptr: *mut T, capacity: usize) -> Self {
        let capacity = if ptr.is_null() { 0 } else { capacity };
        OutRaw {
            ptr: ptr.cast(),
            capacity,
            written: capacity,
            exact: true,
        }
    }

    /// A buffer of `capacity` bytes of which the call writes a part, which
    /// its return value counts (`written = return`; see
    /// [`wrote`](Self::wrote)).
    ///
    /// # Safety
    ///
    /// As for [`new`](Self::new).
    #[inline]
    pub unsafe fn up_to<T: Plain>(ptr: *mut T, capacity: usize) -> Self {
        OutRaw {
            exact: false,
            // SAFETY: the caller's contract, the same.
            ..unsafe { OutRaw::new(ptr, capacity) }
        }
    }

    /// The call reports writing the first `bytes` bytes
    /// (`written = return`).
    #[inline]
    pub fn wrote(&mut self, bytes: usize) {
        self.written = bytes.min(self.capacity);
    }
}

/// The byte length of `count` elements of the pointee of `_ptr`.
#[inline]
pub fn byte_len<T>(_ptr: *const T, count: usize) -> usize {
    count.saturating_mul(std::mem::size_of::<T>())
}

/// An output buffer's element count from its length parameter (`len = n`);
/// a negative count is an empty buffer.
#[inline]
pub fn count<T: TryInto<usize>>(n: T) -> usize {
    n.try_into().unwrap_or(0)
}

/// How many bytes a call reports writing through its return value
/// (`written = return`): negative or unrepresentable means none.
#[inline]
pub fn written<T: Copy + TryInto<usize>>(ret: &T, element: usize) -> usize {
    (*ret).try_into().unwrap_or(0).saturating_mul(element)
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

/// Serializes a byte slice as postcard bytes (a length, then the bytes),
/// not as a sequence of `u8`s.
struct Bytes<'a>(&'a [u8]);

impl Serialize for Bytes<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0)
    }
}

/// How the recording stores a call's arguments.
impl<A: Args> ArgValues for A {
    fn count(&self) -> usize {
        A::COUNT
    }
    #[inline]
    fn encode_all(&self, buf: &mut Vec<u8>) -> Result<(), EncodeError> {
        self.encode(buf)
    }
    fn encode_one(&self, index: usize, buf: &mut Vec<u8>) -> Result<(), EncodeError> {
        self.get(index).encode(buf)
    }
}
