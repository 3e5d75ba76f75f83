//! Encoding values in postcard's wire format, straight into a reused
//! buffer. Replay decodes with `postcard` itself; this encoder exists for
//! speed on the record path, where postcard's generic flavor costs a call
//! to `memmove` for every varint. The tests below check, on arbitrary
//! values of every serde shape, that both produce the same bytes.

use std::fmt;

use serde::ser::{self, Serialize};

use super::varint::{put_varint, put_varint_u128};

/// Why a value could not be encoded (a serde error, or a sequence of
/// unknown length).
#[derive(Debug)]
pub struct EncodeError(String);

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for EncodeError {}

impl ser::Error for EncodeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        EncodeError(msg.to_string())
    }
}

fn length_unknown() -> EncodeError {
    EncodeError("a sequence or map of unknown length cannot be encoded".into())
}

/// Appends `value`'s postcard encoding to `out`.
#[inline]
pub(crate) fn encode<T: Serialize + ?Sized>(
    value: &T,
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    value.serialize(Encoder { out })
}

struct Encoder<'a> {
    out: &'a mut Vec<u8>,
}

impl<'a> ser::Serializer for Encoder<'a> {
    type Ok = ();
    type Error = EncodeError;
    type SerializeSeq = Self;
    type SerializeTuple = Self;
    type SerializeTupleStruct = Self;
    type SerializeTupleVariant = Self;
    type SerializeMap = Self;
    type SerializeStruct = Self;
    type SerializeStructVariant = Self;

    fn is_human_readable(&self) -> bool {
        false
    }

    #[inline]
    fn serialize_bool(self, v: bool) -> Result<(), EncodeError> {
        self.out.push(u8::from(v));
        Ok(())
    }
    #[inline]
    fn serialize_i8(self, v: i8) -> Result<(), EncodeError> {
        self.out.push(v as u8);
        Ok(())
    }
    #[inline]
    fn serialize_i16(self, v: i16) -> Result<(), EncodeError> {
        put_varint(self.out, u64::from(((v << 1) ^ (v >> 15)) as u16));
        Ok(())
    }
    #[inline]
    fn serialize_i32(self, v: i32) -> Result<(), EncodeError> {
        put_varint(self.out, u64::from(((v << 1) ^ (v >> 31)) as u32));
        Ok(())
    }
    #[inline]
    fn serialize_i64(self, v: i64) -> Result<(), EncodeError> {
        put_varint(self.out, ((v << 1) ^ (v >> 63)) as u64);
        Ok(())
    }
    fn serialize_i128(self, v: i128) -> Result<(), EncodeError> {
        put_varint_u128(self.out, ((v << 1) ^ (v >> 127)) as u128);
        Ok(())
    }
    #[inline]
    fn serialize_u8(self, v: u8) -> Result<(), EncodeError> {
        self.out.push(v);
        Ok(())
    }
    #[inline]
    fn serialize_u16(self, v: u16) -> Result<(), EncodeError> {
        put_varint(self.out, u64::from(v));
        Ok(())
    }
    #[inline]
    fn serialize_u32(self, v: u32) -> Result<(), EncodeError> {
        put_varint(self.out, u64::from(v));
        Ok(())
    }
    #[inline]
    fn serialize_u64(self, v: u64) -> Result<(), EncodeError> {
        put_varint(self.out, v);
        Ok(())
    }
    fn serialize_u128(self, v: u128) -> Result<(), EncodeError> {
        put_varint_u128(self.out, v);
        Ok(())
    }
    #[inline]
    fn serialize_f32(self, v: f32) -> Result<(), EncodeError> {
        self.out.extend_from_slice(&v.to_le_bytes());
        Ok(())
    }
    #[inline]
    fn serialize_f64(self, v: f64) -> Result<(), EncodeError> {
        self.out.extend_from_slice(&v.to_le_bytes());
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result<(), EncodeError> {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }
    #[inline]
    fn serialize_str(self, v: &str) -> Result<(), EncodeError> {
        self.serialize_bytes(v.as_bytes())
    }
    #[inline]
    fn serialize_bytes(self, v: &[u8]) -> Result<(), EncodeError> {
        put_varint(self.out, v.len() as u64);
        self.out.extend_from_slice(v);
        Ok(())
    }
    #[inline]
    fn serialize_none(self) -> Result<(), EncodeError> {
        self.out.push(0);
        Ok(())
    }
    #[inline]
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), EncodeError> {
        self.out.push(1);
        value.serialize(self)
    }
    #[inline]
    fn serialize_unit(self) -> Result<(), EncodeError> {
        Ok(())
    }
    #[inline]
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), EncodeError> {
        Ok(())
    }
    #[inline]
    fn serialize_unit_variant(
        self,
        _: &'static str,
        index: u32,
        _: &'static str,
    ) -> Result<(), EncodeError> {
        put_varint(self.out, u64::from(index));
        Ok(())
    }
    #[inline]
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), EncodeError> {
        value.serialize(self)
    }
    #[inline]
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        index: u32,
        _: &'static str,
        value: &T,
    ) -> Result<(), EncodeError> {
        put_varint(self.out, u64::from(index));
        value.serialize(self)
    }
    #[inline]
    fn serialize_seq(self, len: Option<usize>) -> Result<Self, EncodeError> {
        put_varint(self.out, len.ok_or_else(length_unknown)? as u64);
        Ok(self)
    }
    #[inline]
    fn serialize_tuple(self, _: usize) -> Result<Self, EncodeError> {
        Ok(self)
    }
    #[inline]
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self, EncodeError> {
        Ok(self)
    }
    #[inline]
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        index: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self, EncodeError> {
        put_varint(self.out, u64::from(index));
        Ok(self)
    }
    #[inline]
    fn serialize_map(self, len: Option<usize>) -> Result<Self, EncodeError> {
        put_varint(self.out, len.ok_or_else(length_unknown)? as u64);
        Ok(self)
    }
    #[inline]
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self, EncodeError> {
        Ok(self)
    }
    #[inline]
    fn serialize_struct_variant(
        self,
        _: &'static str,
        index: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self, EncodeError> {
        put_varint(self.out, u64::from(index));
        Ok(self)
    }
}

/// The compound serializers: every element is encoded in turn, with no
/// framing of its own.
macro_rules! compound {
    ($($trait:ident :: $method:ident ($($key:ident: $key_ty:ty),*)),* $(,)?) => {$(
        impl ser::$trait for Encoder<'_> {
            type Ok = ();
            type Error = EncodeError;
            #[inline]
            fn $method<T: Serialize + ?Sized>(&mut self, $($key: $key_ty,)* value: &T) -> Result<(), EncodeError> {
                $(let _ = $key;)*
                value.serialize(Encoder { out: self.out })
            }
            #[inline]
            fn end(self) -> Result<(), EncodeError> {
                Ok(())
            }
        }
    )*};
}

compound! {
    SerializeSeq::serialize_element(),
    SerializeTuple::serialize_element(),
    SerializeTupleStruct::serialize_field(),
    SerializeTupleVariant::serialize_field(),
    SerializeStruct::serialize_field(key: &'static str),
    SerializeStructVariant::serialize_field(key: &'static str),
}

impl ser::SerializeMap for Encoder<'_> {
    type Ok = ();
    type Error = EncodeError;
    #[inline]
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), EncodeError> {
        key.serialize(Encoder { out: self.out })
    }
    #[inline]
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
        value.serialize(Encoder { out: self.out })
    }
    #[inline]
    fn end(self) -> Result<(), EncodeError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;
    use serde::Serialize;

    use super::encode;

    #[derive(Clone, Debug, Serialize)]
    enum Shape {
        Empty,
        Circle(f64),
        Pair(i16, u128),
        Named { label: String, tag: Option<char> },
    }

    #[derive(Clone, Debug, Serialize)]
    struct Everything {
        flag: bool,
        small: (u8, i8, u16, i16),
        middle: (u32, i32, u64, i64),
        wide: (u128, i128),
        float: (f32, f64),
        text: String,
        bytes: serde_bytes_like::Bytes,
        list: Vec<Option<i64>>,
        map: BTreeMap<String, u32>,
        shapes: Vec<Shape>,
        unit: (),
    }

    /// `serialize_bytes`, which `Vec<u8>` does not use.
    mod serde_bytes_like {
        #[derive(Clone, Debug)]
        pub struct Bytes(pub Vec<u8>);
        impl serde::Serialize for Bytes {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_bytes(&self.0)
            }
        }
    }

    fn shape() -> impl Strategy<Value = Shape> {
        prop_oneof![
            Just(Shape::Empty),
            any::<f64>().prop_map(Shape::Circle),
            (any::<i16>(), any::<u128>()).prop_map(|(a, b)| Shape::Pair(a, b)),
            (".*", any::<Option<char>>()).prop_map(|(label, tag)| Shape::Named { label, tag }),
        ]
    }

    fn everything() -> impl Strategy<Value = Everything> {
        (
            any::<bool>(),
            any::<(u8, i8, u16, i16)>(),
            any::<(u32, i32, u64, i64)>(),
            any::<(u128, i128)>(),
            any::<(f32, f64)>(),
            ".*",
            proptest::collection::vec(any::<u8>(), 0..300),
            proptest::collection::vec(any::<Option<i64>>(), 0..20),
            proptest::collection::btree_map(".{0,8}", any::<u32>(), 0..8),
            proptest::collection::vec(shape(), 0..6),
        )
            .prop_map(
                |(flag, small, middle, wide, float, text, bytes, list, map, shapes)| Everything {
                    flag,
                    small,
                    middle,
                    wide,
                    float,
                    text,
                    bytes: serde_bytes_like::Bytes(bytes),
                    list,
                    map,
                    shapes,
                    unit: (),
                },
            )
    }

    proptest! {
        #[test]
        fn encodes_exactly_as_postcard(value in everything()) {
            let mut ours = vec![0xAA];
            encode(&value, &mut ours).unwrap();
            prop_assert_eq!(&ours[1..], &postcard::to_stdvec(&value).unwrap()[..]);
        }
    }

    #[test]
    fn integer_edges_encode_as_postcard() {
        for v in [
            0u64,
            1,
            127,
            128,
            16_383,
            16_384,
            u64::from(u32::MAX),
            u64::MAX,
        ] {
            let mut ours = Vec::new();
            encode(&v, &mut ours).unwrap();
            assert_eq!(ours, postcard::to_stdvec(&v).unwrap(), "{v}");
        }
        for v in [i64::MIN, -65, -64, -1, 0, 63, 64, i64::MAX] {
            let mut ours = Vec::new();
            encode(&v, &mut ours).unwrap();
            assert_eq!(ours, postcard::to_stdvec(&v).unwrap(), "{v}");
        }
    }

    #[test]
    fn unknown_lengths_are_an_error_not_a_panic() {
        struct Unsized;
        impl Serialize for Unsized {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_seq(std::iter::from_fn(|| None::<u8>).filter(|_| true))
            }
        }
        let err = encode(&Unsized, &mut Vec::new()).unwrap_err();
        assert!(err.to_string().contains("unknown length"), "{err}");
    }
}
