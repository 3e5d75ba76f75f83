//! The reader all attribute arguments go through: comma-separated
//! `name = value` or `name(..)` arguments, each checked against what the
//! attribute accepts, errors collected and reading going on at the next
//! comma.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::parse::{ParseBuffer, ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{Expr, Ident, LitStr, Path, Token};

use crate::Errors;

/// An argument an attribute accepts.
#[derive(Clone, Copy)]
pub(super) struct Accepted {
    pub(super) name: &'static str,
    /// How it is written, as messages show it.
    pub(super) usage: &'static str,
    /// What a malformed one is told besides `usage`.
    pub(super) hint: &'static str,
}

impl Accepted {
    pub(super) const fn new(name: &'static str, usage: &'static str) -> Accepted {
        Accepted {
            name,
            usage,
            hint: "",
        }
    }
}

pub(super) fn default_crate() -> Path {
    syn::parse_quote!(::replay_runtime)
}

/// "accepted: `a = ..`, `b(..)` and `c = ..`", for messages.
fn accepted_list(accepted: &[Accepted]) -> String {
    match accepted {
        [only] => format!("the only one accepted is {}", only.usage),
        [init @ .., last] => {
            let init: Vec<_> = init.iter().map(|a| a.usage).collect();
            format!("accepted: {} and {}", init.join(", "), last.usage)
        }
        [] => "none is accepted".to_owned(),
    }
}

/// One argument, its name read: `input` is what follows the name.
pub(super) struct Arg<'a> {
    pub(super) name: Ident,
    pub(super) accepted: Accepted,
    pub(super) input: ParseStream<'a>,
}

impl<'a> Arg<'a> {
    /// "expected `name = ..`", at `tokens`.
    pub(super) fn expected(&self, tokens: impl ToTokens) -> syn::Error {
        syn::Error::new_spanned(tokens, self.expected_message())
    }

    pub(super) fn expected_message(&self) -> String {
        let Accepted { usage, hint, .. } = self.accepted;
        format!("expected {usage}{hint}")
    }

    /// The value of `name = value`.
    pub(super) fn value(&self) -> syn::Result<Expr> {
        if !self.input.peek(Token![=]) {
            return Err(self.expected(&self.name));
        }
        self.input.parse::<Token![=]>()?;
        self.input
            .parse()
            .map_err(|e| syn::Error::new(e.span(), self.expected_message()))
    }

    /// The path of `name = path::to::item`.
    pub(super) fn path(&self) -> syn::Result<Path> {
        match self.value()? {
            Expr::Path(p) if p.qself.is_none() && p.attrs.is_empty() => Ok(p.path),
            other => Err(self.expected(other)),
        }
    }

    /// The name of `name = ident`.
    pub(super) fn ident(&self) -> syn::Result<Ident> {
        let value = self.value()?;
        as_ident(&value).ok_or_else(|| self.expected(value))
    }

    /// The string of `name = "text"`.
    pub(super) fn str(&self) -> syn::Result<LitStr> {
        match self.value()? {
            Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(text),
                ..
            }) => Ok(text),
            other => Err(self.expected(other)),
        }
    }

    /// The expressions of `name(a, b, ..)`.
    pub(super) fn list(&self) -> syn::Result<Punctuated<Expr, Token![,]>> {
        if !self.input.peek(syn::token::Paren) {
            return Err(self.expected(&self.name));
        }
        let content: ParseBuffer<'a>;
        syn::parenthesized!(content in self.input);
        let list = Punctuated::parse_terminated(&content);
        // Past what a syntax error left, so that syn reports it only once.
        while list.is_err() && !content.is_empty() {
            content.parse::<proc_macro2::TokenTree>()?;
        }
        list
    }
}

/// `name` of an expression that is just a name.
pub(super) fn as_ident(expr: &Expr) -> Option<Ident> {
    match expr {
        Expr::Path(p) if p.qself.is_none() && p.attrs.is_empty() => p.path.get_ident().cloned(),
        _ => None,
    }
}

/// Reads `tokens` as comma-separated arguments, each one of `accepted`,
/// handing each to `one` once its name is read. An unknown or repeated
/// name, or an error from `one`, goes to `errors`, and reading goes on at
/// the next comma.
pub(super) fn parse_args(
    tokens: TokenStream,
    accepted: &[Accepted],
    errors: &mut Errors,
    mut one: impl FnMut(&Arg) -> syn::Result<()>,
) {
    let mut seen: Vec<Ident> = Vec::new();
    let mut failed = false;
    let read = |input: ParseStream| {
        while !input.is_empty() {
            if let Err(e) = argument(input, accepted, &mut seen).and_then(|arg| one(&arg)) {
                errors.push(e);
                failed = true;
            } else if !input.is_empty() && !input.peek(Token![,]) {
                errors.push(input.error("expected `,` between arguments"));
                failed = true;
            }
            // Past whatever is left of this argument, and its comma.
            while !input.is_empty() && !input.peek(Token![,]) {
                input.parse::<proc_macro2::TokenTree>()?;
            }
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
        }
        Ok(())
    };
    // A syntax error inside a value is also left for syn to find at the
    // end; it was reported already.
    if let Err(e) = read.parse2(tokens)
        && !failed
    {
        errors.push(e);
    }
}

/// Reads an argument's name, which must be one of `accepted` and not in `seen`.
fn argument<'a>(
    input: ParseStream<'a>,
    accepted: &[Accepted],
    seen: &mut Vec<Ident>,
) -> syn::Result<Arg<'a>> {
    if !input.peek(Ident::peek_any) {
        return Err(input.error(format!("expected an argument; {}", accepted_list(accepted))));
    }
    let name = input.call(Ident::parse_any)?;
    let Some(&found) = accepted.iter().find(|a| name == a.name) else {
        return Err(syn::Error::new(
            name.span(),
            format!("unknown argument; {}", accepted_list(accepted)),
        ));
    };
    if seen.contains(&name) {
        return Err(syn::Error::new(
            name.span(),
            format!("`{name}` is given twice"),
        ));
    }
    seen.push(name.clone());
    Ok(Arg {
        name,
        accepted: found,
        input,
    })
}
