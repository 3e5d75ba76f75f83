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
pub use crate::types::Type;
use crate::types::named;

/// Types nested deeper than this are not parsed (recursion is bounded).
const DEEPEST: u32 = 32;

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
    /// `&self`: see [`Signature::shared_self`].
    SharedSelf,
    /// `self`, `&mut self`, `self: Box<Self>`, a `#[secret]` parameter:
    /// not recorded.
    OtherSelf,
}

struct Parser<'a> {
    tokens: Vec<Token<'a>>,
    at: usize,
    depth: u32,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<Token<'a>> {
        self.tokens.get(self.at).copied()
    }

    fn peek_at(&self, ahead: usize) -> Option<Token<'a>> {
        self.tokens.get(self.at + ahead).copied()
    }

    fn next(&mut self) -> Option<Token<'a>> {
        let token = self.peek()?;
        self.at += 1;
        Some(token)
    }

    /// Takes `token` if it comes next.
    fn eat(&mut self, token: Token<'_>) -> bool {
        let found = self.peek() == Some(token);
        self.at += usize::from(found);
        found
    }

    fn expect(&mut self, token: Token<'_>) -> Option<()> {
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
        // `#[out] &mut T`: only its value after the call is recorded.
        let out = [
            Token::Punct('#'),
            Token::Punct('['),
            Token::Ident("out"),
            Token::Punct(']'),
        ];
        let out_only = (0..out.len()).all(|i| self.peek_at(i) == Some(out[i]));
        if out_only {
            self.at += out.len();
        }
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
            self.ty()?;
            return Some(if mutable {
                Param::Output(Type::Bytes)
            } else {
                Param::Input(Type::Unknown)
            });
        }
        Some(Param::Input(self.ty()?))
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

    fn ty(&mut self) -> Option<Type> {
        self.depth += 1;
        if self.depth > DEEPEST {
            return None;
        }
        let ty = self.ty_inner();
        self.depth -= 1;
        ty
    }

    fn ty_inner(&mut self) -> Option<Type> {
        match self.next()? {
            // Serde encodes a reference as what it points to.
            Token::Punct('&') => {
                self.eat(Token::Lifetime);
                self.eat(Token::Ident("mut"));
                self.ty()
            }
            Token::Punct('*') => {
                match self.next()? {
                    Token::Ident("mut" | "const") => {}
                    _ => return None,
                }
                self.ty()?;
                Some(Type::Unknown)
            }
            Token::Punct('(') => {
                let mut types = Vec::new();
                let mut trailing_comma = false;
                while !self.eat(Token::Punct(')')) {
                    types.push(self.ty()?);
                    trailing_comma = self.eat(Token::Punct(','));
                    if !trailing_comma {
                        self.expect(Token::Punct(')'))?;
                        break;
                    }
                }
                Some(match types.len() {
                    0 => Type::Unit,
                    // `(T)` is `T`; `(T,)` a tuple.
                    1 if !trailing_comma => types.pop()?,
                    _ => Type::Tuple(types),
                })
            }
            Token::Punct('[') => {
                let elem = self.ty()?;
                if self.eat(Token::Punct(']')) {
                    return Some(Type::Seq(Box::new(elem)));
                }
                self.expect(Token::Punct(';'))?;
                let ty = match self.next()? {
                    Token::Int(Some(len)) => Type::Array(Box::new(elem), len),
                    // A const generic or a literal of another form.
                    Token::Int(None) | Token::Ident(_) => Type::Unknown,
                    _ => return None,
                };
                self.expect(Token::Punct(']'))?;
                Some(ty)
            }
            Token::PathSep => {
                let Token::Ident(first) = self.next()? else {
                    return None;
                };
                self.path(first)
            }
            Token::Ident("dyn" | "impl" | "fn" | "unsafe" | "extern") => None,
            Token::Ident(first) => self.path(first),
            _ => None,
        }
    }

    /// The rest of a path whose first segment is `first`, with generic
    /// arguments: `std :: vec :: Vec < u8 >`.
    fn path(&mut self, first: &'a str) -> Option<Type> {
        let (mut segments, mut name) = (1, first);
        let mut args = self.generic_args()?;
        while self.eat(Token::PathSep) {
            let Token::Ident(segment) = self.next()? else {
                return None;
            };
            segments += 1;
            name = segment;
            args = self.generic_args()?;
        }
        // `libc::c_int`, `std::string::String`: a path outside the
        // standard ones may name the program's own type.
        let standard = segments == 1 || matches!(first, "std" | "core" | "alloc" | "libc");
        Some(if standard {
            named(name, args)
        } else {
            Type::Unknown
        })
    }

    /// `< T, 'a, U >` if it comes next, lifetimes left out.
    fn generic_args(&mut self) -> Option<Vec<Type>> {
        let mut args = Vec::new();
        if !self.eat(Token::Punct('<')) {
            return Some(args);
        }
        while !self.eat(Token::Punct('>')) {
            if !self.eat(Token::Lifetime) {
                args.push(self.ty()?);
            }
            if !self.eat(Token::Punct(',')) {
                self.expect(Token::Punct('>'))?;
                break;
            }
        }
        Some(args)
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
        ] {
            assert_eq!(Signature::parse(text), None, "{text}");
        }
        let deep = format!("fn({}u8{})", "Vec<".repeat(40), ">".repeat(40));
        assert_eq!(Signature::parse(&deep), None);
    }
}
