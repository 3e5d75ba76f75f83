//! `#[out(..)]`, `#[inout(..)]` and `#[input(..)]` on a raw pointer
//! parameter of an extern function: which way the pointed-at values go,
//! and how many there are.

use syn::{Attribute, Expr, Ident};

use super::reader::{Accepted, as_ident, parse_args};
use crate::Errors;

/// Which way a pointer's values cross the call.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// `#[input]`: read by the function; recorded and checked.
    Input,
    /// `#[out]`: written by the function; recorded and written back.
    Out,
    /// `#[inout]`: both.
    InOut,
}

impl Direction {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Direction::Input => "input",
            Direction::Out => "out",
            Direction::InOut => "inout",
        }
    }
}

/// How many elements a pointer points at.
pub(crate) enum Len {
    /// Another parameter of the function: `len = count`.
    Param(Ident),
    /// What another pointer parameter points at before the call: `len = *count`.
    Deref(Ident),
    /// A constant: `len = 4`.
    Literal(syn::LitInt),
}

/// How many elements an output buffer's call wrote.
pub(crate) enum Written {
    /// The return value: `written = return`.
    Return,
    /// What a pointer parameter points at after the call: `written = *count`.
    Deref(Ident),
}

/// A pointer parameter's attribute, parsed.
pub(crate) struct PointerAttr {
    pub(crate) attr: Attribute,
    pub(crate) direction: Direction,
    pub(crate) len: Option<Len>,
    pub(crate) written: Option<Written>,
    /// `#[input(null_terminated)]`: an array of C strings ending with a null.
    pub(crate) null_terminated: bool,
    /// `#[out(points_into = base)]`: C writes pointers into the memory of
    /// the pointer parameter `base` (SQLite's `pzTail` into `zSql`).
    pub(crate) points_into: Option<Ident>,
}

const NAMES: [&str; 3] = ["out", "inout", "input"];

/// Whether `attr` is one of the pointer attributes.
pub(crate) fn is_pointer_attr(attr: &Attribute) -> bool {
    NAMES.iter().any(|n| attr.path().is_ident(n))
}

impl PointerAttr {
    /// Finds and parses the parameter's pointer attribute, removing it
    /// (rustc must not see it).
    pub(crate) fn take(attrs: &mut Vec<Attribute>) -> syn::Result<Option<PointerAttr>> {
        let Some(index) = attrs.iter().position(is_pointer_attr) else {
            return Ok(None);
        };
        let attr = attrs.remove(index);
        if let Some(again) = attrs.iter().find(|a| is_pointer_attr(a)) {
            return Err(syn::Error::new_spanned(
                again,
                "a parameter takes one of `#[out(..)]`, `#[inout(..)]` and `#[input(..)]`",
            ));
        }
        let direction = match () {
            _ if attr.path().is_ident("out") => Direction::Out,
            _ if attr.path().is_ident("inout") => Direction::InOut,
            _ => Direction::Input,
        };
        let mut parsed = PointerAttr {
            attr,
            direction,
            len: None,
            written: None,
            null_terminated: false,
            points_into: None,
        };
        let tokens = match &parsed.attr.meta {
            syn::Meta::List(list) => list.tokens.clone(),
            syn::Meta::Path(_) => Default::default(),
            syn::Meta::NameValue(_) => return Err(parsed.needs_len()),
            // `#[out]` alone marks a `&mut` output only (see `pointers.rs`).
        };
        let accepted: &[Accepted] = match direction {
            Direction::Out => &[LEN, WRITTEN, POINTS_INTO],
            Direction::InOut => &[LEN],
            Direction::Input => &[LEN, NULL_TERMINATED],
        };
        let mut errors = Errors::default();
        parse_args(tokens, accepted, &mut errors, |arg| {
            match arg.accepted.name {
                "null_terminated" => parsed.null_terminated = true,
                "len" => parsed.len = Some(len(arg.value()?)?),
                "points_into" => parsed.points_into = Some(arg.ident()?),
                _ => parsed.written = Some(written(arg.value()?)?),
            }
            Ok(())
        });
        errors.finish()?;
        if parsed.len.is_some() && parsed.null_terminated {
            return Err(syn::Error::new_spanned(
                &parsed.attr,
                "give either `len = count` or `null_terminated`, not both",
            ));
        }
        Ok(Some(parsed))
    }

    /// The error for a buffer given without its length.
    pub(crate) fn needs_len(&self) -> syn::Error {
        let name = self.direction.name();
        syn::Error::new_spanned(
            &self.attr,
            format!(
                "a buffer needs its length: `#[{name}(len = count)]`, where `count` is the \
                 parameter holding the number of elements (or `len = *count` for the \
                 value a pointer parameter points at, or an integer)"
            ),
        )
    }
}

fn len(value: Expr) -> syn::Result<Len> {
    match (as_ident(&value), value) {
        (Some(ident), _) => Ok(Len::Param(ident)),
        (
            None,
            Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Int(lit),
                ..
            }),
        ) => Ok(Len::Literal(lit)),
        (None, Expr::Unary(u))
            if matches!(u.op, syn::UnOp::Deref(_)) && as_ident(&u.expr).is_some() =>
        {
            Ok(Len::Deref(as_ident(&u.expr).expect("checked just above")))
        }
        (None, other) => Err(syn::Error::new_spanned(
            other,
            "`len` must name a parameter of this function (`len = count`), the value a \
             pointer parameter points at (`len = *count`), or be an integer",
        )),
    }
}

fn written(value: Expr) -> syn::Result<Written> {
    match value {
        Expr::Return(r) if r.expr.is_none() => Ok(Written::Return),
        Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) && as_ident(&u.expr).is_some() => Ok(
            Written::Deref(as_ident(&u.expr).expect("checked just above")),
        ),
        other => Err(syn::Error::new_spanned(
            other,
            "`written` counts the elements the call wrote: `written = return` (the return \
             value) or `written = *count` (what a pointer parameter points at after the call)",
        )),
    }
}

const LEN: Accepted = Accepted {
    hint: ", where `count` is the parameter holding the number of elements",
    ..Accepted::new("len", "`len = count`")
};
const WRITTEN: Accepted = Accepted::new("written", "`written = return`");
const POINTS_INTO: Accepted = Accepted {
    hint: " (C writes pointers into the memory `base` points at)",
    ..Accepted::new("points_into", "`points_into = base`")
};
const NULL_TERMINATED: Accepted = Accepted {
    hint: " (an array of C strings ending with a null pointer)",
    ..Accepted::new("null_terminated", "`null_terminated`")
};
