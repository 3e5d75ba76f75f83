//! `#[deterministic]`: a wrapper that records or replays each call.
//!
//! The generated code checks the thread's mode (one thread-local load) and
//! without a session calls the real function; otherwise it hands the
//! arguments to `Call::begin` and the out-parameters and the real function
//! to `Call::run` (`::replay_runtime::__private_3`), where the logic lives.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, ForeignItem, Item, ItemFn, ItemForeignMod, Pat, Signature, Type};

use crate::attr::{DeterministicArgs, is_pointer_attr};
use crate::signature::{self, Analysis, Kind};
use crate::wrapper::{body, respan};
use crate::{Errors, with_errors};
use crate::{callback, foreign};

pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let args = DeterministicArgs::parse(args, &mut errors);
    let parsed = syn::parse2::<Item>(item.clone());
    let result = parsed.clone().and_then(|parsed| match parsed {
        Item::Fn(f) if args.callback.is_some() => callback::expand(&args, f),
        Item::Fn(f) => expand_fn(&args, f),
        Item::ForeignMod(m) => expand_foreign(&args, m),
        other => Err(syn::Error::new(
            other.span(),
            "`#[deterministic]` applies to a function, a method, or an \
             `unsafe extern \"C\" { ... }` block (on a trait, mark the methods of \
             each `impl`, not the declarations)",
        )),
    });
    errors.and(result).unwrap_or_else(|e| match parsed {
        // Without its `#[out]`s, which rustc would not know.
        Ok(mut item) => {
            strip_out_attrs(&mut item);
            with_errors(quote!(#item), e)
        }
        Err(_) => with_errors(item, e),
    })
}

/// Removes `#[out(..)]`, `#[inout(..)]` and `#[input(..)]` from every
/// parameter of the item.
fn strip_out_attrs(item: &mut Item) {
    let sigs: Vec<&mut Signature> = match item {
        Item::Fn(f) => vec![&mut f.sig],
        Item::ForeignMod(m) => m
            .items
            .iter_mut()
            .filter_map(|i| match i {
                ForeignItem::Fn(f) => Some(&mut f.sig),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    for sig in sigs {
        for input in &mut sig.inputs {
            if let FnArg::Typed(arg) = input {
                arg.attrs.retain(|a| !is_pointer_attr(a));
            }
        }
    }
}

/// The closure's parameters: the original patterns, with their types.
pub(crate) fn closure_params(analysis: &Analysis) -> Vec<TokenStream> {
    analysis
        .params
        .iter()
        .map(|p| {
            let (pat, ty) = (&p.pat, &p.ty);
            quote!(#pat: #ty)
        })
        .collect()
}

/// Gives every typed parameter of the wrapper a plain name.
pub(crate) fn rename_params(sig: &mut Signature, analysis: &Analysis) {
    let typed = sig.inputs.iter_mut().filter_map(|a| match a {
        FnArg::Typed(t) => Some(t),
        FnArg::Receiver(_) => None,
    });
    for (arg, param) in typed.zip(&analysis.params) {
        *arg.pat = Pat::Ident(syn::PatIdent {
            attrs: Vec::new(),
            by_ref: None,
            mutability: None,
            ident: param.ident.clone(),
            subpat: None,
        });
    }
}

/// Checks the attribute's arguments against the function they apply to.
fn check_args(args: &DeterministicArgs, sig: &Signature, analysis: &Analysis) -> syn::Result<()> {
    let mut errors = Errors::default();
    if let Some(path) = &args.path
        && !analysis.params.iter().any(|p| p.ident == *path)
    {
        errors.push(syn::Error::new_spanned(
            path,
            format!("`path = {path}` must name a parameter of this function"),
        ));
    }
    for secret in &args.secret {
        if !analysis.inputs().any(|p| p.ident == *secret) {
            errors.push(syn::Error::new_spanned(
                secret,
                format!("`secret({secret})` must name a parameter recorded as an input"),
            ));
        }
    }
    if let Some(token) = &args.secret_return
        && matches!(sig.output, syn::ReturnType::Default)
    {
        errors.push(syn::Error::new_spanned(
            token,
            "`secret(return)` keeps the return value out of the recording, but this \
             function returns nothing",
        ));
    }
    if let (Some(stand_in), Some(receiver)) = (&args.replay_with, sig.receiver()) {
        errors.push(syn::Error::new_spanned(
            receiver,
            format!(
                "`replay_with = {}` applies to functions without `self`: the stand-in \
                 is called with the same arguments",
                quote!(#stand_in)
            ),
        ));
    }
    errors.finish()
}

fn expand_fn(args: &DeterministicArgs, mut f: ItemFn) -> syn::Result<TokenStream> {
    let analysis = signature::analyse(&mut f.sig, false)?;
    check_args(args, &f.sig, &analysis)?;
    let params = closure_params(&analysis);
    let ret = &analysis.ret;
    let block = &f.block;
    let real = quote!(move |#(#params),*| -> #ret #block);
    let name = f.sig.ident.to_string();
    let body = body(args, &name, &analysis, real);
    rename_params(&mut f.sig, &analysis);
    let ItemFn {
        attrs, vis, sig, ..
    } = &f;
    // Inlining lets the off path vanish into the caller; the user's own
    // `#[inline(...)]` wins.
    let inline = match attrs.iter().any(|a| a.path().is_ident("inline")) {
        true => quote!(),
        false => quote!(#[inline]),
    };
    // `#[track_caller]` needs the Rust ABI: an `extern "C" fn` (a callback
    // C calls) reports its own location instead of its caller's.
    let rust_abi = sig
        .abi
        .as_ref()
        .is_none_or(|abi| abi.name.as_ref().is_some_and(|n| n.value() == "Rust"));
    let track_caller = rust_abi.then(|| quote!(#[track_caller]));
    Ok(quote! {
        #(#attrs)*
        #inline
        #track_caller
        #vis #sig {
            #body
        }
    })
}

fn expand_foreign(args: &DeterministicArgs, mut block: ItemForeignMod) -> syn::Result<TokenStream> {
    let mut errors = Errors::default();
    let mut wrappers = Vec::new();
    for f in foreign::functions(&mut block, "recorded", &mut errors) {
        let analysis = match signature::analyse(&mut f.sig, true)
            .and_then(|a| check_args(args, &f.sig, &a).map(|()| a))
        {
            Ok(a) => a,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let params = closure_params(&analysis);
        let krate = &args.krate;
        // A borrowed return crosses as a value; the wrapper returns the pointer.
        let ret = match (&analysis.returns_plain, analysis.returns_c_str) {
            (_, true) => quote!(__replay::CStrRet),
            // Spanned to the type: one that is not plain data is blamed there.
            (Some(elem), _) => respan(quote!(__replay::PlainRet<#elem>), elem.span()),
            (None, false) => analysis.ret.to_token_stream(),
        };
        let ident = f.sig.ident.clone();
        // The declaration stays in place, renamed, linking to the same symbol;
        // the wrapper takes its name.
        let declared = foreign::declared_name(&ident);
        // A `&Handle` reaches C as the raw handle it wraps.
        let passed = analysis.params.iter().map(|p| {
            let ident = &p.ident;
            match p.kind {
                Kind::Ref => {
                    // Spanned to the type: one that is not a handle is blamed there.
                    let raw = respan(quote!(__replay::Mapped::raw), p.ty.span());
                    quote!(#raw(#ident))
                }
                _ => quote!(#ident),
            }
        });
        // SAFETY of the real call: the wrapper is `unsafe` exactly when the
        // declaration is, so the caller has vouched for it.
        // A value passed by value is C's from now on: a handle among them
        // frees its slot, as the real call consumes it without a drop.
        let given: Vec<_> = analysis
            .params
            .iter()
            .filter(|p| matches!(p.kind, Kind::Value))
            .map(|p| {
                let ident = &p.ident;
                quote!((&&__replay::handles::GiveAway(&#ident)).give_away();)
            })
            .collect();
        let call = quote!(unsafe { #declared(#(#passed),*) });
        let call = match (&analysis.returns_plain, analysis.returns_c_str) {
            (_, true) => quote!(__replay::CStrRet(#call)),
            (Some(elem), _) => {
                let plain = respan(quote!(__replay::PlainRet), elem.span());
                quote!(#plain(#call))
            }
            (None, false) => call,
        };
        let real = quote!(move |#(#params),*| -> #ret {
            #(#given)*
            #call
        });
        let name = ident.to_string();
        let body = body(args, &name, &analysis, real);
        let mut sig = f.sig.clone();
        rename_params(&mut sig, &analysis);
        let typed = f.sig.inputs.iter_mut().filter_map(|a| match a {
            FnArg::Typed(t) => Some(t),
            FnArg::Receiver(_) => None,
        });
        for (arg, param) in typed.zip(&analysis.params) {
            if let (Kind::Ref, Type::Reference(r)) = (&param.kind, &*arg.ty) {
                let elem = &r.elem;
                let raw = quote_spanned!(r.span()=> <#elem as #krate::Mapped>::Raw);
                *arg.ty = syn::parse2(raw)?;
            }
        }
        wrappers.push(foreign::wrap(f, sig, body));
    }
    errors.finish()?;
    Ok(quote! {
        #[allow(non_snake_case)]
        #block
        #(#wrappers)*
    })
}
