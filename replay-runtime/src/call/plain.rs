//! Plain data: what may be copied to and from a recording as raw bytes.

/// A type whose bytes mean the same in every run: no pointers, references
/// or handles inside, and any bit pattern foreign code writes is a valid
/// value. Only plain data crosses a raw `#[out(len = ..)]`, `#[inout(..)]`
/// or `#[input(..)]` buffer, which is recorded (and written back) byte for
/// byte; anything holding an address
/// or a handle would come back from another run as a stale value (a
/// handle C writes is a `#[mapped]` type instead, recorded as its slot).
///
/// Implemented for the integer and floating-point types, `c_void` (a
/// buffer of untyped bytes) and arrays of plain data. For a `#[repr(C)]`
/// struct of plain fields, assert it yourself:
///
/// ```
/// #[repr(C)]
/// struct Point {
///     x: i32,
///     y: i32,
/// }
///
/// // SAFETY: two integers: no address, no handle, every bit pattern valid.
/// unsafe impl replay_runtime::Plain for Point {}
/// ```
///
/// # Safety
///
/// Implement it only for types with no pointer, reference, handle or
/// descriptor inside (their bytes would mean nothing in another run), for
/// which every bit pattern is a valid value (`bool`, `char` and enums are
/// not: C may write any byte), and with no padding: an input array is read
/// byte for byte, and a padding byte is uninitialised memory (garbage in
/// the recording, and a replay that diverges on it). Make padding a field
/// of its own (`_pad: [u8; 3]`) and zero it.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not plain data: its bytes may hold an address or a handle, which means nothing in another run",
    label = "copied byte for byte to and from the recording",
    note = "if `{Self}` is a type of yours whose bytes mean the same in every run (no pointers, no handles, any bit pattern valid), say so: `unsafe impl replay_runtime::Plain for {Self} {{}}`",
    note = "a handle (a descriptor, a pointer C owns) is a `#[mapped]` type; C writing one (`T**`) is `#[out(len = 1)] p: *mut Handle`",
    note = "a C string C writes is `#[out(len = 1)] p: *mut *mut c_char`; a pointer C writes into another argument is `#[out(len = 1, points_into = that_argument)]`"
)]
pub unsafe trait Plain: Sized {
    /// Elements of this type, from their bytes, as a divergence report
    /// shows them: numbers as numbers (one alone, or `[1, 2, 3]`), other
    /// plain data as its length and bytes in hex.
    #[doc(hidden)]
    fn show(bytes: &[u8]) -> String {
        super::show::show_bytes(bytes)
    }
}

macro_rules! plain {
    ($($t:ty),*) => {$(
        // SAFETY: a number: no address, and every bit pattern is one.
        unsafe impl Plain for $t {
            fn show(bytes: &[u8]) -> String {
                let values: Vec<String> = bytes
                    .chunks_exact(size_of::<$t>())
                    .take(32)
                    .map(|b| <$t>::from_ne_bytes(b.try_into().expect("one element")).to_string())
                    .collect();
                let count = bytes.len() / size_of::<$t>();
                match count {
                    1 => values.concat(),
                    _ if count > values.len() => format!("[{}, .. ({count} in all)]", values.join(", ")),
                    _ => format!("[{}]", values.join(", ")),
                }
            }
        }
    )*};
}

plain!(
    u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize, f32, f64
);

// SAFETY: untyped bytes, which C may write as it likes; never read as a
// value.
unsafe impl Plain for core::ffi::c_void {}

// SAFETY: elements of plain data, laid out with no padding of their own.
unsafe impl<T: Plain, const N: usize> Plain for [T; N] {}
