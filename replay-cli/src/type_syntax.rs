//! The type grammar of a recorded signature: what postcard encoding a
//! type written as the macro renders it stands for.

use crate::lex::Token;
use crate::signature::{DEEPEST, Parser};
use crate::types::{Type, named};

/// What a pointer points at, as far as decoding goes.
pub(crate) enum Pointee {
    /// `c_char`: a C string.
    Char,
    /// `*const c_char` or `*mut c_char`: an array of C strings.
    CharPtr,
    Other,
}

impl<'a> Parser<'a> {
    /// What the pointer being read points at, from the tokens after its
    /// `*const`/`*mut` (not consumed).
    pub(crate) fn pointee(&self) -> Pointee {
        let is_char = |at: usize| {
            // `c_char`, or a path ending in it.
            let mut at = at;
            while let (Some(Token::Ident(_)), Some(Token::PathSep)) =
                (self.peek_at(at), self.peek_at(at + 1))
            {
                at += 2;
            }
            self.peek_at(at) == Some(Token::Ident("c_char"))
        };
        if is_char(0) {
            return Pointee::Char;
        }
        if self.peek_at(0) == Some(Token::Punct('*'))
            && matches!(self.peek_at(1), Some(Token::Ident("mut" | "const")))
            && is_char(2)
        {
            return Pointee::CharPtr;
        }
        Pointee::Other
    }

    pub(crate) fn ty(&mut self) -> Option<Type> {
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
                let constant = match self.next()? {
                    Token::Ident("mut") => false,
                    Token::Ident("const") => true,
                    _ => return None,
                };
                let pointee = self.pointee();
                self.ty()?;
                // A borrowed C string returned.
                Some(match (constant, pointee) {
                    (true, Pointee::Char) => Type::CStr,
                    _ => Type::Unknown,
                })
            }
            // A function pointer: `unsafe extern "C" fn(..) -> T`.
            Token::Ident("unsafe" | "extern" | "fn") => {
                let mut depth = 0u32;
                while let Some(token) = self.peek() {
                    match token {
                        Token::Punct(',' | '>') if depth == 0 => break,
                        Token::Punct(')') if depth == 0 => break,
                        Token::Punct('(' | '[' | '<') => depth += 1,
                        // A `]` unopened: not a type.
                        Token::Punct(')' | ']' | '>') => depth = depth.checked_sub(1)?,
                        _ => {}
                    }
                    self.at += 1;
                }
                Some(Type::FnPtr)
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
            Token::Ident("dyn" | "impl") => None,
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
