//! `#[assume_deterministic]`: a function that runs for real in every mode
//! and is never recorded. Its boundary calls are not recorded either, so
//! adding or removing a call to it never voids a recording.

use proc_macro2::TokenStream;
use quote::quote;
use syn::spanned::Spanned;
use syn::{FnArg, ItemFn, ReturnType, Type};

use crate::{Errors, with_errors};

pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    match expand_fn(args, item.clone()) {
        Ok(tokens) => tokens,
        Err(e) => with_errors(item, e),
    }
}

const WHY: &str = "`#[assume_deterministic]` functions run for real during replay \
                   and are not recorded, so nothing they produce may flow back into \
                   the program";

fn expand_fn(args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    if let Some(arg) = args.into_iter().next() {
        return Err(syn::Error::new(
            arg.span(),
            "`#[assume_deterministic]` takes no arguments",
        ));
    }
    let f: ItemFn = syn::parse2(item).map_err(|e| {
        syn::Error::new(
            e.span(),
            format!("`#[assume_deterministic]` applies to functions: {e}"),
        )
    })?;
    let mut errors = Errors::default();
    for input in &f.sig.inputs {
        match input {
            FnArg::Receiver(r)
                if matches!(&r.kind, syn::ReceiverKind::Reference(_, _, Some(_))) =>
            {
                errors.push(syn::Error::new(
                    r.span(),
                    format!("`&mut self` is not allowed: {WHY}; take `&self`"),
                ));
            }
            FnArg::Typed(arg) => match &*arg.ty {
                Type::Reference(r) if r.mutability.is_some() => errors.push(syn::Error::new(
                    r.span(),
                    format!("`&mut` parameters are not allowed: {WHY}; take `&T`"),
                )),
                Type::Ptr(p) => errors.push(syn::Error::new(
                    p.span(),
                    format!("raw pointer parameters are not allowed: {WHY}; take `&T`"),
                )),
                _ => {}
            },
            FnArg::Receiver(_) => {}
        }
    }
    if let ReturnType::Type(_, ty) = &f.sig.output {
        let unit = matches!(&**ty, Type::Tuple(t) if t.elems.is_empty());
        if !unit {
            errors.push(syn::Error::new(
                ty.span(),
                format!("a return value is not allowed: {WHY}; return nothing"),
            ));
        }
    }
    errors.finish()?;
    let ItemFn {
        attrs,
        vis,
        sig,
        block,
        ..
    } = f;
    Ok(quote! {
        #(#attrs)*
        #vis #sig {
            let __replay_suspended = ::replay_runtime::__private::suspend();
            #block
        }
    })
}
