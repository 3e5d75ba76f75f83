//! `#[assume_deterministic]`: a function that runs for real in every mode
//! and is never recorded. Its boundary calls are not recorded either, so
//! adding or removing a call to it never voids a recording. With `pure`,
//! it may return a value (its result depends on its arguments alone); on
//! an extern block, it declares pure foreign functions (`crc32`, `strlen`).

use proc_macro2::TokenStream;
use quote::quote;
use syn::spanned::Spanned;
use syn::{FnArg, Item, ItemFn, ItemForeignMod, Pat, ReturnType, Signature, Type};

use crate::attr::AssumeArgs;
use crate::signature::walk;
use crate::{Errors, foreign, with_errors};

pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let args = AssumeArgs::parse(args, &mut errors);
    let result = syn::parse2::<Item>(item.clone()).and_then(|parsed| match parsed {
        Item::Fn(f) => expand_fn(&args, f),
        Item::ForeignMod(m) => expand_foreign(&args, m),
        other => Err(syn::Error::new(
            other.span(),
            "`#[assume_deterministic]` applies to a function or to an \
             `unsafe extern \"C\" { ... }` block of pure foreign functions",
        )),
    });
    match errors.and(result) {
        Ok(tokens) => tokens,
        Err(e) => with_errors(item, e),
    }
}

const WHY: &str = "`#[assume_deterministic]` functions run for real during replay \
                   and are not recorded, so nothing they produce may flow back into \
                   the program";

/// Errors for what an assumed function may not take or return.
fn check_signature(args: &AssumeArgs, sig: &Signature, foreign: bool, errors: &mut Errors) {
    if let Some(asyncness) = &sig.asyncness {
        errors.push(syn::Error::new_spanned(
            asyncness,
            "`#[assume_deterministic]` cannot wrap an `async fn`: its calls would happen \
             after it returns, outside the unrecorded scope",
        ));
    }
    if let Some(constness) = &sig.constness {
        errors.push(syn::Error::new_spanned(
            constness,
            "a `const fn` makes no boundary calls; `#[assume_deterministic]` is not needed",
        ));
    }
    for input in &sig.inputs {
        let ty = match input {
            FnArg::Receiver(r) => {
                if let syn::ReceiverKind::Reference(_, _, Some(_)) = &r.kind {
                    errors.push(syn::Error::new_spanned(
                        r,
                        format!("`&mut self` is not allowed: {WHY}; take `&self`"),
                    ));
                }
                match &r.kind {
                    syn::ReceiverKind::Typed(_, ty) => &**ty,
                    _ => continue,
                }
            }
            FnArg::Typed(arg) => &*arg.ty,
        };
        walk(ty, &mut |t| match t {
            Type::Reference(r) if r.mutability.is_some() => errors.push(syn::Error::new_spanned(
                t,
                format!("`&mut` is not allowed: {WHY}; take `&T`"),
            )),
            Type::Reference(_) if foreign => errors.push(syn::Error::new_spanned(
                t,
                "a pure foreign function takes what C takes: a value, or a `*const T`",
            )),
            Type::Ptr(p) if foreign && matches!(p.mutability, syn::PointerMutability::Mut(_)) => {
                errors.push(syn::Error::new_spanned(
                    t,
                    format!("`*mut` is not allowed: {WHY}; only `*const` inputs"),
                ))
            }
            Type::Ptr(_) if !foreign => errors.push(syn::Error::new_spanned(
                t,
                format!("raw pointers are not allowed: {WHY}; take `&T`"),
            )),
            _ => {}
        });
    }
    if let ReturnType::Type(_, ty) = &sig.output {
        let unit = matches!(&**ty, Type::Tuple(t) if t.elems.is_empty());
        if !unit && !args.pure {
            errors.push(syn::Error::new_spanned(
                ty,
                format!(
                    "a return value is not allowed: {WHY}\n\
                     help: if the result depends on the arguments alone (a pure function \
                     such as `crc32` or `strlen`), say so: `#[assume_deterministic(pure)]`; \
                     otherwise record it with `#[deterministic]`"
                ),
            ));
        }
    }
}

/// The wrapper's prologue: a handle argument with no real value (a replay
/// placeholder) skips a call that returns nothing, and stops one that
/// returns a value, saying why; then the rest runs unrecorded.
fn prologue(args: &AssumeArgs, sig: &Signature) -> TokenStream {
    let krate = &args.krate;
    let rt = quote!(#krate::__private_3);
    let checks: Vec<_> = sig
        .inputs
        .iter()
        .filter_map(|input| match input {
            FnArg::Typed(arg) => match &*arg.pat {
                Pat::Ident(p) => Some((p.ident.clone(), &*arg.ty)),
                _ => None,
            },
            FnArg::Receiver(_) => None,
        })
        .map(|(ident, ty)| {
            let value = match ty {
                Type::Reference(_) => quote!(#ident),
                _ => quote!(&#ident),
            };
            let name = ident.to_string();
            quote!((#name, (&&#rt::handles::HandleCheck(#value)).placeholder()))
        })
        .collect();
    let name = sig.ident.to_string();
    let returns = matches!(&sig.output, ReturnType::Type(_, ty)
        if !matches!(&**ty, Type::Tuple(t) if t.elems.is_empty()));
    let skip = (!checks.is_empty()).then(|| {
        let act = match returns {
            true => quote!(#rt::handles::needs_live(#name, __replay_location, __replay_checks)),
            false => quote! {
                if #rt::handles::skip_assumed(#name, __replay_location, __replay_checks) {
                    return;
                }
            },
        };
        quote! {
            {
                #[allow(unused_imports)]
                use #rt::handles::{CheckMapped as _, CheckOther as _};
                let __replay_location = ::core::panic::Location::caller();
                let __replay_checks = &[#(#checks),*];
                #act
            }
        }
    });
    quote! {
        #skip
        let __replay_suspended = #rt::suspend();
    }
}

fn expand_fn(args: &AssumeArgs, f: ItemFn) -> syn::Result<TokenStream> {
    let mut errors = Errors::default();
    check_signature(args, &f.sig, false, &mut errors);
    errors.finish()?;
    let prologue = prologue(args, &f.sig);
    let ItemFn {
        attrs,
        vis,
        sig,
        block,
        ..
    } = f;
    Ok(quote! {
        #(#attrs)*
        #[track_caller]
        #vis #sig {
            #prologue
            #block
        }
    })
}

fn expand_foreign(args: &AssumeArgs, mut block: ItemForeignMod) -> syn::Result<TokenStream> {
    let mut errors = Errors::default();
    let mut wrappers = Vec::new();
    for f in foreign::functions(&mut block, "assumed deterministic", &mut errors) {
        let mut checked = Errors::default();
        check_signature(args, &f.sig, true, &mut checked);
        if let Some(variadic) = &f.sig.variadic {
            checked.push(syn::Error::new_spanned(
                variadic,
                "a variadic function cannot be wrapped: declare one non-variadic \
                 function per use",
            ));
        }
        if let Err(e) = checked.finish() {
            errors.push(e);
            continue;
        }
        let mut sig = f.sig.clone();
        let mut idents = Vec::new();
        for (index, input) in sig.inputs.iter_mut().enumerate() {
            if let FnArg::Typed(arg) = input {
                let ident = match &*arg.pat {
                    Pat::Ident(p) => p.ident.clone(),
                    _ => quote::format_ident!("__replay_arg{}", index),
                };
                *arg.pat = syn::parse_quote!(#ident);
                idents.push(ident);
            }
        }
        let prologue = prologue(args, &sig);
        let declared = foreign::declared_name(&f.sig.ident);
        let body = quote! {
            #prologue
            // SAFETY: the wrapper is `unsafe` exactly when the declaration
            // is, so the caller has vouched for the call.
            unsafe { #declared(#(#idents),*) }
        };
        wrappers.push(foreign::wrap(f, sig, body));
    }
    errors.finish()?;
    Ok(quote! {
        #[allow(non_snake_case)]
        #block
        #(#wrappers)*
    })
}
