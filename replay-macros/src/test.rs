//! `#[replay_runtime::test]`: a `#[test]` run in a session whose recording
//! is a file beside the tests.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{ItemFn, ReturnType};

use crate::attr::{ShouldPanic, TestArgs};
use crate::{Errors, with_errors};

pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let args = TestArgs::parse(args, &mut errors);
    match errors.and(expand_fn(&args, item.clone())) {
        Ok(tokens) => tokens,
        // Without its `#[should_panic]`, which rustc would report again.
        Err(e) => match syn::parse2::<ItemFn>(item.clone()) {
            Ok(mut f) => {
                f.attrs.retain(|a| !a.path().is_ident("should_panic"));
                with_errors(quote!(#f), e)
            }
            Err(_) => with_errors(item, e),
        },
    }
}

fn expand_fn(args: &TestArgs, item: TokenStream) -> syn::Result<TokenStream> {
    let mut f: ItemFn = syn::parse2(item).map_err(|e| {
        syn::Error::new(
            e.span(),
            format!("`#[replay_runtime::test]` applies to test functions: {e}"),
        )
    })?;
    let mut errors = Errors::default();
    if let Some(asyncness) = &f.sig.asyncness {
        errors.push(syn::Error::new_spanned(
            asyncness,
            "`#[replay_runtime::test]` cannot run an `async fn`: a session follows one thread; \
             block on the future inside a plain test",
        ));
    }
    if !f.sig.inputs.is_empty() {
        errors.push(syn::Error::new_spanned(
            &f.sig.inputs,
            "a test takes no parameters",
        ));
    }
    if !f.sig.generics.params.is_empty() {
        errors.push(syn::Error::new_spanned(
            &f.sig.generics,
            "a test cannot be generic: the test harness has no type to give it",
        ));
    }
    // `#[test]` is this attribute's to add; `#[should_panic]` it handles
    // itself, so that a divergence never passes for the expected panic.
    f.attrs.retain(|a| !a.path().is_ident("test"));
    let should_panic = ShouldPanic::take(&mut f.attrs).unwrap_or_else(|e| {
        errors.push(e);
        None
    });
    if let (Some(_), ReturnType::Type(_, ty)) = (&should_panic, &f.sig.output) {
        errors.push(syn::Error::new_spanned(
            ty,
            "a `#[should_panic]` test must return `()`, as a plain `#[test]` does: \
             its panic is its outcome",
        ));
    }
    errors.finish()?;
    let name = f.sig.ident.to_string();
    let path = match &args.path {
        Some(path) => quote!(::core::option::Option::Some(#path)),
        None => quote!(::core::option::Option::None),
    };
    let ret = match &f.sig.output {
        ReturnType::Default => quote!(()),
        ReturnType::Type(_, ty) => quote!(#ty),
    };
    let rt = {
        let krate = &args.krate;
        quote!(#krate::__private_3)
    };
    let session = quote! {
        #rt::test_session(
            ::core::env!("CARGO_MANIFEST_DIR"),
            ::core::module_path!(),
            ::core::option_env!("CARGO_BIN_NAME"),
            #name,
            #path,
        )
    };
    let run = match should_panic.map(|s| s.expected) {
        None => quote!(#rt::run_test(#session, __replay_body)),
        Some(expected) => {
            let expected = match expected {
                Some(text) => quote!(::core::option::Option::Some(#text)),
                None => quote!(::core::option::Option::None),
            };
            quote!(#rt::run_panicking_test(#session, #expected, __replay_body))
        }
    };
    let ItemFn {
        attrs,
        vis,
        sig,
        block,
        ..
    } = &f;
    let span = sig.ident.span();
    let test_attr = quote::quote_spanned!(span=> #[::core::prelude::v1::test]);
    // The body as a function of its own: `return`, `?` and `impl Trait`
    // returns work as in the test itself.
    Ok(quote! {
        #test_attr
        #(#attrs)*
        #vis #sig {
            fn __replay_body() -> #ret #block
            #run
        }
    })
}
