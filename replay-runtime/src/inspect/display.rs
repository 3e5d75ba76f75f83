//! How an inspected event and its recorded bytes read as text: what
//! `replay dump` shows where it cannot decode a value by its type.

use std::fmt;

use super::{Entry, Value, printable};
use crate::recording::format::take_varint;

impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Entry::Call {
                number,
                function,
                arguments,
                results,
                ..
            } if *arguments == Value::Bytes(Vec::new()) => {
                write!(f, "#{number} {}() -> {results}", printable(function))
            }
            Entry::Call {
                number,
                function,
                arguments,
                results,
                ..
            } => write!(
                f,
                "#{number} {}({arguments}) -> {results}",
                printable(function)
            ),
            Entry::Opened { function } => {
                write!(f, "> {}(..) calls back:", printable(function))
            }
            Entry::Callback {
                function,
                arguments,
                ..
            } => write!(f, "  <- callback {}({arguments})", printable(function)),
            Entry::Returned { result } => write!(f, "  <- returned {result}"),
            Entry::Panicked {
                number,
                function,
                arguments,
                message,
                ..
            } => write!(
                f,
                "#{number} {}({arguments}) panicked: {}",
                printable(function),
                printable(message)
            ),
            Entry::Thread(what) => write!(f, "~ {what}"),
            Entry::End => f.write_str("(end)"),
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Digests(digests) => {
                let shown: Vec<_> = digests.iter().map(|d| format!("digest {d:016x}")).collect();
                f.write_str(&shown.join(", "))
            }
            Value::Bytes(bytes) if bytes.is_empty() => f.write_str("()"),
            Value::Bytes(bytes) => {
                let hex: Vec<_> = bytes.iter().take(24).map(|b| format!("{b:02x}")).collect();
                let more = if bytes.len() > 24 {
                    format!(" …{} bytes", bytes.len())
                } else {
                    String::new()
                };
                write!(f, "[{}{more}]", hex.join(" "))?;
                if let Some(guess) = guess(bytes) {
                    write!(f, " ~ {guess}")?;
                }
                Ok(())
            }
        }
    }
}

/// A best guess at what postcard bytes hold, without their types: a
/// sequence of printable strings (length-prefixed) and integers (varints).
fn guess(bytes: &[u8]) -> Option<String> {
    let mut rest = bytes;
    let mut parts = Vec::new();
    while !rest.is_empty() && parts.len() < 16 {
        let mut after = rest;
        let len = take_varint(&mut after)?;
        let string = usize::try_from(len)
            .ok()
            .filter(|&n| n >= 2 && n <= after.len())
            .and_then(|n| std::str::from_utf8(&after[..n]).ok().map(|s| (n, s)))
            .filter(|(_, s)| s.chars().all(|c| !c.is_control()));
        match string {
            Some((n, s)) => {
                parts.push(format!("{s:?}"));
                rest = &after[n..];
            }
            None => {
                parts.push(len.to_string());
                rest = after;
            }
        }
    }
    rest.is_empty().then(|| parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::guess;

    #[test]
    fn guesses_strings_and_numbers() {
        let mut bytes = postcard::to_stdvec(&(7u32, "hello", 300u64)).unwrap_or_default();
        assert_eq!(guess(&bytes).as_deref(), Some("7, \"hello\", 300"));
        bytes.push(0xff);
        assert_eq!(guess(&bytes), None, "a varint cut short is no guess");
    }
}
