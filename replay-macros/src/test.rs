//! `#[replay_runtime::test]`: a `#[test]` run in a session whose recording
//! is a file beside the tests.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{ItemFn, LitStr, ReturnType};

use crate::{Errors, with_errors};

pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    match expand_fn(args, item.clone()) {
        Ok(tokens) => tokens,
        Err(e) => with_errors(item, e),
    }
}

fn expand_fn(args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let mut path: Option<LitStr> = None;
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("path") {
            path = Some(meta.value()?.parse()?);
            Ok(())
        } else {
            Err(meta.error(
                "unknown argument; the accepted argument is `path = \"tests/recordings/name.replay\"` \
                 (relative to the crate)",
            ))
        }
    });
    syn::parse::Parser::parse2(parser, args)?;
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
            "a test cannot be generic",
        ));
    }
    errors.finish()?;
    // `#[test]` is this attribute's to add; other attributes stay.
    f.attrs.retain(|a| !a.path().is_ident("test"));
    let name = f.sig.ident.to_string();
    let path = match &path {
        Some(path) => quote!(::core::option::Option::Some(#path)),
        None => quote!(::core::option::Option::None),
    };
    let ret = match &f.sig.output {
        ReturnType::Default => quote!(()),
        ReturnType::Type(_, ty) => quote!(#ty),
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
    Ok(quote! {
        #test_attr
        #(#attrs)*
        #vis #sig {
            ::replay_runtime::__private::run_test(
                ::replay_runtime::__private::test_session(
                    ::core::env!("CARGO_MANIFEST_DIR"),
                    ::core::module_path!(),
                    #name,
                    #path,
                ),
                move || -> #ret #block,
            )
        }
    })
}
