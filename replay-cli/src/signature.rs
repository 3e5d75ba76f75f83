//! A recorded signature, parsed: which parameters a call records as inputs
//! and as results, and with which types.
//!
//! The signature is the declaration as `#[deterministic]` wrote it with
//! `ToTokens::to_string()`, such as `fn(& self, i32) -> Option < String >`;
//! the parser does not depend on that spacing. A type is known when its
//! name alone fixes its postcard encoding (integers, strings, `Vec`,
//! `Option`, tuples, the C aliases); a program's own types (structs,
//! `#[mapped]` handles) are [`Type::Unknown`].

/// Signatures longer than this are not parsed (a hostile file's may be
/// huge); real ones are far shorter.
pub const LONGEST: usize = 4096;

use crate::lex::{Token, lex};
use crate::type_syntax::Pointee;
pub use crate::types::Type;

/// Types nested deeper than this are not parsed (recursion is bounded).
pub(crate) const DEEPEST: u32 = 32;

/// A call's recorded parameters and their types.
#[derive(Debug, PartialEq)]
pub struct Signature {
    /// The method takes `&self`: recorded as nothing, or, for a `#[mapped]`
    /// handle, as its slot and generation (two varints).
    pub shared_self: bool,
    /// The by-value and `&T` parameters, in order.
    pub inputs: Vec<Type>,
    /// The return type (`()` when there is none).
    pub ret: Type,
    /// The out-parameters (`&mut T`, `&mut [T]`, `*mut T`), in order.
    pub outputs: Vec<Type>,
    /// The `&mut` parameters not marked `#[out]`, whose value before the
    /// call ends the arguments (from format version 2 on).
    pub inouts: Vec<Type>,
}

impl Signature {
    /// Parses a recorded signature; `None` if it is not one this parser
    /// understands (its calls are then shown undecoded).
    pub fn parse(text: &str) -> Option<Signature> {
        if text.len() > LONGEST {
            return None;
        }
        let mut parser = Parser {
            tokens: lex(text)?,
            at: 0,
            depth: 0,
        };
        let signature = parser.signature()?;
        parser.peek().is_none().then_some(signature)
    }
}

/// How a parameter is recorded.
enum Param {
    Input(Type),
    Output(Type),
    /// `&mut T`: an output, and its value before the call an input.
    InOut(Type),
    /// `#[inout(..)] *mut T`: an input (in declaration order) and an output.
    InputOutput(Type, Type),
    /// `&self`: see [`Signature::shared_self`].
    SharedSelf,
    /// `self`, `&mut self`, `self: Box<Self>`, a `#[secret]` parameter:
    /// not recorded.
    OtherSelf,
}

/// A pointer attribute in a recorded signature.
enum Marked {
    Input,
    InOut,
    Out { points_into: bool },
}

pub(crate) struct Parser<'a> {
    tokens: Vec<Token<'a>>,
    pub(crate) at: usize,
    pub(crate) depth: u32,
}

impl<'a> Parser<'a> {
    pub(crate) fn peek(&self) -> Option<Token<'a>> {
        self.tokens.get(self.at).copied()
    }

    pub(crate) fn peek_at(&self, ahead: usize) -> Option<Token<'a>> {
        self.tokens.get(self.at + ahead).copied()
    }

    pub(crate) fn next(&mut self) -> Option<Token<'a>> {
        let token = self.peek()?;
        self.at += 1;
        Some(token)
    }

    /// Takes `token` if it comes next.
    pub(crate) fn eat(&mut self, token: Token<'_>) -> bool {
        let found = self.peek() == Some(token);
        self.at += usize::from(found);
        found
    }

    pub(crate) fn expect(&mut self, token: Token<'_>) -> Option<()> {
        self.eat(token).then_some(())
    }

    /// `fn(PARAM, ...) -> TYPE`.
    fn signature(&mut self) -> Option<Signature> {
        self.expect(Token::Ident("fn"))?;
        self.expect(Token::Punct('('))?;
        let mut signature = Signature {
            shared_self: false,
            inputs: Vec::new(),
            ret: Type::Unit,
            outputs: Vec::new(),
            inouts: Vec::new(),
        };
        while !self.eat(Token::Punct(')')) {
            match self.param()? {
                Param::Input(ty) => signature.inputs.push(ty),
                Param::Output(ty) => signature.outputs.push(ty),
                Param::InOut(ty) => {
                    signature.inouts.push(ty.clone());
                    signature.outputs.push(ty);
                }
                Param::InputOutput(input, output) => {
                    signature.inputs.push(input);
                    signature.outputs.push(output);
                }
                Param::SharedSelf => signature.shared_self = true,
                Param::OtherSelf => {}
            }
            if !self.eat(Token::Punct(',')) {
                self.expect(Token::Punct(')'))?;
                break;
            }
        }
        if self.eat(Token::Arrow) {
            signature.ret = self.ty()?;
        }
        Some(signature)
    }

    fn param(&mut self) -> Option<Param> {
        // `#[secret] T`: never recorded.
        let secret = [
            Token::Punct('#'),
            Token::Punct('['),
            Token::Ident("secret"),
            Token::Punct(']'),
        ];
        if (0..secret.len()).all(|i| self.peek_at(i) == Some(secret[i])) {
            self.at += secret.len();
            // Its type need not be one the decoder knows: skipped whole.
            self.skip_to_next_param()?;
            return Some(Param::OtherSelf);
        }
        // `#[out] &mut T` (only its value after the call is recorded), or
        // what C does with a pointer: `#[input(..)]`, `#[out(..)]`,
        // `#[inout(..)]`.
        // `#[mapped] &T`: a handle an extern function takes.
        let mapped = [
            Token::Punct('#'),
            Token::Punct('['),
            Token::Ident("mapped"),
            Token::Punct(']'),
            Token::Punct('&'),
        ];
        if (0..mapped.len()).all(|i| self.peek_at(i) == Some(mapped[i])) {
            self.at += mapped.len();
            let mut name = String::from("?");
            while let Some(token) = self.peek() {
                match token {
                    Token::Punct(',' | ')') => break,
                    Token::Ident(ident) => name = ident.to_owned(),
                    _ => {}
                }
                self.at += 1;
            }
            return Some(Param::Input(Type::Handle(name)));
        }
        let marked = self.pointer_attr()?;
        let out_only = matches!(marked, Some(Marked::Out { .. }));
        // `&self`, `& 'a self`, `&mut self`, `self`, `mut self`, `self: T`.
        let mut ahead = 0;
        let reference = self.peek() == Some(Token::Punct('&'));
        if reference {
            ahead += 1;
            if self.peek_at(ahead) == Some(Token::Lifetime) {
                ahead += 1;
            }
        }
        let mutable = self.peek_at(ahead) == Some(Token::Ident("mut"));
        if mutable {
            ahead += 1;
        }
        if self.peek_at(ahead) == Some(Token::Ident("self")) {
            self.at += ahead + 1;
            if self.eat(Token::Punct(':')) {
                self.ty()?;
                return Some(Param::OtherSelf);
            }
            return Some(if reference && !mutable {
                Param::SharedSelf
            } else {
                Param::OtherSelf
            });
        }
        if reference && mutable {
            // `&mut T` records `T`, and `&mut [T]` a sequence, as `[T]` is.
            self.at += ahead;
            let ty = self.ty()?;
            return Some(match out_only {
                true => Param::Output(ty),
                false => Param::InOut(ty),
            });
        }
        if self.eat(Token::Punct('*')) {
            let mutable = match self.next()? {
                Token::Ident("mut") => true,
                Token::Ident("const") => false,
                _ => return None,
            };
            let pointee = self.pointee();
            self.ty()?;
            return Some(match (marked, pointee) {
                (None, Pointee::Char) if !mutable => Param::Input(Type::CStr),
                // Recorded before pointers showed their attribute: a `*mut`
                // was always an output buffer.
                (None, _) if mutable => Param::Output(Type::Bytes),
                (None, _) => Param::Input(Type::Unknown),
                (Some(Marked::Input), Pointee::CharPtr) => {
                    Param::Input(Type::Seq(Box::new(Type::CStr)))
                }
                (Some(Marked::Input), _) => Param::Input(Type::Bytes),
                (Some(Marked::InOut), _) => Param::InputOutput(Type::Bytes, Type::Bytes),
                (Some(Marked::Out { points_into: true }), _) => Param::Output(Type::Seq(Box::new(
                    Type::Option(Box::new(Type::Unsigned(64))),
                ))),
                (Some(Marked::Out { .. }), Pointee::CharPtr) => {
                    Param::Output(Type::Seq(Box::new(Type::CStr)))
                }
                (Some(Marked::Out { .. }), _) => Param::Output(Type::Bytes),
            });
        }
        Some(Param::Input(self.ty()?))
    }

    /// A pointer attribute, if one comes next: `#[input(..)]`, `#[inout(..)]`,
    /// `#[out]` or `#[out(..)]`. `None` inside when there is none; `None`
    /// outside when it is malformed.
    fn pointer_attr(&mut self) -> Option<Option<Marked>> {
        let kind = match (self.peek(), self.peek_at(1), self.peek_at(2)) {
            (Some(Token::Punct('#')), Some(Token::Punct('[')), Some(Token::Ident(kind)))
                if ["input", "inout", "out"].contains(&kind) =>
            {
                kind
            }
            _ => return Some(None),
        };
        self.at += 3;
        let mut points_into = false;
        if self.eat(Token::Punct('(')) {
            let mut depth = 1u32;
            while depth > 0 {
                match self.next()? {
                    Token::Punct('(') => depth += 1,
                    Token::Punct(')') => depth -= 1,
                    Token::Ident("points_into") => points_into = true,
                    _ => {}
                }
            }
        }
        self.expect(Token::Punct(']'))?;
        Some(Some(match kind {
            "input" => Marked::Input,
            "inout" => Marked::InOut,
            _ => Marked::Out { points_into },
        }))
    }

    /// Skips tokens up to the `,` or `)` that ends this parameter,
    /// brackets balanced.
    fn skip_to_next_param(&mut self) -> Option<()> {
        let mut depth = 0u32;
        loop {
            match self.peek()? {
                Token::Punct(',' | ')') if depth == 0 => return Some(()),
                Token::Punct('(' | '[' | '<') => depth += 1,
                Token::Punct(')' | ']' | '>') => depth = depth.checked_sub(1)?,
                _ => {}
            }
            self.at += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Signature, Type};

    fn parse(text: &str) -> Signature {
        Signature::parse(text).unwrap_or_else(|| panic!("{text} does not parse"))
    }

    #[test]
    fn classifies_inputs_outputs_and_receivers() {
        let s = parse("fn(& [i32], & mut i64, & mut [u8], usize)");
        assert_eq!(
            s.inputs,
            [Type::Seq(Box::new(Type::Signed(32))), Type::Unsigned(64)]
        );
        assert_eq!(
            s.outputs,
            [Type::Signed(64), Type::Seq(Box::new(Type::Unsigned(8)))]
        );
        assert_eq!(s.ret, Type::Unit);

        let s = parse("fn(& self, i32) -> Option < String >");
        assert!(s.shared_self);
        assert_eq!(s.inputs, [Type::Signed(32)]);
        assert_eq!(s.ret, Type::Option(Box::new(Type::Str)));
        for receiver in [
            "& mut self",
            "self",
            "mut self",
            "& 'a mut self",
            "self : Box < Self >",
        ] {
            let s = parse(&format!("fn({receiver}, u8)"));
            assert!(!s.shared_self, "{receiver}");
            assert_eq!(s.inputs, [Type::Unsigned(8)], "{receiver}");
        }
        assert!(parse("fn(& 'a self)").shared_self);
        // A secret parameter is marked: it is not among the inputs.
        let s = parse("fn(#[secret] u8, Vec < u8 >) -> usize");
        assert_eq!(s.inputs, [Type::Seq(Box::new(Type::Unsigned(8)))]);
        // Whatever its type: skipped whole, brackets balanced.
        for secret in [
            "& dyn Fn (u32) -> u32",
            "fn (u8) -> u8",
            "r#type :: Key",
            "HashMap < K , V >",
        ] {
            let s = parse(&format!("fn(#[secret] {secret}, u8) -> u8"));
            assert_eq!(s.inputs, [Type::Unsigned(8)], "{secret}");
        }

        let s = parse("fn(c_int, * mut c_void, size_t) -> ssize_t");
        assert_eq!(s.inputs, [Type::Signed(32), Type::Unsigned(64)]);
        assert_eq!(s.outputs, [Type::Bytes]);
        assert_eq!(s.ret, Type::Signed(64));
    }

    #[test]
    fn reads_what_c_pointers_hold_from_their_attributes() {
        let cstr = || Type::CStr;
        let s = parse(
            "fn(#[mapped] & Db, * const c_char, # [input (len = n)] * const i32, c_int, \
             # [input (null_terminated)] * const * const std :: ffi :: c_char, \
             # [inout (len = 1)] * mut c_ulong, # [out (len = 1 , points_into = sql)] \
             * mut * const c_char, # [out (len = 1)] * mut * mut c_char, \
             Option < unsafe extern \"C\" fn (ContextPtr, c_int) -> c_int >) -> * const c_char",
        );
        assert_eq!(
            s.inputs,
            [
                Type::Handle("Db".to_owned()),
                cstr(),
                Type::Bytes,
                Type::Signed(32),
                Type::Seq(Box::new(cstr())),
                Type::Bytes,
                Type::FnPtr,
            ]
        );
        assert_eq!(
            s.outputs,
            [
                Type::Bytes,
                Type::Seq(Box::new(Type::Option(Box::new(Type::Unsigned(64))))),
                Type::Seq(Box::new(cstr())),
            ]
        );
        assert_eq!(s.ret, cstr());
        // `#[out]` alone on a `&mut`: not an input; unmarked, it is one too.
        let s = parse("fn(#[out] & mut [u8], & mut u32)");
        assert_eq!(s.inouts, [Type::Unsigned(32)]);
        assert_eq!(s.outputs.len(), 2);
    }

    #[test]
    fn knows_standard_paths_tuples_and_arrays_but_not_the_programs_types() {
        let s = parse(
            "fn(std :: os :: raw :: c_int, :: core :: ffi :: c_long, (u8 , & 'static str), \
             (u8 ,), (u8), [u16 ; 3], [u8 ; N], Point, my :: String, Vec < Point >)",
        );
        assert_eq!(
            s.inputs,
            [
                Type::Signed(32),
                Type::Signed(64),
                Type::Tuple(vec![Type::Unsigned(8), Type::Str]),
                Type::Tuple(vec![Type::Unsigned(8)]),
                Type::Unsigned(8),
                Type::Array(Box::new(Type::Unsigned(16)), 3),
                Type::Unknown,
                Type::Unknown,
                Type::Unknown,
                Type::Seq(Box::new(Type::Unknown)),
            ]
        );
        // No spaces at all, and `>>`, parse the same.
        assert_eq!(
            parse("fn(Vec<Option<u8>>)->Result<(),String>"),
            parse("fn(Vec < Option < u8 > >) -> Result < () , String >")
        );
    }

    #[test]
    fn refuses_what_it_cannot_parse() {
        for text in [
            "",
            "fn",
            "fn(u8",
            "fn(u8) ->",
            "fn(u8) u8",
            "fn(impl Display)",
            "fn(Vec < u8)",
            "fn(u8) -> !",
            "fn(< T as Trait > :: X)",
            // A bracket closed that a function pointer never opened.
            "fn(fn ])",
            "fn(extern ] u8)",
        ] {
            assert_eq!(Signature::parse(text), None, "{text}");
        }
        let deep = format!("fn({}u8{})", "Vec<".repeat(40), ">".repeat(40));
        assert_eq!(Signature::parse(&deep), None);
    }
}
