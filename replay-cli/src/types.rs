//! What a type's name says about its postcard encoding: the standard
//! library's types and the C aliases whose encoding is the same on every
//! platform; anything else is [`Type::Unknown`].

/// A type, as far as its postcard encoding goes.
#[derive(Clone, Debug, PartialEq)]
pub enum Type {
    Unit,
    Bool,
    /// An unsigned integer of this many bits: a byte for 8, else a varint.
    Unsigned(u32),
    /// A signed integer of this many bits: a byte for 8, else a zigzag varint.
    Signed(u32),
    F32,
    F64,
    Char,
    /// C's `char`: a byte, signed on some platforms and not on others.
    CChar,
    /// `str`, `String`: a length, then UTF-8.
    Str,
    /// `Vec<T>`, `[T]`: a length, then the elements.
    Seq(Box<Type>),
    /// `[T; N]`: the elements, no length.
    Array(Box<Type>, u64),
    Option(Box<Type>),
    Result(Box<Type>, Box<Type>),
    Tuple(Vec<Type>),
    /// What a `*mut T` output buffer records: a length, then raw bytes.
    Bytes,
    /// A C string (`*const c_char`): an `Option` of a length and bytes.
    CStr,
    /// A function pointer passed to C: an `Option` of the name of the
    /// callback it is (empty for a function not marked as one).
    FnPtr,
    /// A `#[mapped]` handle of this type: its slot's index and generation.
    Handle(String),
    /// A type whose name does not tell its encoding.
    Unknown,
}

/// The type a standard name stands for, given its generic arguments.
pub(crate) fn named(name: &str, args: Vec<Type>) -> Type {
    let count = args.len();
    let mut args = args.into_iter();
    let mut arg = || Box::new(args.next().unwrap_or(Type::Unknown));
    match (name, count) {
        ("Vec" | "VecDeque", 1) => Type::Seq(arg()),
        // A function pointer records its own `Option`.
        ("Option", 1) => match *arg() {
            Type::FnPtr => Type::FnPtr,
            inner => Type::Option(Box::new(inner)),
        },
        ("Result", 2) => Type::Result(arg(), arg()),
        // Serde encodes a box as what it holds.
        ("Box", 1) => *arg(),
        ("String", 0) => Type::Str,
        // A context pointer is recorded as a handle is: its slot.
        ("ContextPtr", 0) => Type::Handle("ContextPtr".to_owned()),
        (_, 0) => primitive(name),
        _ => Type::Unknown,
    }
}

/// Rust's primitive types, and the C types of `core::ffi`,
/// `std::os::raw` and `libc` whose encoding is the same on every
/// platform. Integers other than bytes are varints, so a C type only needs
/// its signedness and its widest size (`c_long` is 32 or 64 bits).
/// `wchar_t` is left out: its sign differs between platforms.
fn primitive(name: &str) -> Type {
    match name {
        "bool" => Type::Bool,
        "char" => Type::Char,
        "str" => Type::Str,
        "f32" | "c_float" => Type::F32,
        "f64" | "c_double" => Type::F64,
        "u8" | "c_uchar" | "uint8_t" => Type::Unsigned(8),
        "u16" | "c_ushort" | "uint16_t" => Type::Unsigned(16),
        "u32" | "c_uint" | "uint32_t" | "uid_t" | "gid_t" | "mode_t" | "socklen_t" => {
            Type::Unsigned(32)
        }
        "u64" | "usize" | "c_ulong" | "c_ulonglong" | "uint64_t" | "size_t" | "uintptr_t" => {
            Type::Unsigned(64)
        }
        "u128" => Type::Unsigned(128),
        "i8" | "c_schar" | "int8_t" => Type::Signed(8),
        "i16" | "c_short" | "int16_t" => Type::Signed(16),
        "i32" | "c_int" | "int32_t" | "pid_t" => Type::Signed(32),
        "i64" | "isize" | "c_long" | "c_longlong" | "int64_t" | "ssize_t" | "intptr_t"
        | "ptrdiff_t" | "off_t" | "time_t" => Type::Signed(64),
        "i128" => Type::Signed(128),
        "c_char" => Type::CChar,
        _ => Type::Unknown,
    }
}
