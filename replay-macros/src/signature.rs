//! Classifying a signature's parameters: what is recorded as an input, what
//! is an out-parameter, and what cannot cross the boundary at all.

use proc_macro2::TokenStream;
use quote::{ToTokens, format_ident, quote};
use syn::spanned::Spanned;
use syn::{FnArg, Pat, ReturnType, Signature, Type};

use crate::Errors;
use crate::attr::PointerAttr;
use crate::pointers::{check_lengths, classify, classify_marked, is_c_char};

/// The most inputs, and the most outputs, one wrapped function may have
/// (the runtime implements its traits for tuples up to this size).
const MAX_PARAMS: usize = 12;

/// How a parameter crosses the boundary.
pub(crate) enum Kind {
    /// `T`: recorded and checked on replay.
    Value,
    /// `&T`: recorded and checked on replay, as `T`.
    Ref,
    /// `&mut T`: written by the call, recorded, written back on replay;
    /// its value before the call is an input too (`true`), unless the
    /// parameter is marked `#[out]`.
    OutRef(bool),
    /// `&mut [T]`: as `OutRef`, element by element.
    OutSlice(bool),
    /// `*mut T` with `#[out(..)]`: a raw output buffer.
    OutRaw(Box<PointerAttr>),
    /// `*mut T` with `#[inout(..)]`: read, then written, by the call.
    InOutRaw(Box<PointerAttr>),
    /// `*const c_char` (or `#[input] *mut c_char`): a nullable C string.
    CStr,
    /// `#[input(len = ..)] *const T`: an array of plain data.
    InArray(Box<PointerAttr>),
    /// `#[input(len = ..)]` or `#[input(null_terminated)]` on
    /// `*const *const c_char`: an array of C strings.
    InStrings(Box<PointerAttr>),
    /// A function pointer (`Option<unsafe extern "C" fn(..)>`): recorded as
    /// which callback it is.
    FnPtr,
}

impl Kind {
    /// Whether the call reads it: recorded, and checked on replay.
    pub(crate) fn is_input(&self) -> bool {
        matches!(
            self,
            Kind::Value
                | Kind::Ref
                | Kind::CStr
                | Kind::InArray(_)
                | Kind::InStrings(_)
                | Kind::InOutRaw(_)
                | Kind::FnPtr
        )
    }

    /// Whether the call writes it: recorded, and written back on replay.
    pub(crate) fn is_output(&self) -> bool {
        matches!(
            self,
            Kind::OutRef(_) | Kind::OutSlice(_) | Kind::OutRaw(_) | Kind::InOutRaw(_)
        )
    }

    /// The pointer attribute it was marked with.
    pub(crate) fn pointer_attr(&self) -> Option<&PointerAttr> {
        match self {
            Kind::OutRaw(a) | Kind::InOutRaw(a) | Kind::InArray(a) | Kind::InStrings(a) => Some(a),
            _ => None,
        }
    }
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
    /// An extern function returns a borrowed C string (`*const c_char`).
    pub(crate) returns_c_str: bool,
    /// An extern function returns a borrowed element of plain data
    /// (`*const T`, `T` not `c_char`): its pointee.
    pub(crate) returns_plain: Option<Type>,
    /// A function of an extern block: `&T` is a `#[mapped]` handle.
    pub(crate) foreign: bool,
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
    /// is not there, and a `&mut` marked `#[out]` as `#[out] &mut T` (its
    /// value before the call is not recorded either).
    pub(crate) fn display(&self, secret: &[syn::Ident]) -> String {
        let out_only = |ident: &syn::Ident| {
            self.params.iter().any(|p| {
                p.ident == *ident && matches!(p.kind, Kind::OutRef(false) | Kind::OutSlice(false))
            })
        };
        let params: Vec<String> = self
            .shown
            .iter()
            .map(|(ident, ty)| match ident {
                Some(ident) if secret.contains(ident) => format!("#[secret] {ty}"),
                Some(ident) if out_only(ident) => format!("#[out] {ty}"),
                Some(ident) => match self.params.iter().find(|p| p.ident == *ident) {
                    // What C does with a pointer, and the handles C gets:
                    // `replay dump` decodes them.
                    Some(p) => match p.kind.pointer_attr() {
                        Some(attr) => format!("{} {ty}", attr.attr.to_token_stream()),
                        None if self.foreign && matches!(p.kind, Kind::Ref) => {
                            format!("#[mapped] {ty}")
                        }
                        None => ty.clone(),
                    },
                    None => ty.clone(),
                },
                None => ty.clone(),
            })
            .collect();
        format!("fn({}){}", params.join(", "), self.shown_ret)
    }

    /// The `&mut` parameters whose value before the call is recorded.
    pub(crate) fn inouts(&self) -> impl Iterator<Item = &Param> {
        self.params
            .iter()
            .filter(|p| matches!(p.kind, Kind::OutRef(true) | Kind::OutSlice(true)))
    }

    pub(crate) fn inputs(&self) -> impl Iterator<Item = &Param> {
        self.params.iter().filter(|p| p.kind.is_input())
    }

    /// The arguments the real function is called with.
    pub(crate) fn call_args(&self) -> Vec<TokenStream> {
        self.params
            .iter()
            .map(|p| {
                let ident = &p.ident;
                match p.kind {
                    Kind::OutRef(_) | Kind::OutSlice(_) => quote!(&mut *#ident),
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

pub(crate) const IMPL_TRAIT: &str = "`impl Trait` cannot be recorded: the recorded value needs a \
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
        let attr = match PointerAttr::take(&mut arg.attrs) {
            Ok(attr) => attr.map(Ok),
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
        if !matches!(ty, Type::Ptr(_)) {
            check_nested_param(&ty, &mut errors);
        }
        let kind = match attr {
            Some(Err(())) => Kind::Value,
            Some(Ok(attr)) => classify_marked(&ident, &ty, attr, foreign, &mut errors),
            None => classify(&ident, &ty, foreign, &mut errors),
        };
        params.push(Param {
            position: u16::try_from(index + 1).unwrap_or(u16::MAX),
            ident,
            pat: (*arg.pat).clone(),
            ty,
            kind,
        });
    }

    check_lengths(&params, &sig.output, &mut errors);

    let returns_c_str = foreign
        && matches!(&sig.output, ReturnType::Type(_, ty)
            if matches!(&**ty, Type::Ptr(p) if matches!(p.mutability, syn::PointerMutability::Const(_)) && is_c_char(&p.elem)));
    let returns_plain = match &sig.output {
        ReturnType::Type(_, ty) if foreign && !returns_c_str => match &**ty {
            Type::Ptr(p) if matches!(p.mutability, syn::PointerMutability::Const(_)) => {
                Some((*p.elem).clone())
            }
            _ => None,
        },
        _ => None,
    };
    let ret: Type = match &sig.output {
        ReturnType::Default => syn::parse_quote!(()),
        ReturnType::Type(_, ty) => {
            if !returns_c_str && returns_plain.is_none() {
                check_return(ty, &mut errors);
            }
            (**ty).clone()
        }
    };

    let mut counts = (0, 0);
    for param in &params {
        for (counted, count, what) in [
            (param.kind.is_input(), &mut counts.0, "inputs"),
            (param.kind.is_output(), &mut counts.1, "outputs"),
        ] {
            if !counted {
                continue;
            }
            *count += 1;
            if *count != MAX_PARAMS + 1 {
                continue;
            }
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
        returns_c_str,
        returns_plain,
        foreign,
        is_method,
        shared_receiver,
        shown: display,
        shown_ret,
    })
}
