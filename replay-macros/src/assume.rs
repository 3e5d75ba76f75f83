//! `#[assume_deterministic]`: a function that runs for real in every mode
//! and is never recorded. Its boundary calls are not recorded either, so
//! adding or removing a call to it never voids a recording.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{FnArg, ItemFn, ReturnType, Type};

use crate::attr::AssumeArgs;
use crate::signature::walk;
use crate::{Errors, with_errors};

pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let args = AssumeArgs::parse(args, &mut errors);
    match errors.and(expand_fn(&args, item.clone())) {
        Ok(tokens) => tokens,
        Err(e) => with_errors(item, e),
    }
}

const WHY: &str = "`#[assume_deterministic]` functions run for real during replay \
                   and are not recorded, so nothing they produce may flow back into \
                   the program";

fn expand_fn(args: &AssumeArgs, item: TokenStream) -> syn::Result<TokenStream> {
    let f: ItemFn = syn::parse2(item).map_err(|e| {
        syn::Error::new(
            e.span(),
            format!("`#[assume_deterministic]` applies to functions: {e}"),
        )
    })?;
    let mut errors = Errors::default();
    if let Some(asyncness) = &f.sig.asyncness {
        errors.push(syn::Error::new_spanned(
            asyncness,
            "`#[assume_deterministic]` cannot wrap an `async fn`: its calls would happen \
             after it returns, outside the unrecorded scope",
        ));
    }
    if let Some(constness) = &f.sig.constness {
        errors.push(syn::Error::new_spanned(
            constness,
            "a `const fn` makes no boundary calls; `#[assume_deterministic]` is not needed",
        ));
    }
    for input in &f.sig.inputs {
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
            Type::Ptr(_) => errors.push(syn::Error::new_spanned(
                t,
                format!("raw pointers are not allowed: {WHY}; take `&T`"),
            )),
            _ => {}
        });
    }
    if let ReturnType::Type(_, ty) = &f.sig.output {
        let unit = matches!(&**ty, Type::Tuple(t) if t.elems.is_empty());
        if !unit {
            errors.push(syn::Error::new_spanned(
                ty,
                format!("a return value is not allowed: {WHY}; return nothing"),
            ));
        }
    }
    errors.finish()?;
    let krate = &args.krate;
    let rt = quote!(#krate::__private_3);
    // Handles among the arguments: a replay placeholder has no live value
    // to give the real function, so the call is skipped, saying why.
    let checks: Vec<_> = f
        .sig
        .inputs
        .iter()
        .filter_map(|input| match input {
            FnArg::Typed(arg) => match &*arg.pat {
                syn::Pat::Ident(p) => Some((p.ident.clone(), &*arg.ty)),
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
    let name = f.sig.ident.to_string();
    let skip = (!checks.is_empty()).then(|| {
        quote! {
            {
                #[allow(unused_imports)]
                use #rt::handles::{CheckMapped as _, CheckOther as _};
                let __replay_location = ::core::panic::Location::caller();
                if #rt::handles::skip_assumed(#name, __replay_location, &[#(#checks),*]) {
                    return;
                }
            }
        }
    });
    let track_caller = skip.as_ref().map(|_| quote!(#[track_caller]));
    let ItemFn {
        attrs,
        vis,
        sig,
        block,
        ..
    } = f;
    Ok(quote! {
        #(#attrs)*
        #track_caller
        #vis #sig {
            #skip
            let __replay_suspended = #rt::suspend();
            #block
        }
    })
}
