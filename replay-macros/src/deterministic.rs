//! `#[deterministic]`: a wrapper that records or replays each call.
//!
//! The generated code is a `match` on the thread's mode: off calls the real
//! function; record and replay hand its arguments and results to the
//! runtime (`::replay_runtime::__private`), where the logic lives.

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
    name: TokenStream,
    analysis: &Analysis,
    real: TokenStream,
) -> TokenStream {
    let krate = &args.krate;
    let rt = quote!(#krate::__private);
    let signature = &analysis.display;
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
    let site = if analysis.is_method {
        quote! {
            static __REPLAY_SITE: #rt::Site = #rt::Site::method(#name, #signature, &[#(#names),*]);
            let __replay_site = || __REPLAY_SITE.owner(::core::any::type_name::<Self>);
        }
    } else {
        quote! {
            static __REPLAY_SITE: #rt::Site = #rt::Site::new(
                ::core::concat!(::core::module_path!(), "::", #name), #signature, &[#(#names),*]);
            let __replay_site = || &__REPLAY_SITE;
        }
    };
    let call_args = analysis.call_args();
    // `&self` goes first: its slot, if `Self` is a `#[mapped]` handle.
    let receiver = analysis.shared_receiver.then(
        || quote!(#rt::Arg::new(&__replay_self, (&&&&#rt::Probe::of(&__replay_self)).show())),
    );
    let self_binding = analysis.shared_receiver.then(|| {
        quote! {
            let __replay_self = {
                #[allow(unused_imports)]
                use #rt::handles::{ReceiverMapped as _, ReceiverOther as _};
                #rt::handles::Receiver::new(self, (&&#rt::handles::ReceiverProbe::of(self)).slot())
            };
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
            quote_spanned!(span=> #rt::Arg::new(#value, (&&&&#rt::Probe::of(#value)).show()))
        }))
        .collect();
    // In replay the real call never ran: its buffers' written lengths are moot.
    let outs = |replaying: bool| -> Vec<TokenStream> {
        analysis
            .outputs()
            .map(|p| {
                let ident = &p.ident;
                match &p.kind {
                    Kind::OutSlice => quote!(#rt::OutSlice(&mut *#ident)),
                    Kind::OutRaw(out) => {
                        let len = match &out.len {
                            Len::Param(len) => quote_spanned!(len.span()=> #rt::count(#len)),
                            Len::Literal(len) => quote!(#len),
                        };
                        let written = if replaying {
                            quote!(0)
                        } else if out.written_by_return {
                            quote!(#rt::written(&__replay_ret, #rt::byte_len(#ident, 1)))
                        } else {
                            quote!(__replay_capacity)
                        };
                        quote! {{
                            let __replay_capacity = #rt::byte_len(#ident, #len);
                            // SAFETY: the caller of this `unsafe fn` vouches for the
                            // buffer, as for the foreign function itself.
                            unsafe { #rt::OutRaw::new(#ident, __replay_capacity, #written) }
                        }}
                    }
                    _ => quote!(#rt::OutRef(&mut *#ident)),
                }
            })
            .collect()
    };
    let (record_outs, replay_outs) = (outs(false), outs(true));
    // In replay, a call runs for real (or through its stand-in) when asked.
    let live = match (&args.replay_with, &args.path) {
        (Some(_), _) => quote!(#rt::Live::Always),
        (None, Some(path)) => quote!(#rt::Live::IfPath(#rt::as_path(&#path))),
        (None, None) => quote!(#rt::Live::IfHandles),
    };
    let live_call = match &args.replay_with {
        Some(stand_in) => quote!(#stand_in(#(#call_args),*)),
        None => quote!(__replay_real(#(#call_args),*)),
    };
    let ret = &analysis.ret;
    // A secret result (out-parameters included) is not in the recording:
    // replay checks the call, then makes it for real (or through the
    // stand-in).
    let (recorded_ret, recorded_outs, replay_arm) = match &args.secret_return {
        None => (
            quote!(&__replay_ret),
            quote!(&(#(#record_outs,)*)),
            quote! {
                match #rt::replay_check(__replay_site, __replay_location, &(#(#inputs,)*), #live) {
                    #rt::Checked::Recorded => #rt::replay_finish::<#ret, _>(
                        __replay_site, __replay_location, &mut (#(#replay_outs,)*)),
                    #rt::Checked::Live(__replay_recorded) => {
                        let __replay_ret: #ret = {
                            let __replay_suspended = #rt::suspend();
                            #live_call
                        };
                        #rt::replay_bind(__replay_site, __replay_location, &__replay_recorded, &__replay_ret);
                        __replay_ret
                    }
                }
            },
        ),
        Some(_) => (
            quote!(&()),
            quote!(&()),
            quote! {
                let _ = #rt::replay_check(__replay_site, __replay_location, &(#(#inputs,)*), #rt::Live::Always);
                let __replay_suspended = #rt::suspend();
                #live_call
            },
        ),
    };
    let show = quote! {
        #[allow(unused_imports)]
        use #rt::{ShowActual as _, ShowBorrowed as _, ShowBytes as _, ShowOwned as _};
    };
    quote! {
        #site
        let __replay_real = #real;
        if let #rt::ThreadMode::Off = #rt::mode() {
            return __replay_real(#(#call_args),*);
        }
        let __replay_location = ::core::panic::Location::caller();
        // Out of line, so that the wrapper's off path stays small enough to inline.
        #rt::outlined(move || {
        #self_binding
        match #rt::mode() {
            #rt::ThreadMode::Off | #rt::ThreadMode::InCall => __replay_real(#(#call_args),*),
            #rt::ThreadMode::Record => {
                #show
                let __replay_guard = #rt::record_begin(__replay_site(), &(#(#inputs,)*));
                let __replay_ret: #ret = __replay_real(#(#call_args),*);
                __replay_guard.end(#recorded_ret, #recorded_outs);
                __replay_ret
            }
            #rt::ThreadMode::Replay => {
                #show
                let __replay_site = __replay_site();
                #replay_arm
            }
            #rt::ThreadMode::Diverged => #rt::after_divergence(__replay_site(), __replay_location),
        }})
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
    let body = body(args, quote!(#name), &analysis, real);
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
        let real = quote!(move |#(#params),*| -> #ret { unsafe { #declared(#(#idents),*) } });
        let name = ident.to_string();
        let body = body(args, quote!(#name), &analysis, real);
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
