//! Parsing attribute arguments: `#[deterministic(crate = path,
//! replay_with = path, path = param)]` and the parameter attribute
//! `#[out(len = count, written = return)]`.

use proc_macro2::TokenStream;
use syn::parse::Parser;
use syn::{Attribute, Expr, Path, Token};

/// Arguments of `#[deterministic(...)]`.
pub(crate) struct Args {
    /// Where the runtime is: `::replay_runtime` unless re-exported.
    pub(crate) krate: Path,
    /// A deterministic stand-in called instead of the function in replay.
    pub(crate) replay_with: Option<Path>,
    /// The parameter holding a file path: the call runs for real in replay
    /// when the path matches the session's live-file patterns.
    pub(crate) path: Option<syn::Ident>,
    /// Parameters that never reach the recording.
    pub(crate) secret: Vec<syn::Ident>,
    /// The return value never reaches the recording.
    pub(crate) secret_return: Option<Token![return]>,
}

impl Args {
    pub(crate) fn parse(tokens: TokenStream) -> syn::Result<Args> {
        let mut args = Args {
            krate: syn::parse_quote!(::replay_runtime),
            replay_with: None,
            path: None,
            secret: Vec::new(),
            secret_return: None,
        };
        let parser = syn::meta::parser(|meta| {
            if meta.path.is_ident("secret") {
                return meta.parse_nested_meta(|inner| {
                    if inner.input.peek(Token![return]) || inner.path.is_ident("return") {
                        args.secret_return = Some(Default::default());
                    } else {
                        match inner.path.get_ident() {
                            Some(ident) => args.secret.push(ident.clone()),
                            None => return Err(inner.error("name a parameter, or `return`")),
                        }
                    }
                    Ok(())
                });
            }
            let name = ["crate", "replay_with", "path"]
                .into_iter()
                .find(|name| meta.path.is_ident(name));
            let Some(name) = name else {
                return Err(meta.error(
                    "unknown argument; accepted: `replay_with = path::to::stand_in`, \
                     `path = parameter`, `secret(parameter, .., return)` and \
                     `crate = path::to::replay_runtime`",
                ));
            };
            if !meta.input.peek(Token![=]) {
                return Err(meta.error(match name {
                    "crate" => "expected `crate = path::to::replay_runtime`",
                    "replay_with" => "expected `replay_with = path::to::stand_in`",
                    _ => "expected `path = parameter`, naming the parameter that holds the file's path",
                }));
            }
            let value = meta.value()?;
            match name {
                "crate" => args.krate = value.parse()?,
                "replay_with" => args.replay_with = Some(value.parse()?),
                _ => args.path = Some(value.parse()?),
            }
            Ok(())
        });
        parser.parse2(tokens)?;
        Ok(args)
    }
}

/// How many elements an output buffer holds.
pub(crate) enum Len {
    /// Another parameter of the function.
    Param(syn::Ident),
    /// A constant.
    Literal(syn::LitInt),
}

const NEEDS_LEN: &str = "an output buffer needs its length: `#[out(len = count)]`, \
                         where `count` is the parameter holding the number of elements \
                         the buffer can take";

/// `#[out(len = count)]` or `#[out(len = count, written = return)]` on a
/// `*mut T` parameter of an extern function.
pub(crate) struct OutAttr {
    pub(crate) attr: Attribute,
    pub(crate) len: Len,
    /// The return value says how many elements were written.
    pub(crate) written_by_return: bool,
}

impl OutAttr {
    /// Finds and parses `#[out(...)]` among a parameter's attributes,
    /// removing it (rustc must not see it).
    pub(crate) fn take(attrs: &mut Vec<Attribute>) -> syn::Result<Option<OutAttr>> {
        let Some(index) = attrs.iter().position(|a| a.path().is_ident("out")) else {
            return Ok(None);
        };
        let attr = attrs.remove(index);
        if let Some(again) = attrs.iter().find(|a| a.path().is_ident("out")) {
            return Err(syn::Error::new_spanned(
                again,
                "a parameter takes one `#[out(...)]`",
            ));
        }
        if let syn::Meta::Path(_) = &attr.meta {
            return Err(syn::Error::new_spanned(&attr, NEEDS_LEN));
        }
        let mut len = None;
        let mut written_by_return = false;
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("len") {
                let value: Expr = meta.value()?.parse()?;
                let ident = match &value {
                    Expr::Path(p) => p.path.get_ident().cloned(),
                    _ => None,
                };
                len = Some(match (ident, value) {
                    (Some(ident), _) => Len::Param(ident),
                    (
                        None,
                        Expr::Lit(syn::ExprLit {
                            lit: syn::Lit::Int(lit),
                            ..
                        }),
                    ) => Len::Literal(lit),
                    (None, other) => {
                        return Err(syn::Error::new_spanned(
                            other,
                            "`len` must name a parameter of this function or be an integer",
                        ));
                    }
                });
                Ok(())
            } else if meta.path.is_ident("written") {
                let value = meta.value()?;
                if !value.peek(Token![return]) {
                    return Err(value.error(
                        "`written` only accepts `return`: `written = return` means the \
                         return value counts the elements written",
                    ));
                }
                value.parse::<Token![return]>()?;
                written_by_return = true;
                Ok(())
            } else {
                Err(meta.error(
                    "unknown argument; write `#[out(len = count)]` or \
                     `#[out(len = count, written = return)]`",
                ))
            }
        })?;
        let Some(len) = len else {
            return Err(syn::Error::new_spanned(&attr, NEEDS_LEN));
        };
        Ok(Some(OutAttr {
            attr,
            len,
            written_by_return,
        }))
    }
}
