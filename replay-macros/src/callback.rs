//! `#[deterministic(callback)]` on an `extern "C" fn`: a Rust function
//! foreign code calls back into. The function keeps its name and C
//! signature; its body runs through `callback` (`call/callback.rs` in
//! the runtime), which records it nested in the foreign call that invoked
//! it, or checks it in replay. A nested `invoke` function calls it with
//! recorded arguments when replay replays that foreign call, and a static
//! registration lets replay find it by name.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{ItemFn, Type};

use crate::Errors;
use crate::attr::DeterministicArgs;
use crate::deterministic::{closure_params, rename_params};
use crate::signature::{self, Analysis, Kind};
use crate::wrapper::input;

pub(crate) fn expand(args: &DeterministicArgs, mut f: ItemFn) -> syn::Result<TokenStream> {
    let mut errors = Errors::default();
    let c_abi = f.sig.abi.as_ref().is_some_and(|abi| {
        abi.name
            .as_ref()
            .is_some_and(|n| n.value() == "C" || n.value() == "C-unwind")
    });
    if !c_abi {
        errors.push(syn::Error::new_spanned(
            f.sig.fn_token,
            "a callback is a function foreign code calls: declare it `extern \"C\" fn`",
        ));
    }
    if !f.sig.generics.params.is_empty() {
        errors.push(syn::Error::new_spanned(
            &f.sig.generics,
            "a callback cannot be generic: replay must find the one function a recording names",
        ));
    }
    if let Some(receiver) = f.sig.receiver() {
        errors.push(syn::Error::new_spanned(
            receiver,
            "a callback is a free function: C calls it with the arguments it declares",
        ));
    }
    for (what, given) in [
        ("replay_with", args.replay_with.is_some()),
        ("path", args.path.is_some()),
        (
            "secret",
            !args.secret.is_empty() || args.secret_return.is_some(),
        ),
    ] {
        if given {
            errors.push(syn::Error::new_spanned(
                &args.callback,
                format!("`callback` does not go with `{what}`"),
            ));
        }
    }
    errors.finish()?;
    let analysis = signature::analyse(&mut f.sig, true)?;
    let mut errors = Errors::default();
    if analysis.returns_c_str || analysis.returns_plain.is_some() {
        errors.push(syn::Error::new_spanned(
            &f.sig.output,
            "a callback returns a value C uses, which replay checks: a pointer means \
             nothing in another run; return a number, or keep the string where C can \
             fetch it with a recorded call",
        ));
    }
    for p in &analysis.params {
        let refused = match p.kind {
            Kind::Ref => "a callback takes what C passes: a value or a pointer, not `&T`",
            Kind::FnPtr => "a callback cannot take a function pointer: its value is not recorded",
            _ if p.kind.is_output() => {
                "what a callback writes through a pointer is not recorded; return the value \
                 instead, or make the foreign call it should make a `#[deterministic]` one"
            }
            _ => continue,
        };
        errors.push(syn::Error::new_spanned(&p.ty, refused));
    }
    errors.finish()?;
    Ok(generate(args, f, &analysis))
}

fn generate(args: &DeterministicArgs, mut f: ItemFn, analysis: &Analysis) -> TokenStream {
    let krate = &args.krate;
    let rt = quote!(__replay);
    let ident = f.sig.ident.clone();
    let name = ident.to_string();
    let signature = analysis.display(&[]);
    let ret = &analysis.ret;
    let params = closure_params(analysis);
    let idents: Vec<_> = analysis.params.iter().map(|p| &p.ident).collect();
    let names = analysis.params.iter().map(|p| {
        let (position, name) = (p.position, p.ident.to_string());
        quote!((#position, #name))
    });
    let inputs: Vec<_> = analysis
        .params
        .iter()
        .map(|p| input(&rt, analysis, p))
        .collect();
    // In `invoke`: each argument rebuilt from the recording, in order.
    let rebuilt: Vec<_> = analysis
        .params
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let var = quote::format_ident!("__replay_a{}", i);
            let span = p.ty.span();
            let (read, pass) = match (&p.kind, &p.ty) {
                (Kind::CStr, _) => (
                    quote!(#rt::CStrOwned::take(&mut __replay_bytes)?),
                    quote!(#var.as_ptr() as _),
                ),
                (Kind::InArray(_), Type::Ptr(ptr)) => {
                    let elem = &ptr.elem;
                    (
                        quote_spanned!(span=> #rt::ArrayOwned::<#elem>::take(&mut __replay_bytes)?),
                        quote!(#var.as_ptr() as _),
                    )
                }
                (Kind::InStrings(_), _) => (
                    quote!(#rt::StringsOwned::take(&mut __replay_bytes)?),
                    quote!(#var.as_ptr() as _),
                ),
                (_, ty) => (
                    quote_spanned!(span=> #rt::take::<#ty>(&mut __replay_bytes)?),
                    quote!(#var),
                ),
            };
            (quote!(let #var = #read;), pass)
        })
        .collect();
    let reads = rebuilt.iter().map(|(read, _)| read);
    let passes = rebuilt.iter().map(|(_, pass)| pass);
    let block = &f.block;
    rename_params(&mut f.sig, analysis);
    let ItemFn {
        attrs, vis, sig, ..
    } = &f;
    quote! {
        #(#attrs)*
        #vis #sig {
            #[allow(unused_mut)]
            let mut __replay_body = move |#(#params),*| -> #ret #block;
            use #krate::__private_3 as __replay;
            #[allow(unused_imports)]
            use __replay::probes::*;
            if #rt::callback_passthrough(&__REPLAY_CALLBACK) {
                return __replay_body(#(#idents),*);
            }
            /// Calls the callback with the arguments a recording holds.
            fn __replay_invoke(
                __replay_args: &[u8],
            ) -> ::core::result::Result<::std::vec::Vec<u8>, ::std::string::String> {
                #[allow(unused_mut, unused_variables)]
                let mut __replay_bytes = __replay_args;
                #(#reads)*
                #[allow(unused_unsafe)]
                ::core::result::Result::Ok(#rt::invoking(|| unsafe { #ident(#(#passes),*) }))
            }
            fn __replay_address() -> usize {
                #ident as usize
            }
            fn __replay_show(bytes: &[u8]) -> ::core::option::Option<::std::string::String> {
                #rt::show_return::<#ret>(bytes)
            }
            static __REPLAY_CALLBACK: #rt::Callback = #rt::Callback {
                site: #rt::Site::new(
                    ::core::concat!(::core::module_path!(), "::", #name),
                    #signature,
                    &[#(#names),*],
                ),
                invoke: __replay_invoke,
                show_ret: __replay_show,
                address: __replay_address,
            };
            #rt::inventory::submit!(#rt::Registered(&__REPLAY_CALLBACK));
            #rt::callback(
                &__REPLAY_CALLBACK,
                ::core::panic::Location::caller(),
                &(#(#inputs,)*),
                move || __replay_body(#(#idents),*),
            )
        }
    }
}
