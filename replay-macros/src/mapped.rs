//! `#[mapped]`: a struct wrapping one raw handle crosses recorded calls as
//! its slot in the object index map, never as its raw value.
//!
//! The expansion implements `replay_runtime::Mapped`, and `Serialize`,
//! `Deserialize`, `Debug` and `Drop` through the runtime's handle functions.
//! On error it still implements the first four, with bodies that never run,
//! so that the one mistake is all the user is told about.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Attribute, Field, Fields, Item, ItemStruct, Member, Path, Token};

use crate::attr::MappedArgs;
use crate::{Errors, with_errors};

pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let args = MappedArgs::parse(args, &mut errors);
    let parsed = syn::parse2::<Item>(item.clone());
    let result = parsed.clone().and_then(|parsed| match parsed {
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
    match (errors.and(result), parsed) {
        (Ok(tokens), _) => tokens,
        (Err(e), Ok(parsed)) => fallback(&args.krate, parsed, e),
        (Err(e), Err(_)) => with_errors(item, e),
    }
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

/// The derives of an attribute, if it is a `#[derive(...)]` rustc can read.
fn derives(attr: &Attribute) -> Option<Punctuated<Path, Token![,]>> {
    if !attr.path().is_ident("derive") {
        return None;
    }
    attr.parse_args_with(Punctuated::parse_terminated).ok()
}

fn last_name(path: &Path) -> String {
    path.segments
        .last()
        .map(|s| s.ident.to_string())
        .unwrap_or_default()
}

/// The field of a struct that has exactly one.
fn one_field(fields: &Fields) -> Option<&Field> {
    match fields {
        Fields::Named(f) if f.named.len() == 1 => f.named.first(),
        Fields::Unnamed(f) if f.unnamed.len() == 1 => f.unnamed.first(),
        _ => None,
    }
}

fn expand_struct(args: &MappedArgs, item: ItemStruct) -> syn::Result<TokenStream> {
    let mut errors = Errors::default();
    if !item.generics.params.is_empty() {
        errors.push(syn::Error::new_spanned(
            &item.generics,
            "a mapped handle cannot be generic: name one raw handle type",
        ));
    }
    for path in item.attrs.iter().filter_map(derives).flatten() {
        if let Some(why) = forbidden_derive(&last_name(&path)) {
            errors.push(syn::Error::new_spanned(path, why));
        }
    }
    let Some(field) = one_field(&item.fields) else {
        errors.push(syn::Error::new_spanned(
            &item.fields,
            "a mapped handle wraps exactly one field: the raw handle (a descriptor, a pointer)",
        ));
        return errors.finish().map(|()| TokenStream::new());
    };
    errors.finish()?;

    let krate = &args.krate;
    let rt = quote!(#krate::__private_3);
    let name = &item.ident;
    let name_str = name.to_string();
    let raw_ty = &field.ty;
    let member = match &field.ident {
        Some(ident) => Member::Named(ident.clone()),
        None => Member::Unnamed(0.into()),
    };
    let release = args.drop.as_ref().map(|path| quote!(#path(self);));
    let raw_assoc = quote_spanned!(raw_ty.span()=> type Raw = #raw_ty;);
    // Passed by value to C, a handle must be exactly its raw value.
    let transparent = (!item.attrs.iter().any(|a| a.path().is_ident("repr")))
        .then(|| quote!(#[repr(transparent)]));
    Ok(quote! {
        #transparent
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

/// The expansion on error: the item, the errors, and the impls `#[mapped]`
/// would write, with bodies that never run, so that uses of the type raise
/// no errors of their own (thiserror does the same). The derives these
/// impls stand for are left out of the item, lest they conflict.
fn fallback(krate: &Path, mut item: Item, error: syn::Error) -> TokenStream {
    let (attrs, ident, generics, raw) = match &mut item {
        Item::Struct(s) => {
            let raw = one_field(&s.fields).map(|f| f.ty.clone());
            (&mut s.attrs, s.ident.clone(), s.generics.clone(), raw)
        }
        Item::Enum(e) => (&mut e.attrs, e.ident.clone(), e.generics.clone(), None),
        Item::Union(u) => (&mut u.attrs, u.ident.clone(), u.generics.clone(), None),
        _ => return with_errors(quote!(#item), error),
    };
    attrs.retain_mut(|attr| {
        let Some(derived) = derives(attr) else {
            return true;
        };
        let kept: Vec<_> = derived
            .iter()
            .filter(|p| !["Debug", "Serialize", "Deserialize"].contains(&&*last_name(p)))
            .collect();
        if let syn::Meta::List(list) = &mut attr.meta {
            list.tokens = quote!(#(#kept),*);
        }
        !kept.is_empty()
    });
    // The wrapped type when there is one field, so that code using it
    // type-checks; otherwise any raw handle type.
    let raw = raw.unwrap_or_else(|| syn::parse_quote!(usize));
    let rt = quote!(#krate::__private_3);
    let name = ident.to_string();
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let mut de_generics = generics.clone();
    de_generics.params.insert(0, syn::parse_quote!('de));
    let (de_impl_generics, _, _) = de_generics.split_for_impl();
    let errors = error.to_compile_error();
    quote! {
        #item
        #errors

        const _: () = {
            #[automatically_derived]
            impl #impl_generics #krate::Mapped for #ident #ty_generics #where_clause {
                type Raw = #raw;
                const NAME: &'static str = #name;
                fn raw(&self) -> #raw {
                    ::core::unreachable!()
                }
                fn from_raw(_: #raw) -> Self {
                    ::core::unreachable!()
                }
            }

            #[automatically_derived]
            impl #impl_generics #rt::serde::Serialize for #ident #ty_generics #where_clause {
                fn serialize<S: #rt::serde::Serializer>(&self, _: S) -> ::core::result::Result<S::Ok, S::Error> {
                    ::core::unreachable!()
                }
            }

            #[automatically_derived]
            impl #de_impl_generics #rt::serde::Deserialize<'de> for #ident #ty_generics #where_clause {
                fn deserialize<D: #rt::serde::Deserializer<'de>>(_: D) -> ::core::result::Result<Self, D::Error> {
                    ::core::unreachable!()
                }
            }

            #[automatically_derived]
            impl #impl_generics ::core::fmt::Debug for #ident #ty_generics #where_clause {
                fn fmt(&self, _: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                    ::core::unreachable!()
                }
            }
        };
    }
}
