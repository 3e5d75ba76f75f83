//! One recorded value read back with the type a signature names, as
//! postcard wrote it, and shown as Rust writes it.

use std::fmt::Write as _;

use replay_runtime::inspect::printable;

use crate::signature::Type;

/// Bytes of text shown of one call's arguments, or of its results.
pub(crate) const ROOM: usize = 2048;
/// Elements shown of a sequence.
const ELEMENTS: usize = 32;
/// Characters shown of a string.
const CHARS: usize = 256;
/// Bytes shown of a raw output buffer.
const BYTES: usize = 64;
/// Steps (a value read, a type looked into) a value may take per byte of
/// its encoding, and beyond them. Types of units and one-element arrays
/// can make each byte cost thousands of steps (`Vec<[((), (), …, u8); 1]>`);
/// past this budget the value is shown undecoded, so that decoding stays
/// linear in the file's size. Real values take a few steps per byte.
const STEPS_PER_BYTE: usize = 64;
/// See [`STEPS_PER_BYTE`]: what values of no bytes, `()`, may take.
const STEPS: usize = 1024;

/// Each of `types` read from `bytes`, shown; `None` unless `bytes` are
/// exactly their encodings, in order, read within the steps allowed.
pub(crate) fn values<'t>(
    types: impl IntoIterator<Item = &'t Type>,
    bytes: &[u8],
) -> Option<Vec<String>> {
    let mut reader = Reader {
        rest: bytes,
        text: String::new(),
        room: ROOM,
        cut: false,
        hidden: 0,
        steps: STEPS.saturating_add(bytes.len().saturating_mul(STEPS_PER_BYTE)),
    };
    let mut shown = Vec::new();
    for ty in types {
        reader.value(ty)?;
        let mut text = std::mem::take(&mut reader.text);
        if reader.cut {
            text.push('…');
        }
        shown.push(text);
    }
    reader.rest.is_empty().then_some(shown)
}

/// Postcard's encoding read back, as `postcard::from_bytes` reads it.
struct Reader<'a> {
    rest: &'a [u8],
    /// The value being shown.
    text: String,
    /// Characters that may still be shown: a value past it is cut short.
    room: usize,
    /// The room ran out: every value from there on is cut short.
    cut: bool,
    /// Above zero while reading elements that are not shown.
    hidden: u32,
    /// Steps left: see [`STEPS_PER_BYTE`].
    steps: usize,
}

impl Reader<'_> {
    /// One step of work; `None` when the budget is spent.
    fn step(&mut self) -> Option<()> {
        self.steps = self.steps.checked_sub(1)?;
        Some(())
    }

    /// Whether `ty`'s encoding takes no bytes, a step per type looked into.
    fn zero_sized(&mut self, ty: &Type) -> Option<bool> {
        self.step()?;
        Some(match ty {
            Type::Unit => true,
            Type::Tuple(types) => {
                for ty in types {
                    if !self.zero_sized(ty)? {
                        return Some(false);
                    }
                }
                true
            }
            Type::Array(elem, len) => *len == 0 || self.zero_sized(elem)?,
            _ => false,
        })
    }

    fn show(&mut self, text: &str) {
        if self.hidden > 0 {
            return;
        }
        if text.len() <= self.room {
            self.text.push_str(text);
            self.room -= text.len();
        } else {
            self.room = 0;
            self.cut = true;
        }
    }

    fn take(&mut self, n: usize) -> Option<&[u8]> {
        if n > self.rest.len() {
            return None;
        }
        let (taken, rest) = self.rest.split_at(n);
        self.rest = rest;
        Some(taken)
    }

    fn byte(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }

    /// A varint of an integer type of `bits` bits: at most as many bytes
    /// as it needs, and no bits past its width.
    fn varint(&mut self, bits: u32) -> Option<u128> {
        let mut value = 0u128;
        for shift in (0..bits).step_by(7) {
            let byte = self.byte()?;
            let group = u128::from(byte & 0x7f);
            if shift + 7 > bits && group >> (bits - shift) != 0 {
                return None;
            }
            value |= group << shift;
            if byte & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }

    /// A length: a `usize` varint.
    fn len(&mut self) -> Option<usize> {
        usize::try_from(self.varint(64)?).ok()
    }

    fn value(&mut self, ty: &Type) -> Option<()> {
        self.step()?;
        match ty {
            Type::Unit => self.show("()"),
            Type::Bool => match self.byte()? {
                0 => self.show("false"),
                1 => self.show("true"),
                _ => return None,
            },
            Type::Unsigned(8) => {
                let byte = self.byte()?;
                self.show(&byte.to_string());
            }
            Type::Signed(8) => {
                let byte = self.byte()?;
                self.show(&(byte as i8).to_string());
            }
            // `c_char` is `i8` or `u8` by platform: below 128 they agree.
            Type::CChar => {
                let byte = self.byte().filter(|b| b.is_ascii())?;
                self.show(&byte.to_string());
            }
            Type::Unsigned(bits) => {
                let value = self.varint(*bits)?;
                self.show(&value.to_string());
            }
            Type::Signed(bits) => {
                let zigzag = self.varint(*bits)?;
                let value = (zigzag >> 1) as i128 ^ -((zigzag & 1) as i128);
                self.show(&value.to_string());
            }
            Type::F32 => {
                let bytes = self.take(4)?.try_into().ok()?;
                self.show(&format!("{:?}", f32::from_le_bytes(bytes)));
            }
            Type::F64 => {
                let bytes = self.take(8)?.try_into().ok()?;
                self.show(&format!("{:?}", f64::from_le_bytes(bytes)));
            }
            Type::Char => {
                let len = self.len()?;
                let text = std::str::from_utf8(self.take(len)?).ok()?;
                let mut chars = text.chars();
                let (Some(c), None) = (chars.next(), chars.next()) else {
                    return None;
                };
                self.show(&format!("{c:?}"));
            }
            Type::Str => {
                let len = self.len()?;
                let text = std::str::from_utf8(self.take(len)?).ok()?;
                let shown = match text.char_indices().nth(CHARS) {
                    Some((end, _)) => format!("{:?}… ({len} bytes)", &text[..end]),
                    None => format!("{text:?}"),
                };
                self.show(&shown);
            }
            Type::Bytes => {
                let len = self.len()?;
                let bytes = self.take(len)?;
                let mut shown = format!("b\"{}\"", bytes[..len.min(BYTES)].escape_ascii());
                if len > BYTES {
                    let _ = write!(shown, "… ({len} bytes)");
                }
                self.show(&shown);
            }
            Type::CStr => match self.byte()? {
                0 => self.show("NULL"),
                1 => {
                    let len = self.len()?;
                    let bytes = self.take(len)?;
                    let text = String::from_utf8_lossy(&bytes[..len.min(CHARS)]).into_owned();
                    let more = if len > CHARS { "…" } else { "" };
                    self.show(&format!("c{text:?}{more}"));
                }
                _ => return None,
            },
            Type::FnPtr => match self.byte()? {
                0 => self.show("NULL"),
                1 => {
                    let len = self.len()?;
                    let name = std::str::from_utf8(self.take(len)?).ok()?.to_owned();
                    let shown = match name.as_str() {
                        "" => "a function not marked as a callback".to_owned(),
                        name => format!("callback {}", printable(name)),
                    };
                    self.show(&shown);
                }
                _ => return None,
            },
            Type::Handle(name) => {
                let index = u32::try_from(self.varint(32)?).ok()?;
                let generation = u32::try_from(self.varint(32)?).ok()?;
                let shown = match index {
                    u32::MAX => format!("{name} (not a handle of the session)"),
                    // A null `ContextPtr`.
                    0xffff_fffe => "NULL".to_owned(),
                    _ => format!("{name} #{index}.{generation}"),
                };
                self.show(&shown);
            }
            Type::Seq(elem) => {
                let len = u64::try_from(self.varint(64)?).ok()?;
                self.elements(elem, len)?;
            }
            Type::Array(elem, len) => self.elements(elem, *len)?,
            Type::Option(inner) => match self.byte()? {
                0 => self.show("None"),
                1 => self.wrapped("Some", inner)?,
                _ => return None,
            },
            Type::Result(ok, err) => match self.varint(32)? {
                0 => self.wrapped("Ok", ok)?,
                1 => self.wrapped("Err", err)?,
                _ => return None,
            },
            Type::Tuple(types) => {
                self.show("(");
                for (i, ty) in types.iter().enumerate() {
                    if i > 0 {
                        self.show(", ");
                    }
                    self.value(ty)?;
                }
                self.show(if types.len() == 1 { ",)" } else { ")" });
            }
            Type::Unknown => return None,
        }
        Some(())
    }

    fn wrapped(&mut self, name: &str, inner: &Type) -> Option<()> {
        self.show(name);
        self.show("(");
        self.value(inner)?;
        self.show(")");
        Some(())
    }

    /// `len` elements, the first few shown: `[1, 2, … 98 more]`.
    fn elements(&mut self, elem: &Type, len: u64) -> Option<()> {
        let empty = self.zero_sized(elem)?;
        // Every element takes a byte at least: a length cannot outrun them.
        if !empty && len > self.rest.len() as u64 {
            return None;
        }
        self.show("[");
        for i in 0..len {
            let shown = i < ELEMENTS as u64 && self.hidden == 0 && !self.cut;
            if empty && !shown {
                // The rest would read no bytes.
                break;
            }
            if !shown {
                self.hidden += 1;
            } else if i > 0 {
                self.show(", ");
            }
            self.value(elem)?;
            if !shown {
                self.hidden -= 1;
            }
        }
        if len > ELEMENTS as u64 {
            self.show(&format!(", … {} more", len - ELEMENTS as u64));
        }
        self.show("]");
        Some(())
    }
}
