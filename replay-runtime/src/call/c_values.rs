//! Values C passes as pointers, read as the values they point at: a C
//! string, an input array, an array of C strings, and a borrowed C string
//! returned. Each is recorded as the value, never as the address.

use std::collections::HashSet;
use std::ffi::{CStr, c_char};
use std::fmt;
use std::marker::PhantomData;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::plain::Plain;
use super::show::Render;

/// Serializes bytes as postcard bytes (a length, then the bytes), not as a
/// sequence of `u8`s one by one.
pub(super) struct Bytes<'a>(pub(super) &'a [u8]);

impl Serialize for Bytes<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0)
    }
}

/// A pointer C reads through, `*const T` or `*mut T` alike.
pub trait ReadPtr<T>: Copy {
    /// The pointer, as `*const`.
    fn as_const(self) -> *const T;
}

impl<T> ReadPtr<T> for *const T {
    #[inline]
    fn as_const(self) -> *const T {
        self
    }
}

impl<T> ReadPtr<T> for *mut T {
    #[inline]
    fn as_const(self) -> *const T {
        self
    }
}

/// The count a pointer parameter holds (`len = *count`, `written =
/// *count`); null, negative or unrepresentable means none.
///
/// # Safety
///
/// As for the foreign function: `ptr` is null or valid for a read.
#[inline]
pub unsafe fn deref_count<T: Copy + TryInto<usize>>(ptr: impl ReadPtr<T>) -> usize {
    let ptr = ptr.as_const();
    if ptr.is_null() {
        return 0;
    }
    // SAFETY: the caller's contract.
    unsafe { ptr.read() }.try_into().unwrap_or(0)
}

/// A nullable C string's bytes, without the NUL.
fn c_str<'a>(ptr: *const c_char) -> Option<&'a [u8]> {
    // SAFETY: the callers' contract: null or a NUL-terminated string that
    // outlives the call.
    (!ptr.is_null()).then(|| unsafe { CStr::from_ptr(ptr) }.to_bytes())
}

fn serialize_c_str<S: Serializer>(bytes: Option<&[u8]>, s: S) -> Result<S::Ok, S::Error> {
    match bytes {
        Some(bytes) => s.serialize_some(&Bytes(bytes)),
        None => s.serialize_none(),
    }
}

/// A nullable C string as reports show it: `NULL`, or the text.
fn show_c_str(bytes: Option<&[u8]>) -> String {
    match bytes {
        Some(bytes) => format!("{:?}", String::from_utf8_lossy(bytes)),
        None => "NULL".to_owned(),
    }
}

/// A `*const c_char` argument: a C string, or null; recorded as its bytes.
pub struct CStrIn<'a>(Option<&'a [u8]>);

impl CStrIn<'_> {
    /// Reads the string at `ptr`.
    ///
    /// # Safety
    ///
    /// As for the foreign function: `ptr` is null or points at a
    /// NUL-terminated string that outlives the call.
    #[inline]
    pub unsafe fn new(ptr: impl ReadPtr<c_char>) -> Self {
        CStrIn(c_str(ptr.as_const()))
    }
}

impl Serialize for CStrIn<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize_c_str(self.0, s)
    }
}

impl Render for CStrIn<'_> {
    fn actual(&self) -> String {
        show_c_str(self.0)
    }
    fn recorded(bytes: &[u8]) -> Option<String> {
        let (value, _) = postcard::take_from_bytes::<Option<Vec<u8>>>(bytes).ok()?;
        Some(show_c_str(value.as_deref()))
    }
}

/// A `#[input(len = n)]` argument: `n` elements of plain data, recorded as
/// their bytes. A null pointer is an empty array.
pub struct ArrayIn<'a, T>(&'a [u8], PhantomData<T>);

impl<T: Plain> ArrayIn<'_, T> {
    /// Reads `len` elements at `ptr`.
    ///
    /// # Safety
    ///
    /// As for the foreign function: unless null, `ptr` is valid for reads
    /// of `len` elements.
    #[inline]
    pub unsafe fn new(ptr: impl ReadPtr<T>, len: usize) -> Self {
        let ptr = ptr.as_const();
        if ptr.is_null() || len == 0 {
            return ArrayIn(&[], PhantomData);
        }
        let bytes = len.saturating_mul(size_of::<T>());
        // SAFETY: the caller's contract; plain data has no padding that
        // matters (`Plain`'s contract) and is read as bytes only.
        ArrayIn(
            unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), bytes) },
            PhantomData,
        )
    }
}

impl<T> Serialize for ArrayIn<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0)
    }
}

impl<T: Plain> Render for ArrayIn<'_, T> {
    fn actual(&self) -> String {
        T::show(self.0)
    }
    fn recorded(bytes: &[u8]) -> Option<String> {
        let (value, _) = postcard::take_from_bytes::<Vec<u8>>(bytes).ok()?;
        Some(T::show(&value))
    }
}

/// A `#[input(len = n)]` or `#[input(null_terminated)]` array of C
/// strings (`*const *const c_char`), each one nullable.
pub struct StringsIn<'a>(Vec<Option<&'a [u8]>>);

impl StringsIn<'_> {
    /// Reads `len` C strings at `ptr`, or, with `None`, up to the first
    /// null pointer. A null `ptr` is an empty array.
    ///
    /// # Safety
    ///
    /// As for the foreign function: unless null, `ptr` points at `len`
    /// pointers (or at pointers ending with a null one), each null or a
    /// NUL-terminated string that outlives the call.
    pub unsafe fn new<P: ReadPtr<c_char>>(ptr: impl ReadPtr<P>, len: Option<usize>) -> Self {
        let ptr = ptr.as_const();
        let mut strings = Vec::new();
        if ptr.is_null() {
            return StringsIn(strings);
        }
        for i in 0.. {
            if len.is_some_and(|len| i >= len) {
                break;
            }
            // SAFETY: the caller's contract: element `i` is in the array.
            let element = unsafe { ptr.add(i).read() }.as_const();
            if len.is_none() && element.is_null() {
                break;
            }
            strings.push(c_str(element));
        }
        StringsIn(strings)
    }
}

impl Serialize for StringsIn<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for string in &self.0 {
            seq.serialize_element(&string.map(Bytes))?;
        }
        seq.end()
    }
}

fn show_strings<'a>(strings: impl Iterator<Item = Option<&'a [u8]>>) -> String {
    let shown: Vec<String> = strings.map(show_c_str).collect();
    format!("[{}]", shown.join(", "))
}

impl Render for StringsIn<'_> {
    fn actual(&self) -> String {
        show_strings(self.0.iter().copied())
    }
    fn recorded(bytes: &[u8]) -> Option<String> {
        let (value, _) = postcard::take_from_bytes::<Vec<Option<Vec<u8>>>>(bytes).ok()?;
        Some(show_strings(value.iter().map(Option::as_deref)))
    }
}

/// A copy of `string` that lives as long as the process, shared by every
/// equal string: what a replayed borrowed C string points at. C may have
/// promised its pointer for ever (`sqlite3_libversion`, a static
/// message), and replay cannot know; the copies are bounded by the
/// distinct strings the recording holds.
fn keep(string: &CStr) -> *const c_char {
    static KEPT: std::sync::Mutex<Option<HashSet<&'static CStr>>> = std::sync::Mutex::new(None);
    let mut kept = KEPT
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let kept = kept.get_or_insert_with(HashSet::new);
    if let Some(found) = kept.get(string) {
        return found.as_ptr();
    }
    let leaked: &'static CStr = Box::leak(Box::from(string));
    kept.insert(leaked);
    leaked.as_ptr()
}

/// A borrowed C string a foreign function returns (`-> *const c_char`).
/// Recorded as its bytes; in replay, a pointer to a copy that lives as long
/// as the process (see `keep`).
pub struct CStrRet(pub *const c_char);

impl Serialize for CStrRet {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize_c_str(c_str(self.0), s)
    }
}

impl<'de> Deserialize<'de> for CStrRet {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let Some(mut bytes) = Option::<Vec<u8>>::deserialize(d)? else {
            return Ok(CStrRet(std::ptr::null()));
        };
        if bytes.contains(&0) {
            return Err(serde::de::Error::custom(
                "the recorded C string holds a NUL byte",
            ));
        }
        bytes.push(0);
        let string = CStr::from_bytes_with_nul(&bytes).map_err(serde::de::Error::custom)?;
        Ok(CStrRet(keep(string)))
    }
}

impl fmt::Debug for CStrRet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&show_c_str(c_str(self.0)))
    }
}

/// A borrowed element of plain data a foreign function returns (`-> *const
/// T`, as `localtime` returns a `struct tm *`). Recorded as its bytes (or
/// null); in replay, a pointer to a copy that lives as long as the process,
/// shared by equal values, as `keep` does for C strings.
pub struct PlainRet<T>(pub *const T);

impl<T: Plain> Serialize for PlainRet<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0.is_null() {
            return s.serialize_none();
        }
        // SAFETY: the foreign function returned a pointer to a `T` (its
        // declaration says so), valid until the next call at least; plain
        // data is read as its bytes.
        let bytes = unsafe { std::slice::from_raw_parts(self.0.cast::<u8>(), size_of::<T>()) };
        s.serialize_some(&Bytes(bytes))
    }
}

impl<'de, T: Plain + 'static> Deserialize<'de> for PlainRet<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let Some(bytes) = Option::<Vec<u8>>::deserialize(d)? else {
            return Ok(PlainRet(std::ptr::null()));
        };
        if bytes.len() != size_of::<T>() {
            return Err(serde::de::Error::custom(format!(
                "the recorded value has {} bytes, and a `{}` {}",
                bytes.len(),
                std::any::type_name::<T>(),
                size_of::<T>()
            )));
        }
        Ok(PlainRet(keep_plain::<T>(bytes)))
    }
}

/// A copy of a `T` from its bytes that lives as long as the process, shared
/// by equal values of one type.
fn keep_plain<T: Plain + 'static>(bytes: Vec<u8>) -> *const T {
    type Kept = std::collections::HashMap<(std::any::TypeId, Vec<u8>), usize>;
    static KEPT: std::sync::Mutex<Option<Kept>> = std::sync::Mutex::new(None);
    let mut kept = KEPT
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let kept = kept.get_or_insert_with(Default::default);
    let key = (std::any::TypeId::of::<T>(), bytes);
    if let Some(&address) = kept.get(&key) {
        return address as *const T;
    }
    let mut value = std::mem::MaybeUninit::<T>::uninit();
    // SAFETY: `size_of::<T>()` bytes (checked by the caller) into room for
    // one `T`, which `Plain` says any bytes are.
    let value = unsafe {
        std::ptr::copy_nonoverlapping(key.1.as_ptr(), value.as_mut_ptr().cast::<u8>(), key.1.len());
        value.assume_init()
    };
    let leaked: &'static T = Box::leak(Box::new(value));
    let address = leaked as *const T;
    kept.insert(key, address as usize);
    address
}

impl<T> fmt::Debug for PlainRet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}
