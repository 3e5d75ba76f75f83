//! Tokens of a recorded signature, whatever its spacing.

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Token<'a> {
    Ident(&'a str),
    Lifetime,
    /// An integer literal; `None` when it is not a plain decimal one.
    Int(Option<u64>),
    PathSep,
    Arrow,
    Punct(char),
}

pub(crate) fn lex(text: &str) -> Option<Vec<Token<'_>>> {
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let mut tokens = Vec::new();
    let mut rest = text.trim_start();
    while let Some(c) = rest.chars().next() {
        let (token, len) = if rest.starts_with("::") {
            (Token::PathSep, 2)
        } else if rest.starts_with("->") {
            (Token::Arrow, 2)
        } else if c == '\'' {
            let len = 1 + rest[1..].find(|c| !word(c)).unwrap_or(rest.len() - 1);
            (Token::Lifetime, len)
        } else if word(c) {
            let len = rest.find(|c| !word(c)).unwrap_or(rest.len());
            let token = if c.is_ascii_digit() {
                Token::Int(integer(&rest[..len]))
            } else {
                Token::Ident(&rest[..len])
            };
            (token, len)
        } else {
            (Token::Punct(c), c.len_utf8())
        };
        tokens.push(token);
        rest = rest[len..].trim_start();
    }
    Some(tokens)
}

/// A decimal literal such as `4`, `1_000` or `4usize`.
fn integer(literal: &str) -> Option<u64> {
    let end = literal
        .find(|c: char| !c.is_ascii_digit() && c != '_')
        .unwrap_or(literal.len());
    let (digits, suffix) = literal.split_at(end);
    if !["", "u8", "u16", "u32", "u64", "u128", "usize"].contains(&suffix) {
        return None;
    }
    digits.replace('_', "").parse().ok()
}
