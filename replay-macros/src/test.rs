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
    // `#[test]` is this attribute's to add; `#[should_panic]` it handles
    // itself, so that a divergence never passes for the expected panic.
    f.attrs.retain(|a| !a.path().is_ident("test"));
    let should_panic = match f
        .attrs
        .iter()
        .position(|a| a.path().is_ident("should_panic"))
    {
        Some(at) => Some(expected_panic(&f.attrs.remove(at))?),
        None => None,
    };
    if should_panic.is_some() && !matches!(f.sig.output, ReturnType::Default) {
        return Err(syn::Error::new_spanned(
            &f.sig.output,
            "a `#[should_panic]` test returns nothing",
        ));
    }
    let name = f.sig.ident.to_string();
    let path = match &path {
        Some(path) => quote!(::core::option::Option::Some(#path)),
        None => quote!(::core::option::Option::None),
    };
    let ret = match &f.sig.output {
        ReturnType::Default => quote!(()),
        ReturnType::Type(_, ty) => quote!(#ty),
    };
    let session = quote! {
        ::replay_runtime::__private::test_session(
            ::core::env!("CARGO_MANIFEST_DIR"),
            ::core::module_path!(),
            ::core::option_env!("CARGO_BIN_NAME"),
            #name,
            #path,
        )
    };
    let run = match &should_panic {
        None => quote!(::replay_runtime::__private::run_test(#session, __replay_body)),
        Some(expected) => {
            let expected = match expected {
                Some(text) => quote!(::core::option::Option::Some(#text)),
                None => quote!(::core::option::Option::None),
            };
            quote!(::replay_runtime::__private::run_panicking_test(#session, #expected, __replay_body))
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

/// The `expected` text of `#[should_panic]` or `#[should_panic(expected = "..")]`.
fn expected_panic(attr: &syn::Attribute) -> syn::Result<Option<LitStr>> {
    let mut expected = None;
    if let syn::Meta::List(_) = &attr.meta {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("expected") {
                expected = Some(meta.value()?.parse()?);
                Ok(())
            } else {
                Err(meta.error("expected `expected = \"text\"`"))
            }
        })?;
    }
    Ok(expected)
}
