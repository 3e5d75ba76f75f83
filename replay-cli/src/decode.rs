//! Recorded values read back with the types their call's signature names,
//! and shown as Rust writes them: `step(1, "abc") -> Some(100)`.
//!
//! A value is shown decoded only when its bytes are exactly an encoding of
//! the signature's types, every byte consumed. Otherwise (a program's own
//! type, a `#[mapped]` handle, a secret parameter left out, bytes left
//! over) it is shown as the runtime shows it: in hex, with a guess marked
//! `~`.

use std::collections::HashMap;
use std::sync::Arc;

use replay_runtime::inspect::{Entry, Value, printable};

use crate::signature::{Signature, Type};
use crate::values::values;

/// Shows the events of one thread, parsing each function's signature once.
#[derive(Default)]
pub struct Decoder {
    /// The recording's arguments end with the `&mut` parameters' values
    /// before the call (format version 2 on).
    inouts: bool,
    /// By the address of the recording's shared signature string, which
    /// the key's `Arc` keeps alive (a hostile file's huge signature is
    /// never hashed per call).
    signatures: HashMap<*const u8, (Arc<str>, Option<Signature>)>,
    /// The signatures of the callbacks under way, innermost last: their
    /// return values come later.
    callbacks: Vec<Arc<str>>,
}

impl Decoder {
    /// A decoder for a recording of format `version`.
    pub fn for_version(version: u16) -> Decoder {
        Decoder {
            inouts: version >= 2,
            ..Decoder::default()
        }
    }

    /// The event as `replay diff` prints it: a call with its number.
    pub fn show(&mut self, entry: &Entry) -> String {
        self.text(entry, true)
    }

    /// The event as `replay dump` and `replay timeline` show it beside
    /// its name (`thread:call`): a call without its number.
    pub fn describe(&mut self, entry: &Entry) -> String {
        self.text(entry, false)
    }

    fn text(&mut self, entry: &Entry, numbered: bool) -> String {
        let prefix = |number: &u64| match numbered {
            true => format!("#{number} "),
            false => String::new(),
        };
        let (number, function, signature, arguments, results) = match entry {
            Entry::Call {
                number,
                function,
                signature,
                arguments,
                results,
            } => (number, function, signature, arguments, results),
            Entry::Callback {
                function,
                signature,
                arguments,
            } => {
                self.callbacks.push(signature.clone());
                let parsed = self.signature(signature);
                let shown = match (arguments, parsed) {
                    (Value::Bytes(bytes), Some(parsed)) => inputs(parsed, bytes, false),
                    _ => None,
                };
                let arguments = shown.unwrap_or_else(|| arguments.to_string());
                return format!("  <- callback {}({arguments})", printable(function));
            }
            Entry::Returned { result } => {
                let signature = self.callbacks.pop();
                let parsed = signature.as_ref().and_then(|s| self.signature(s));
                let shown = match (result, parsed) {
                    (Value::Bytes(bytes), Some(parsed)) => {
                        values(std::iter::once(&parsed.ret), bytes).map(|v| v.concat())
                    }
                    _ => None,
                };
                return format!(
                    "  <- returned {}",
                    shown.unwrap_or_else(|| result.to_string())
                );
            }
            Entry::Panicked {
                number,
                function,
                signature,
                arguments,
                message,
            } => {
                let inouts = self.inouts;
                let shown = match (arguments, self.signature(signature)) {
                    (Value::Bytes(bytes), Some(parsed)) => inputs(parsed, bytes, inouts),
                    _ => None,
                };
                let arguments = shown.unwrap_or_else(|| arguments.to_string());
                return format!(
                    "{}{}({arguments}) panicked: {}",
                    prefix(number),
                    printable(function),
                    printable(message)
                );
            }
            _ => return entry.to_string(),
        };
        let inouts = self.inouts;
        let signature = self.signature(signature);
        let decoded_arguments = match (arguments, signature) {
            (Value::Bytes(bytes), Some(signature)) => inputs(signature, bytes, inouts),
            _ => None,
        };
        let arguments = match (decoded_arguments, arguments) {
            (Some(shown), _) => shown,
            (None, Value::Bytes(bytes)) if bytes.is_empty() => String::new(),
            (None, arguments) => arguments.to_string(),
        };
        let decoded_results = match (results, signature) {
            (Value::Bytes(bytes), Some(signature)) => outputs(signature, bytes),
            _ => None,
        };
        let results = decoded_results.unwrap_or_else(|| results.to_string());
        format!(
            "{}{}({arguments}) -> {results}",
            prefix(number),
            printable(function)
        )
    }

    fn signature(&mut self, text: &Arc<str>) -> Option<&Signature> {
        // A hostile file's huge signature is neither parsed nor kept.
        if text.len() > crate::signature::LONGEST {
            return None;
        }
        let (_, signature) = self
            .signatures
            .entry(Arc::as_ptr(text).cast())
            .or_insert_with(|| (text.clone(), Signature::parse(text)));
        signature.as_ref()
    }
}

/// The arguments, shown `1, "abc"`.
fn inputs(signature: &Signature, bytes: &[u8], with_inouts: bool) -> Option<String> {
    let inouts: &[Type] = if with_inouts { &signature.inouts } else { &[] };
    let shown = values(signature.inputs.iter().chain(inouts), bytes)?;
    // A `&self` records nothing, or a `#[mapped]` handle's slot and
    // generation: bytes that read both ways are left undecoded.
    if signature.shared_self {
        let slot = [Type::Unsigned(32), Type::Unsigned(32)];
        if values(slot.iter().chain(&signature.inputs).chain(inouts), bytes).is_some() {
            return None;
        }
    }
    let inputs = signature.inputs.len();
    let shown: Vec<String> = shown
        .into_iter()
        .enumerate()
        .map(|(i, value)| match i >= inputs {
            true => format!("in {value}"),
            false => value,
        })
        .collect();
    Some(shown.join(", "))
}

/// The return value, then each out-parameter: `true, out [1, 2, 3]`.
fn outputs(signature: &Signature, bytes: &[u8]) -> Option<String> {
    let shown = values(
        std::iter::once(&signature.ret).chain(&signature.outputs),
        bytes,
    )?;
    let mut shown = shown.into_iter();
    let ret = shown.next().unwrap_or_default();
    Some(
        std::iter::once(ret)
            .chain(shown.map(|out| format!("out {out}")))
            .collect::<Vec<_>>()
            .join(", "),
    )
}

#[cfg(test)]
mod tests {
    use crate::signature::{Signature, Type};
    use crate::values::{ROOM, values};

    fn show(signature: &str, bytes: &[u8]) -> Option<String> {
        let signature = Signature::parse(signature).expect("a signature");
        values(&signature.inputs, bytes).map(|shown| shown.join(", "))
    }

    #[test]
    fn reads_what_postcard_writes() {
        let bytes = postcard::to_stdvec(&(
            -1i32,
            300u16,
            i128::MIN,
            u128::MAX,
            "a\"b",
            'é',
            (true, None::<u8>),
            vec![Some(-2i64)],
            [1.5f32, -0.0],
            Ok::<u8, String>(7),
            (),
            -128i8,
        ))
        .expect("encode");
        assert_eq!(
            show(
                "fn(i32, u16, i128, u128, & str, char, (bool , Option < u8 >), \
                 Vec < Option < i64 > >, [f32 ; 2], Result < u8 , String >, (), i8)",
                &bytes
            )
            .as_deref(),
            Some(
                "-1, 300, -170141183460469231731687303715884105728, \
                 340282366920938463463374607431768211455, \"a\\\"b\", 'é', (true, None), \
                 [Some(-2)], [1.5, -0.0], Ok(7), (), -128"
            )
        );
    }

    #[test]
    fn refuses_bytes_that_are_not_exactly_the_types() {
        assert_eq!(show("fn(u8)", &[1, 2]), None, "a byte left over");
        assert_eq!(show("fn(u32)", &[0x80]), None, "cut short");
        assert_eq!(show("fn(u16)", &[0xff, 0xff, 0x04]), None, "over u16");
        assert_eq!(
            show("fn(u16)", &[0xff, 0xff, 0x03]).as_deref(),
            Some("65535")
        );
        assert_eq!(show("fn(u64)", &[0xff; 10]), None, "too long");
        assert_eq!(show("fn(bool)", &[2]), None);
        assert_eq!(show("fn(Option < u8 >)", &[2, 0]), None);
        assert_eq!(show("fn(char)", &[2, b'a', b'b']), None, "two chars");
        assert_eq!(show("fn(& str)", &[1, 0xff]), None, "not UTF-8");
        assert_eq!(show("fn(c_char)", &[0x80]), None, "sign unknown");
        assert_eq!(show("fn(c_char)", b"A").as_deref(), Some("65"));
        assert_eq!(show("fn(Point)", &[]), None);
        assert_eq!(show("fn(Vec < u8 >)", &[0xff, 0xff, 0x03, 1]), None);
    }

    #[test]
    fn shows_long_values_cut_short() {
        let long = postcard::to_stdvec(&("x".repeat(1000), vec![7u8; 100])).expect("encode");
        let shown = show("fn(String, Vec < u8 >)", &long).expect("decoded");
        assert!(
            shown.starts_with(&format!("\"{}\"… (1000 bytes), [7, 7, ", "x".repeat(256))),
            "{shown}"
        );
        assert!(shown.ends_with(", 7, … 68 more]"), "{shown}");

        let units = show("fn([[() ; 1000000] ; 1000000])", &[]).expect("decoded");
        assert!(units.len() < 3 * ROOM, "{}", units.len());
        assert!(units.ends_with('…'), "{units}");

        let blob = values(
            &[Type::Bytes],
            &postcard::to_stdvec(&[0u8; 100][..]).expect("encode"),
        )
        .expect("decoded");
        assert_eq!(blob[0], format!("b\"{}\"… (100 bytes)", "\\x00".repeat(64)));
    }
}
