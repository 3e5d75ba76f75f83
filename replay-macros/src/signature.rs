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
    /// Its position among the function's parameters (`self` included),
    /// from 1, as reports count.
    pub(crate) position: u16,
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
    /// The method takes `&self`: recorded (as its slot, for a `#[mapped]`
    /// handle; as nothing otherwise).
    pub(crate) shared_receiver: bool,
    /// Each parameter as written (its name, unless the receiver), and the
    /// return type: see [`Analysis::display`].
    shown: Vec<(Option<syn::Ident>, String)>,
    shown_ret: String,
}

impl Analysis {
    /// `fn(u64, & str) -> u64`, for the recording; a `secret` parameter
    /// shows as `#[secret] T`, so that a reader of the recording knows it
    /// is not there.
    pub(crate) fn display(&self, secret: &[syn::Ident]) -> String {
        let params: Vec<String> = self
            .shown
            .iter()
            .map(|(ident, ty)| match ident {
                Some(ident) if secret.contains(ident) => format!("#[secret] {ty}"),
                _ => ty.clone(),
            })
            .collect();
        format!("fn({}){}", params.join(", "), self.shown_ret)
    }

    pub(crate) fn inputs(&self) -> impl Iterator<Item = &Param> {
        self.params
            .iter()
            .filter(|p| matches!(p.kind, Kind::Value | Kind::Ref))
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

/// Calls `f` on `ty` and every type nested in it (generic arguments,
/// tuple and array elements, pointees).
pub(crate) fn walk<'a>(ty: &'a Type, f: &mut dyn FnMut(&'a Type)) {
    f(ty);
    match ty {
        Type::Reference(r) => walk(&r.elem, f),
        Type::Ptr(p) => walk(&p.elem, f),
        Type::Slice(s) => walk(&s.elem, f),
        Type::Array(a) => walk(&a.elem, f),
        Type::Paren(p) => walk(&p.elem, f),
        Type::Group(g) => walk(&g.elem, f),
        Type::Tuple(t) => t.elems.iter().for_each(|e| walk(e, f)),
        Type::Path(p) => {
            let args = p.path.segments.iter().filter_map(|s| match &s.arguments {
                syn::PathArguments::AngleBracketed(a) => Some(a),
                _ => None,
            });
            for arg in args.flat_map(|a| a.args.iter()) {
                if let syn::GenericArgument::Type(t) = arg {
                    walk(t, f);
                }
            }
        }
        _ => {}
    }
}

/// Errors for what cannot be recorded inside a parameter's type (below its
/// top level, which `analyse` classifies).
fn check_nested_param(ty: &Type, errors: &mut Errors) {
    let mut nested = |t: &Type| {
        if std::ptr::eq(t, ty) {
            return;
        }
        match t {
            Type::ImplTrait(_) => errors.push(syn::Error::new_spanned(t, IMPL_TRAIT)),
            Type::Ptr(_) => errors.push(syn::Error::new_spanned(
                t,
                "a raw pointer inside a parameter's type cannot be recorded: an address \
                 means nothing in another run",
            )),
            Type::Reference(r) if r.mutability.is_some() => errors.push(syn::Error::new_spanned(
                t,
                "a `&mut` inside a parameter's type is not recorded as an output; take \
                 `&mut T` or `&mut [T]` as a parameter of its own",
            )),
            _ => {}
        }
    };
    walk(ty, &mut nested);
}

const IMPL_TRAIT: &str = "`impl Trait` cannot be recorded: the recorded value needs a \
                          concrete type; use a generic parameter or a named type";

/// Errors for a return type that replay cannot produce from the recording.
fn check_return(ty: &Type, errors: &mut Errors) {
    walk(ty, &mut |t| match t {
        Type::ImplTrait(_) => errors.push(syn::Error::new_spanned(t, IMPL_TRAIT)),
        Type::Ptr(_) => errors.push(syn::Error::new_spanned(
            t,
            "a raw pointer return value cannot be recorded: an address means nothing \
             in another run; wrap the call in a `#[deterministic]` Rust function that \
             returns an owned value",
        )),
        Type::Reference(_) => errors.push(syn::Error::new_spanned(
            t,
            "a borrowed return value cannot be replayed: replay must produce it from \
             the recording; return an owned value",
        )),
        _ => {}
    });
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
    let mut shared_receiver = false;
    let mut display = Vec::new();
    let mut params = Vec::new();
    for (index, input) in sig.inputs.iter_mut().enumerate() {
        let arg = match input {
            FnArg::Receiver(receiver) => {
                is_method = true;
                shared_receiver = matches!(receiver.kind, syn::ReceiverKind::Reference(_, _, None));
                display.push((None, receiver.to_token_stream().to_string()));
                continue;
            }
            FnArg::Typed(arg) => arg,
        };
        is_method |= mentions_self(arg.ty.to_token_stream());
        let out = match OutAttr::take(&mut arg.attrs) {
            Ok(out) => out.map(Ok),
            // Marked, but wrongly: report that, not the missing mark.
            Err(e) => {
                errors.push(e);
                Some(Err(()))
            }
        };
        let ident = match &*arg.pat {
            Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => p.ident.clone(),
            _ => format_ident!("__replay_arg{}", index),
        };
        let ty = (*arg.ty).clone();
        display.push((Some(ident.clone()), ty.to_token_stream().to_string()));
        check_nested_param(&ty, &mut errors);
        let kind = match (&ty, out) {
            (_, Some(Err(()))) => Kind::Value,
            (Type::ImplTrait(_), _) => {
                errors.push(syn::Error::new_spanned(&ty, IMPL_TRAIT));
                Kind::Value
            }
            (Type::Ptr(ptr), Some(Ok(out))) => {
                if let PointerMutability::Const(_) = &ptr.mutability {
                    errors.push(syn::Error::new_spanned(
                        ptr,
                        "an output buffer must be `*mut`: `#[out]` marks memory the \
                         function writes",
                    ));
                }
                if !foreign {
                    errors.push(syn::Error::new_spanned(
                        &out.attr,
                        "`#[out]` marks raw output buffers of extern functions; a Rust \
                         function takes `&mut [T]` instead",
                    ));
                }
                Kind::OutRaw(Box::new(out))
            }
            (_, Some(Ok(out))) => {
                errors.push(syn::Error::new_spanned(
                    &out.attr,
                    "`#[out]` applies to raw pointer parameters (`*mut T`); `&mut T` and \
                     `&mut [T]` are recorded as outputs without it",
                ));
                Kind::Value
            }
            (Type::Ptr(ptr), None) => {
                errors.push(syn::Error::new_spanned(
                    ptr,
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
            (Type::Reference(r), None) if foreign && r.mutability.is_none() => {
                errors.push(syn::Error::new_spanned(
                    r,
                    format!(
                        "reference parameter `{ident}` of an extern function passes C a pointer, \
                         and replay would record only the value it points at: an array or a C \
                         string behind it would not be checked\n\
                         help: take the value itself (a number, a `ContextPtr`), or wrap the \
                         call in a `#[deterministic]` Rust function \
                         that takes safe types (`&str`, `&[T]`)"
                    ),
                ));
                Kind::Ref
            }
            (Type::Reference(_), None) => Kind::Ref,
            (_, None) => Kind::Value,
        };
        params.push(Param {
            position: u16::try_from(index + 1).unwrap_or(u16::MAX),
            ident,
            pat: (*arg.pat).clone(),
            ty,
            kind,
        });
    }

    for param in &params {
        if let Kind::OutRaw(out) = &param.kind
            && out.written_by_return
            && matches!(sig.output, ReturnType::Default)
        {
            errors.push(syn::Error::new_spanned(
                &out.attr,
                "`written = return` needs the function to return the number of elements \
                 written, but it returns nothing",
            ));
        }
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
            check_return(ty, &mut errors);
            (**ty).clone()
        }
    };

    let mut counts = (0, 0);
    for param in &params {
        let (count, what) = match param.kind {
            Kind::Value | Kind::Ref => (&mut counts.0, "inputs"),
            _ => (&mut counts.1, "outputs"),
        };
        *count += 1;
        if *count == MAX_PARAMS + 1 {
            errors.push(syn::Error::new_spanned(
                &param.pat,
                format!(
                    "`#[deterministic]` records at most {MAX_PARAMS} {what}, and this is \
                     number {}; pass a struct instead",
                    MAX_PARAMS + 1
                ),
            ));
        }
    }
    errors.finish()?;

    let shown_ret = match &sig.output {
        ReturnType::Default => String::new(),
        ReturnType::Type(_, ty) => format!(" -> {}", ty.to_token_stream()),
    };
    Ok(Analysis {
        params,
        ret,
        is_method,
        shared_receiver,
        shown: display,
        shown_ret,
    })
}
