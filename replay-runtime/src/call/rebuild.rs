//! A callback's recorded arguments, rebuilt for replay to pass it as C
//! would: C strings, arrays and arrays of C strings made again from their
//! recorded bytes, owned until the callback returns.

use std::ffi::{CString, c_char};

use serde::de::DeserializeOwned;

use super::plain::Plain;
use crate::context::{self, Phase, Scope};

/// Reads the next recorded argument, of type `T`: a handle or a
/// `ContextPtr` among them resolves as a recorded result does.
pub fn take<T: DeserializeOwned>(bytes: &mut &[u8]) -> Result<T, String> {
    let _results = Scope::enter(context::mode(), Phase::Results);
    let (value, rest) = postcard::take_from_bytes::<T>(bytes).map_err(|e| {
        format!(
            "a recorded argument cannot be read as `{}`: {e}",
            std::any::type_name::<T>()
        )
    })?;
    *bytes = rest;
    Ok(value)
}

fn c_string(bytes: Vec<u8>) -> Result<CString, String> {
    CString::new(bytes).map_err(|_| "a recorded C string holds a NUL byte".to_owned())
}

/// A C string (or null) rebuilt from a recorded `*const c_char`.
pub struct CStrOwned(Option<CString>);

impl CStrOwned {
    /// Reads the next recorded argument as a C string.
    pub fn take(bytes: &mut &[u8]) -> Result<Self, String> {
        let recorded: Option<Vec<u8>> = take(bytes)?;
        Ok(CStrOwned(recorded.map(c_string).transpose()?))
    }

    /// The pointer C would pass: null, or the string.
    pub fn as_ptr(&self) -> *const c_char {
        self.0.as_ref().map_or(std::ptr::null(), |s| s.as_ptr())
    }
}

/// An array of plain data rebuilt from a recorded `#[input(len = ..)]`.
pub struct ArrayOwned<T>(Vec<T>);

impl<T: Plain> ArrayOwned<T> {
    /// Reads the next recorded argument as an array of `T`.
    pub fn take(bytes: &mut &[u8]) -> Result<Self, String> {
        let recorded: Vec<u8> = take(bytes)?;
        let size = size_of::<T>().max(1);
        if recorded.len() % size != 0 {
            return Err(format!(
                "a recorded array of {} bytes does not hold whole `{}`s",
                recorded.len(),
                std::any::type_name::<T>()
            ));
        }
        let len = recorded.len() / size;
        let mut array = Vec::<T>::with_capacity(len);
        // SAFETY: room for `len` elements; `Plain` says any bytes are a
        // valid `T`, and exactly `len * size_of::<T>()` bytes are copied.
        unsafe {
            std::ptr::copy_nonoverlapping(
                recorded.as_ptr(),
                array.as_mut_ptr().cast::<u8>(),
                len * size_of::<T>(),
            );
            array.set_len(len);
        }
        Ok(ArrayOwned(array))
    }

    /// The pointer C would pass.
    pub fn as_ptr(&self) -> *const T {
        self.0.as_ptr()
    }
}

/// An array of C strings rebuilt from a recorded `#[input(..)]`, ending
/// with a null pointer (as `null_terminated` arrays do; one of `len`
/// elements has it past its end).
pub struct StringsOwned {
    _strings: Vec<Option<CString>>,
    pointers: Vec<*const c_char>,
}

impl StringsOwned {
    /// Reads the next recorded argument as an array of C strings.
    pub fn take(bytes: &mut &[u8]) -> Result<Self, String> {
        let recorded: Vec<Option<Vec<u8>>> = take(bytes)?;
        let strings = recorded
            .into_iter()
            .map(|s| s.map(c_string).transpose())
            .collect::<Result<Vec<_>, _>>()?;
        let mut pointers: Vec<*const c_char> = strings
            .iter()
            .map(|s| s.as_ref().map_or(std::ptr::null(), |s| s.as_ptr()))
            .collect();
        pointers.push(std::ptr::null());
        Ok(StringsOwned {
            _strings: strings,
            pointers,
        })
    }

    /// The pointer C would pass.
    pub fn as_ptr(&self) -> *const *const c_char {
        self.pointers.as_ptr()
    }
}
