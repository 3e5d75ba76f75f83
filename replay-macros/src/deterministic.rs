//! `#[deterministic]`: a wrapper that records or replays each call.
//!
//! The generated code checks the thread's mode (one thread-local load) and
//! without a session calls the real function; otherwise it hands the
//! arguments to `Call::begin` and the out-parameters and the real function
//! to `Call::run` (`::replay_runtime::__private_2`), where the logic lives.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, ForeignItem, Item, ItemFn, ItemForeignMod, Pat, Safety, Signature};

use crate::attr::{DeterministicArgs, Len};
use crate::signature::{self, Analysis, Kind};
use crate::{Errors, with_errors};

pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let args = DeterministicArgs::parse(args, &mut errors);
    let parsed = syn::parse2::<Item>(item.clone());
    let result = parsed.clone().and_then(|parsed| match parsed {
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

/// Removes `#[out(...)]` from every parameter of the item.
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
                arg.attrs.retain(|a| !a.path().is_ident("out"));
            }
        }
    }
}

/// The wrapper's body: a site, the real call as a closure, and the `match`.
fn body(
    args: &DeterministicArgs,
    name: &str,
    analysis: &Analysis,
    real: TokenStream,
) -> TokenStream {
    let krate = &args.krate;
    // One alias for the runtime's paths, declared in the wrapper's body.
    let rt = quote!(__replay);
    let signature = analysis.display(&args.secret);
    // Secret parameters are neither recorded nor checked.
    let recorded = || {
        analysis
            .inputs()
            .filter(|p| !args.secret.contains(&p.ident))
    };
    // Each recorded input's position among the parameters, and name.
    let receiver_name = analysis.shared_receiver.then(|| quote!((1u16, "self")));
    let names = receiver_name.into_iter().chain(recorded().map(|p| {
        let (position, name) = (p.position, p.ident.to_string());
        quote!((#position, #name))
    }));
    let path_end = format!("::{name}");
    let site = if analysis.is_method {
        quote! {
            static __REPLAY_SITE: #rt::Site = #rt::Site::method(#name, #signature, &[#(#names),*]);
        }
    } else {
        quote! {
            static __REPLAY_SITE: #rt::Site = #rt::Site::new(
                ::core::concat!(::core::module_path!(), #path_end), #signature, &[#(#names),*]);
        }
    };
    // `&self` goes first: its slot, if `Self` is a `#[mapped]` handle.
    let receiver = analysis.shared_receiver.then(|| {
        quote! {
            (&&&&#rt::Probe(&#rt::handles::Receiver::new(
                self,
                (&&#rt::handles::ReceiverProbe::of(self)).slot(),
            )))
            .arg()
        }
    });
    let inputs: Vec<_> = receiver
        .into_iter()
        .chain(recorded().map(|p| {
            let ident = &p.ident;
            let value = match p.kind {
                Kind::Ref => quote!(#ident),
                _ => quote!(&#ident),
            };
            // Every token spanned to the parameter's type, so that a type
            // that is not `Serialize` is blamed there, not on the attribute.
            let span = p.ty.span();
            let rt = respan(rt.clone(), span);
            quote_spanned!(span=> (&&&&#rt::Probe(#value)).arg())
        }))
        .collect();
    // The out-parameters, built once; the real function writes through them.
    let mut outs = Vec::new();
    let mut written = Vec::new();
    let mut call_args = Vec::new();
    for p in &analysis.params {
        let ident = &p.ident;
        let at = syn::Index::from(outs.len());
        let out = match &p.kind {
            Kind::Value | Kind::Ref => {
                call_args.push(quote!(#ident));
                continue;
            }
            Kind::OutRef | Kind::OutSlice if args.secret_return.is_some() => {
                call_args.push(quote!(&mut *#ident));
                continue;
            }
            Kind::OutRaw(_) if args.secret_return.is_some() => {
                call_args.push(quote!(#ident));
                continue;
            }
            Kind::OutRef => quote!(#rt::OutRef(&mut *#ident)),
            Kind::OutSlice => quote!(#rt::OutSlice(&mut *#ident)),
            Kind::OutRaw(out) => {
                let len = match &out.len {
                    Len::Param(len) => quote_spanned!(len.span()=> #rt::count(#len)),
                    Len::Literal(len) => quote!(#len),
                };
                if out.written_by_return {
                    written.push(quote! {
                        __replay_outs.#at.wrote(#rt::written(&__replay_ret, #rt::byte_len(#ident, 1)));
                    });
                }
                call_args.push(quote!(#ident));
                let constructor = match out.written_by_return {
                    true => quote!(up_to),
                    false => quote!(new),
                };
                // Spanned to the parameter's type: an element type that is
                // not plain data is blamed there.
                let span = p.ty.span();
                let out_raw = respan(quote!(#rt::OutRaw::#constructor), span);
                outs.push(quote! {
                    // SAFETY: the caller of this `unsafe fn` vouches for the
                    // buffer, as for the foreign function itself.
                    unsafe { #out_raw(#ident, #rt::byte_len(#ident, #len)) }
                });
                continue;
            }
        };
        call_args.push(quote!(&mut *__replay_outs.#at.0));
        outs.push(out);
    }
    // In replay, a call runs for real (or through its stand-in) when asked.
    let live = match (&args.replay_with, &args.path) {
        _ if args.secret_return.is_some() => quote!(#rt::Live::Secret),
        (Some(_), _) => quote!(#rt::Live::Always),
        (None, Some(path)) => quote!(#rt::Live::IfPath(#rt::as_path(&#path))),
        (None, None) => quote!(#rt::Live::IfHandles),
    };
    let real_call = quote!(__replay_real(#(#call_args),*));
    let call = match &args.replay_with {
        Some(stand_in) => quote! {
            match __replay_run {
                #rt::Run::Real => #real_call,
                #rt::Run::StandIn => #stand_in(#(#call_args),*),
            }
        },
        None => real_call,
    };
    let run = if args.secret_return.is_some() {
        quote!(__replay_call.run_secret(move |__replay_run| #call))
    } else if written.is_empty() {
        quote!(__replay_call.run(&mut (#(#outs,)*), move |__replay_outs, __replay_run| #call))
    } else {
        quote! {
            __replay_call.run(&mut (#(#outs,)*), move |__replay_outs, __replay_run| {
                let __replay_ret = #call;
                #(#written)*
                __replay_ret
            })
        }
    };
    let passed = analysis.call_args();
    let site_ref = match analysis.is_method {
        true => quote!(__REPLAY_SITE.owner(::core::any::type_name::<Self>)),
        false => quote!(&__REPLAY_SITE),
    };
    // Out of line, so that the wrapper's off path stays small enough to
    // inline; a failure comes back out to be raised here, at the caller.
    quote! {
        // `mut`: a body that mutates through `&mut self` makes it `FnMut`.
        #[allow(unused_mut)]
        let mut __replay_real = #real;
        use #krate::__private_2 as __replay;
        #[allow(unused_imports)]
        use __replay::probes::*;
        if #rt::passthrough() {
            return __replay_real(#(#passed),*);
        }
        #site
        let __replay_at = ::core::panic::Location::caller();
        #rt::done(#rt::outlined(move || {
            let __replay_call = #rt::Call::begin(#site_ref, __replay_at, #live, &(#(#inputs,)*))?;
            #run
        }))
    }
}

/// `tokens` with every span set to `span`.
fn respan(tokens: TokenStream, span: proc_macro2::Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut tree| {
            if let proc_macro2::TokenTree::Group(group) = &tree {
                let mut inner =
                    proc_macro2::Group::new(group.delimiter(), respan(group.stream(), span));
                inner.set_span(span);
                tree = proc_macro2::TokenTree::Group(inner);
            }
            tree.set_span(span);
            tree
        })
        .collect()
}

/// The closure's parameters: the original patterns, with their types.
fn closure_params(analysis: &Analysis) -> Vec<TokenStream> {
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
fn rename_params(sig: &mut Signature, analysis: &Analysis) {
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
    for item in &mut block.items {
        let f = match item {
            ForeignItem::Fn(f) => f,
            other => {
                errors.push(syn::Error::new(
                    other.span(),
                    "only functions can be recorded; declare statics and types in \
                     another extern block",
                ));
                continue;
            }
        };
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
        let ret = &analysis.ret;
        let ident = f.sig.ident.clone();
        // The declaration stays in place, renamed, linking to the same symbol;
        // the wrapper takes its name.
        let declared = format_ident!("__replay_extern_{}", ident);
        let idents = analysis.params.iter().map(|p| &p.ident);
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
        let real = quote!(move |#(#params),*| -> #ret {
            #(#given)*
            unsafe { #declared(#(#idents),*) }
        });
        let name = ident.to_string();
        let body = body(args, &name, &analysis, real);
        let mut sig = f.sig.clone();
        rename_params(&mut sig, &analysis);
        sig.safety = match sig.safety {
            Safety::Safe(_) => Safety::Default,
            _ => Safety::Unsafe(Default::default()),
        };
        // The wrapper takes the declaration's docs and the attributes that
        // concern its callers; `cfg` stays on both.
        let carried = f.attrs.iter().filter(|a| {
            [
                "doc",
                "cfg",
                "cfg_attr",
                "deprecated",
                "must_use",
                "allow",
                "expect",
            ]
            .iter()
            .any(|name| a.path().is_ident(name))
        });
        let vis = &f.vis;
        wrappers.push(quote! {
            #(#carried)*
            #[allow(non_snake_case)]
            #[inline]
            #[track_caller]
            #vis #sig {
                #body
            }
        });
        if !f.attrs.iter().any(|a| a.path().is_ident("link_name")) {
            let symbol = ident.to_string();
            f.attrs.push(syn::parse_quote!(#[link_name = #symbol]));
        }
        f.attrs.retain(|a| {
            !["doc", "deprecated", "must_use"]
                .iter()
                .any(|name| a.path().is_ident(name))
        });
        f.vis = syn::Visibility::Inherited;
        f.sig.ident = declared;
    }
    errors.finish()?;
    Ok(quote! {
        #[allow(non_snake_case)]
        #block
        #(#wrappers)*
    })
}
