//! What both attributes do to a function of an extern block: the
//! declaration stays, renamed and private, linked to the same symbol; a
//! wrapper takes its name, docs and safety.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::spanned::Spanned;
use syn::{ForeignItem, ForeignItemFn, ItemForeignMod, Safety, Signature};

use crate::Errors;

/// The functions of `block`; anything else in it is an error saying
/// that only functions can be `what` (recorded, assumed deterministic).
pub(crate) fn functions<'a>(
    block: &'a mut ItemForeignMod,
    what: &str,
    errors: &mut Errors,
) -> Vec<&'a mut ForeignItemFn> {
    let mut functions = Vec::new();
    for item in &mut block.items {
        match item {
            ForeignItem::Fn(f) => functions.push(f),
            other => errors.push(syn::Error::new(
                other.span(),
                format!(
                    "only functions can be {what}; declare statics and types in another \
                     extern block"
                ),
            )),
        }
    }
    functions
}

/// The name the declaration of `ident` is renamed to.
pub(crate) fn declared_name(ident: &syn::Ident) -> syn::Ident {
    format_ident!("__replay_extern_{}", ident)
}

/// Renames the declaration `f` (see [`declared_name`]) and returns its
/// wrapper: `sig` (the declaration's, with the wrapper's parameter names)
/// around `body`, `unsafe` unless the declaration is `safe`.
pub(crate) fn wrap(f: &mut ForeignItemFn, mut sig: Signature, body: TokenStream) -> TokenStream {
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
    let wrapper = quote! {
        #(#carried)*
        #[allow(non_snake_case)]
        #[inline]
        #[track_caller]
        #vis #sig {
            #body
        }
    };
    if !f.attrs.iter().any(|a| a.path().is_ident("link_name")) {
        let symbol = f.sig.ident.to_string();
        f.attrs.push(syn::parse_quote!(#[link_name = #symbol]));
    }
    f.attrs.retain(|a| {
        !["doc", "deprecated", "must_use"]
            .iter()
            .any(|name| a.path().is_ident(name))
    });
    f.vis = syn::Visibility::Inherited;
    f.sig.ident = declared_name(&f.sig.ident);
    wrapper
}
