//! Classifying a signature's parameters: what is recorded as an input, what
//! is an out-parameter, and what cannot cross the boundary at all.

use proc_macro2::TokenStream;
use quote::{ToTokens, format_ident, quote};
use syn::spanned::Spanned;
use syn::{FnArg, Pat, PointerMutability, ReturnType, Signature, Type};

use crate::Errors;
use crate::attr::{Len, OutAttr};

/// The most inputs, and the most outputs, one wrapped function may have
/// (the runtime implements its traits for tuples up to this size).
const MAX_PARAMS: usize = 12;

/// How a parameter crosses the boundary.
pub(crate) enum Kind {
    /// `T`: recorded and checked on replay.
    Value,
    /// `&T`: recorded and checked on replay, as `T`.
    Ref,
    /// `&mut T`: written by the call, recorded, written back on replay.
    OutRef,
    /// `&mut [T]`: as `OutRef`, element by element.
    OutSlice,
    /// `*mut T` with `#[out(...)]`: a raw output buffer.
    OutRaw(Box<OutAttr>),
}

pub(crate) struct Param {
    /// The name in the wrapper's signature.
    pub(crate) ident: syn::Ident,
    /// The pattern the original body binds (often just `ident`).
    pub(crate) pat: Pat,
    pub(crate) ty: Type,
    pub(crate) kind: Kind,
}

/// A signature, classified.
pub(crate) struct Analysis {
    pub(crate) params: Vec<Param>,
    /// The return type; `()` when there is none.
    pub(crate) ret: Type,
    /// `self` is a parameter, or `Self` appears: the site is named after the type.
    pub(crate) is_method: bool,
    /// `fn(u64, &str) -> u64`, for the recording.
    pub(crate) display: String,
}

impl Analysis {
    pub(crate) fn inputs(&self) -> impl Iterator<Item = &Param> {
        self.params
            .iter()
            .filter(|p| matches!(p.kind, Kind::Value | Kind::Ref))
    }

    pub(crate) fn outputs(&self) -> impl Iterator<Item = &Param> {
        self.params
            .iter()
            .filter(|p| !matches!(p.kind, Kind::Value | Kind::Ref))
    }

    /// The arguments the real function is called with.
    pub(crate) fn call_args(&self) -> Vec<TokenStream> {
        self.params
            .iter()
            .map(|p| {
                let ident = &p.ident;
                match p.kind {
                    Kind::OutRef | Kind::OutSlice => quote!(&mut *#ident),
                    _ => quote!(#ident),
                }
            })
            .collect()
    }
}

fn mentions_self(tokens: TokenStream) -> bool {
    tokens.into_iter().any(|t| match t {
        proc_macro2::TokenTree::Ident(i) => i == "Self",
        proc_macro2::TokenTree::Group(g) => mentions_self(g.stream()),
        _ => false,
    })
}

/// Rejects `impl Trait` anywhere in a type: the wrapper must name types.
fn check_no_impl_trait(ty: &Type, what: &str, errors: &mut Errors) {
    if let Type::ImplTrait(_) = ty {
        errors.push(syn::Error::new(
            ty.span(),
            format!(
                "`impl Trait` {what} cannot be recorded: the recorded value needs a \
                 concrete type; use a generic parameter or a named type"
            ),
        ));
    }
}

/// Classifies `sig`. `foreign` is true inside an extern block, where raw
/// output buffers are allowed.
pub(crate) fn analyse(sig: &mut Signature, foreign: bool) -> syn::Result<Analysis> {
    let mut errors = Errors::default();
    if let Some(asyncness) = &sig.asyncness {
        errors.push(syn::Error::new(
            asyncness.span(),
            "`#[deterministic]` cannot wrap an `async fn`: its boundary calls happen \
             after it returns a future; mark the functions it awaits instead",
        ));
    }
    if let Some(constness) = &sig.constness {
        errors.push(syn::Error::new(
            constness.span(),
            "`#[deterministic]` cannot wrap a `const fn`: recording happens at run time",
        ));
    }
    if let Some(variadic) = &sig.variadic {
        errors.push(syn::Error::new(
            variadic.span(),
            "a variadic function cannot be recorded: its arguments have no types to \
             record; declare one non-variadic function per use",
        ));
    }

    let mut is_method = mentions_self(sig.output.to_token_stream());
    let mut display = Vec::new();
    let mut params = Vec::new();
    for (index, input) in sig.inputs.iter_mut().enumerate() {
        let arg = match input {
            FnArg::Receiver(receiver) => {
                is_method = true;
                display.push(receiver.to_token_stream().to_string());
                continue;
            }
            FnArg::Typed(arg) => arg,
        };
        is_method |= mentions_self(arg.ty.to_token_stream());
        let out = match OutAttr::take(&mut arg.attrs) {
            Ok(out) => out,
            Err(e) => {
                errors.push(e);
                None
            }
        };
        let ident = match &*arg.pat {
            Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => p.ident.clone(),
            _ => format_ident!("__replay_arg{}", index),
        };
        let ty = (*arg.ty).clone();
        display.push(ty.to_token_stream().to_string());
        check_no_impl_trait(&ty, "parameters", &mut errors);
        let kind = match (&ty, out) {
            (Type::Ptr(ptr), Some(out)) => {
                if let PointerMutability::Const(c) = &ptr.mutability {
                    errors.push(syn::Error::new(
                        c.span(),
                        "an output buffer must be `*mut`: `#[out]` marks memory the \
                         function writes",
                    ));
                }
                if !foreign {
                    errors.push(syn::Error::new(
                        out.attr.span(),
                        "`#[out]` marks raw output buffers of extern functions; a Rust \
                         function takes `&mut [T]` instead",
                    ));
                }
                Kind::OutRaw(Box::new(out))
            }
            (_, Some(out)) => {
                errors.push(syn::Error::new(
                    out.attr.span(),
                    "`#[out]` applies to raw pointer parameters (`*mut T`); `&mut T` and \
                     `&mut [T]` are recorded as outputs without it",
                ));
                Kind::Value
            }
            (Type::Ptr(ptr), None) => {
                errors.push(syn::Error::new(
                    ptr.span(),
                    format!(
                        "raw pointer parameter `{ident}` cannot be recorded: an address \
                         means nothing in another run, and its length is unknown\n\
                         help: if the function writes through it, mark it as an output \
                         buffer with its length parameter: `#[out(len = count)] {ident}: ...` \
                         (add `written = return` when the return value counts the elements \
                         written); otherwise wrap the call in a `#[deterministic]` Rust \
                         function that takes safe types"
                    ),
                ));
                Kind::Value
            }
            (Type::Reference(r), None) if r.mutability.is_some() => match &*r.elem {
                Type::Slice(_) => Kind::OutSlice,
                _ => Kind::OutRef,
            },
            (Type::Reference(_), None) => Kind::Ref,
            (_, None) => Kind::Value,
        };
        params.push(Param {
            ident,
            pat: (*arg.pat).clone(),
            ty,
            kind,
        });
    }

    // `len = count` must name a parameter passed by value.
    for param in &params {
        if let Kind::OutRaw(out) = &param.kind
            && let Len::Param(len) = &out.len
        {
            let found = params
                .iter()
                .any(|p| p.ident == *len && matches!(p.kind, Kind::Value));
            if !found {
                errors.push(syn::Error::new(
                    len.span(),
                    format!("`len = {len}` must name an integer parameter of this function"),
                ));
            }
        }
    }

    let ret: Type = match &sig.output {
        ReturnType::Default => syn::parse_quote!(()),
        ReturnType::Type(_, ty) => {
            check_no_impl_trait(ty, "return types", &mut errors);
            if let Type::Ptr(ptr) = &**ty {
                errors.push(syn::Error::new(
                    ptr.span(),
                    "a raw pointer return value cannot be recorded: an address means \
                     nothing in another run; wrap the call in a `#[deterministic]` Rust \
                     function that returns an owned value",
                ));
            }
            if let Type::Reference(r) = &**ty {
                errors.push(syn::Error::new(
                    r.span(),
                    "a borrowed return value cannot be replayed: replay must produce it \
                     from the recording; return an owned value",
                ));
            }
            (**ty).clone()
        }
    };

    let inputs = params
        .iter()
        .filter(|p| matches!(p.kind, Kind::Value | Kind::Ref))
        .count();
    if inputs > MAX_PARAMS || params.len() - inputs > MAX_PARAMS {
        errors.push(syn::Error::new(
            sig.inputs.span(),
            format!(
                "`#[deterministic]` supports at most {MAX_PARAMS} recorded inputs and \
                 {MAX_PARAMS} outputs; pass a struct instead"
            ),
        ));
    }
    errors.finish()?;

    let ret_display = match &sig.output {
        ReturnType::Default => String::new(),
        ReturnType::Type(_, ty) => format!(" -> {}", ty.to_token_stream()),
    };
    Ok(Analysis {
        params,
        ret,
        is_method,
        display: format!("fn({}){ret_display}", display.join(", ")),
    })
}
