//! A call's values as the wrapper hands them over: input arguments
//! ([`Arg`], [`Args`]) and out-parameters ([`Out`], [`Outs`]); raw output
//! buffers are in `out_raw.rs`.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::show::{Render, Show, debug, decode_debug};
use crate::handles::Mapped;
use crate::recording::encode::{EncodeError, encode};
use crate::recording::format::ArgValues;

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

impl<'a, M: Mapped> Arg<'a, M> {
    /// Borrows a `#[mapped]` handle an extern function takes by reference.
    #[inline]
    pub fn handle(value: &'a M) -> Self {
        let show = Show {
            actual: Some(debug::<M>),
            recorded: Some(decode_debug::<M>),
        };
        Arg::new(value, show)
    }
}

impl<'a, T: Serialize + Render> Arg<'a, T> {
    /// Borrows a value C passed as a pointer ([`CStrIn`](super::CStrIn)
    /// and the like), which renders itself.
    #[inline]
    pub fn rendered(value: &'a T) -> Self {
        Arg::new(value, Show::rendered())
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

/// A call's inputs, then the values its `&mut` parameters had before the
/// call: what the recording stores as its arguments.
pub(crate) struct Both<'a, A, I>(pub(crate) &'a A, pub(crate) &'a I);

impl<A: Args, I: Args> Args for Both<'_, A, I> {
    const COUNT: usize = A::COUNT + I::COUNT;
    #[inline(always)]
    fn encode(&self, buf: &mut Vec<u8>) -> Result<(), EncodeError> {
        self.0.encode(buf)?;
        // Most calls have no `&mut` parameter: nothing to encode.
        if I::COUNT > 0 {
            self.1.encode(buf)?;
        }
        Ok(())
    }
    #[allow(private_interfaces)]
    fn get(&self, index: usize) -> &dyn ErasedArg {
        match index.checked_sub(A::COUNT) {
            None => self.0.get(index),
            Some(index) => self.1.get(index),
        }
    }
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
            #[inline(always)]
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

/// How the recording stores a call's arguments.
impl<A: Args> ArgValues for A {
    fn count(&self) -> usize {
        A::COUNT
    }
    #[inline(always)]
    fn encode_all(&self, buf: &mut Vec<u8>) -> Result<(), EncodeError> {
        self.encode(buf)
    }
    fn encode_one(&self, index: usize, buf: &mut Vec<u8>) -> Result<(), EncodeError> {
        self.get(index).encode(buf)
    }
}
