//! `#[mapped]`: a struct wrapping one raw handle crosses recorded calls as
//! its slot in the object index map, never as its raw value.
//!
//! The expansion implements `replay_runtime::Mapped`, and `Serialize`,
//! `Deserialize`, `Debug` and `Drop` through the runtime's handle functions.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Fields, Item, ItemStruct, Member, Path, Token};

use crate::{Errors, with_errors};

/// Arguments of `#[mapped(...)]`.
struct Args {
    krate: Path,
    /// Releases a real handle's resources when it is dropped.
    drop: Option<Path>,
}

impl Args {
    fn parse(tokens: TokenStream) -> syn::Result<Args> {
        let mut args = Args {
            krate: syn::parse_quote!(::replay_runtime),
            drop: None,
        };
        let parser = syn::meta::parser(|meta| {
            if meta.path.is_ident("crate") {
                args.krate = meta.value()?.parse()?;
                Ok(())
            } else if meta.path.is_ident("drop") {
                args.drop = Some(meta.value()?.parse()?);
                Ok(())
            } else {
                Err(meta.error(
                    "unknown argument; accepted: `drop = path::to::fn(&mut Self)` and \
                     `crate = path::to::replay_runtime`",
                ))
            }
        });
        syn::parse::Parser::parse2(parser, tokens)?;
        Ok(args)
    }
}

pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let result = Args::parse(args).and_then(|args| match syn::parse2::<Item>(item.clone())? {
        Item::Struct(s) => expand_struct(&args, s),
        Item::Enum(e) => Err(syn::Error::new_spanned(
            e.enum_token,
            "`#[mapped]` applies to a struct wrapping one raw handle; an enum is not a handle",
        )),
        other => Err(syn::Error::new(
            other.span(),
            "`#[mapped]` applies to a struct wrapping one raw handle",
        )),
    });
    result.unwrap_or_else(|e| with_errors(item, e))
}

/// Derives that `#[mapped]` forbids, and why.
fn forbidden_derive(name: &str) -> Option<&'static str> {
    Some(match name {
        "Copy" | "Clone" => {
            "a mapped handle cannot be copied or cloned: a copy would alias its slot, \
             and dropping either copy would free it"
        }
        "Debug" => {
            "`#[mapped]` implements `Debug`, showing the handle's slot rather than its raw value"
        }
        "Serialize" | "Deserialize" => {
            "`#[mapped]` implements `Serialize` and `Deserialize`: a handle is recorded as its slot"
        }
        _ => return None,
    })
}

fn expand_struct(args: &Args, item: ItemStruct) -> syn::Result<TokenStream> {
    let mut errors = Errors::default();
    if !item.generics.params.is_empty() {
        errors.push(syn::Error::new_spanned(
            &item.generics,
            "a mapped handle cannot be generic: name one raw handle type",
        ));
    }
    for attr in item.attrs.iter().filter(|a| a.path().is_ident("derive")) {
        let derived = attr.parse_args_with(Punctuated::<Path, Token![,]>::parse_terminated)?;
        for path in derived {
            let name = path
                .segments
                .last()
                .map(|s| s.ident.to_string())
                .unwrap_or_default();
            if let Some(why) = forbidden_derive(&name) {
                errors.push(syn::Error::new_spanned(path, why));
            }
        }
    }
    let field = match &item.fields {
        Fields::Named(f) if f.named.len() == 1 => f.named.first(),
        Fields::Unnamed(f) if f.unnamed.len() == 1 => f.unnamed.first(),
        _ => None,
    };
    let Some(field) = field else {
        errors.push(syn::Error::new_spanned(
            &item.fields,
            "a mapped handle wraps exactly one field: the raw handle (a descriptor, a pointer)",
        ));
        return errors.finish().map(|()| TokenStream::new());
    };
    errors.finish()?;

    let krate = &args.krate;
    let rt = quote!(#krate::__private);
    let name = &item.ident;
    let name_str = name.to_string();
    let raw_ty = &field.ty;
    let member = match &field.ident {
        Some(ident) => Member::Named(ident.clone()),
        None => Member::Unnamed(0.into()),
    };
    let release = args.drop.as_ref().map(|path| quote!(#path(self);));
    let raw_assoc = quote_spanned!(raw_ty.span()=> type Raw = #raw_ty;);
    Ok(quote! {
        #item

        const _: () = {
            #[automatically_derived]
            impl #krate::Mapped for #name {
                #raw_assoc
                const NAME: &'static str = #name_str;
                #[inline]
                fn raw(&self) -> #raw_ty {
                    self.#member
                }
                #[inline]
                fn from_raw(raw: #raw_ty) -> Self {
                    #name { #member: raw }
                }
            }

            #[automatically_derived]
            impl #rt::serde::Serialize for #name {
                fn serialize<S: #rt::serde::Serializer>(&self, s: S) -> ::core::result::Result<S::Ok, S::Error> {
                    #rt::handles::serialize(self, s)
                }
            }

            #[automatically_derived]
            impl<'de> #rt::serde::Deserialize<'de> for #name {
                fn deserialize<D: #rt::serde::Deserializer<'de>>(d: D) -> ::core::result::Result<Self, D::Error> {
                    #rt::handles::deserialize(d)
                }
            }

            #[automatically_derived]
            impl ::core::fmt::Debug for #name {
                fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                    #rt::handles::debug(self, f)
                }
            }

            #[automatically_derived]
            impl ::core::ops::Drop for #name {
                fn drop(&mut self) {
                    if #rt::handles::dropped(self) {
                        #release
                    }
                }
            }
        };
    })
}
