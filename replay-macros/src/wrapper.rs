//! The body of a `#[deterministic]` wrapper: the mode check that calls the
//! real function without a session, then, out of line, `Call::begin` with
//! the arguments and `Call::run` with the out-parameters and the real call.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use crate::attr::{DeterministicArgs, Len, PointerAttr, Written};
use crate::pointers::is_c_char_ptr;
use crate::signature::{Analysis, Kind, Param};

/// The wrapper's body: a site, the real call as a closure, and the `match`.
pub(crate) fn body(
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
    let names = receiver_name
        .into_iter()
        .chain(recorded().chain(analysis.inouts()).map(|p| {
            let (position, name) = (p.position, p.ident.to_string());
            quote!((#position, #name))
        }));
    let path_end = format!("::{name}");
    let site = if analysis.is_method {
        quote! {
            static __REPLAY_SITE: #rt::Site = #rt::Site::method(#name, #signature, &[#(#names),*]);
        }
    } else {
        // A foreign function's callbacks are recorded nested in its calls.
        let constructor = match analysis.foreign {
            true => quote!(foreign),
            false => quote!(new),
        };
        quote! {
            static __REPLAY_SITE: #rt::Site = #rt::Site::#constructor(
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
        .chain(recorded().map(|p| input(&rt, analysis, p)))
        .collect();
    // The value each `&mut` parameter holds before the call.
    let inouts: Vec<_> = analysis
        .inouts()
        .map(|p| {
            let ident = &p.ident;
            let span = p.ty.span();
            let rt = respan(rt.clone(), span);
            quote_spanned!(span=> (&&&&#rt::Probe(&*#ident)).arg())
        })
        .collect();
    // The out-parameters, built once; the real function writes through them.
    let mut outs = Vec::new();
    let mut written = Vec::new();
    let mut call_args = Vec::new();
    for p in &analysis.params {
        let ident = &p.ident;
        let at = syn::Index::from(outs.len());
        let out = match &p.kind {
            Kind::OutRef(_) | Kind::OutSlice(_) if args.secret_return.is_some() => {
                call_args.push(quote!(&mut *#ident));
                continue;
            }
            Kind::OutRef(_) => quote!(#rt::OutRef(&mut *#ident)),
            Kind::OutSlice(_) => quote!(#rt::OutSlice(&mut *#ident)),
            Kind::OutRaw(attr) | Kind::InOutRaw(attr) if args.secret_return.is_none() => {
                let len = len(&rt, attr);
                match &attr.written {
                    Some(Written::Return) => written.push(quote! {
                        __replay_outs.#at.wrote(#rt::written(&__replay_ret));
                    }),
                    Some(Written::Deref(count)) => written.push(quote! {
                        // SAFETY: as for the call itself, which just wrote it.
                        __replay_outs.#at.wrote(unsafe { #rt::deref_count(#count) });
                    }),
                    None => {}
                }
                let exact = attr.written.is_none();
                call_args.push(quote!(#ident));
                // Spanned to the parameter's type: an element type that is
                // neither plain data nor a handle is blamed there.
                let span = p.ty.span();
                let c_strings = matches!(&p.ty, syn::Type::Ptr(ptr) if is_c_char_ptr(&ptr.elem));
                let buffer = match &attr.points_into {
                    Some(base) => {
                        let extent = extent(&rt, analysis, base);
                        respan(
                            quote!(#rt::OutOffsets::new(
                                #ident, #base as *const u8, #extent, #len, #exact)),
                            span,
                        )
                    }
                    None if c_strings => quote!(#rt::OutCStrings::new(#ident, #len, #exact)),
                    None => {
                        let probe = respan(quote!((&#rt::OutProbe(#ident)).buffer), span);
                        quote!(#probe(#len, #exact))
                    }
                };
                outs.push(quote! {
                    // SAFETY: the caller of this `unsafe fn` vouches for the
                    // buffer, as for the foreign function itself.
                    unsafe { #buffer }
                });
                continue;
            }
            _ => {
                call_args.push(quote!(#ident));
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
    // A borrowed return crosses as `CStrRet` or `PlainRet`; the wrapper
    // returns the pointer.
    let unwrap = (analysis.returns_c_str || analysis.returns_plain.is_some()).then(|| quote!(.0));
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
        use #krate::__private_3 as __replay;
        #[allow(unused_imports)]
        use __replay::probes::*;
        if #rt::passthrough() {
            return __replay_real(#(#passed),*)#unwrap;
        }
        #site
        let __replay_at = ::core::panic::Location::caller();
        #rt::done(#rt::outlined(move || {
            let __replay_call = #rt::Call::begin(
                #site_ref, __replay_at, #live, &(#(#inputs,)*), &(#(#inouts,)*))?;
            #run
        }))#unwrap
    }
}

/// One recorded input, as an `Arg` for `Call::begin` (or a callback's
/// arguments).
pub(crate) fn input(rt: &TokenStream, analysis: &Analysis, p: &Param) -> TokenStream {
    let ident = &p.ident;
    // Every token spanned to the parameter's type, so that a type
    // that is not `Serialize` (or not plain data) is blamed there,
    // not on the attribute.
    let span = p.ty.span();
    let rt = respan(rt.clone(), span);
    let pointed = |value: TokenStream| respan(quote!(#rt::Arg::rendered(&unsafe { #value })), span);
    match &p.kind {
        Kind::Ref if analysis.foreign => quote_spanned!(span=> #rt::Arg::handle(#ident)),
        Kind::Ref => quote_spanned!(span=> (&&&&#rt::Probe(#ident)).arg()),
        Kind::CStr => pointed(quote!(#rt::CStrIn::new(#ident))),
        Kind::FnPtr => pointed(quote!(#rt::CallbackIn::new(#rt::fn_address(#ident)))),
        Kind::InArray(attr) | Kind::InOutRaw(attr) => {
            let len = len(&rt, attr);
            pointed(quote!(#rt::ArrayIn::new(#ident, #len)))
        }
        Kind::InStrings(attr) => {
            let len = match attr.null_terminated {
                true => quote!(::core::option::Option::None),
                false => {
                    let len = len(&rt, attr);
                    quote!(::core::option::Option::Some(#len))
                }
            };
            pointed(quote!(#rt::StringsIn::new(#ident, #len)))
        }
        _ => quote_spanned!(span=> (&&&&#rt::Probe(&#ident)).arg()),
    }
}

/// The bytes the `points_into` base `base` spans, read before the call: a
/// C string's (with its NUL) or an input array's.
fn extent(rt: &TokenStream, analysis: &Analysis, base: &syn::Ident) -> TokenStream {
    let param = analysis.params.iter().find(|p| p.ident == *base);
    match param.map(|p| &p.kind) {
        Some(Kind::CStr) => quote!(#rt::c_str_extent(#base)),
        Some(Kind::InArray(attr) | Kind::InOutRaw(attr)) => {
            let len = len(rt, attr);
            quote!(#rt::array_extent(#base, #len))
        }
        // `check_lengths` refused anything else.
        _ => quote!(0),
    }
}

/// A pointer attribute's element count, read before the call.
fn len(rt: &TokenStream, attr: &PointerAttr) -> TokenStream {
    match &attr.len {
        Some(Len::Param(len)) => quote_spanned!(len.span()=> #rt::count(#len)),
        // Always inside an `unsafe` block of the caller's.
        Some(Len::Deref(len)) => quote_spanned!(len.span()=> #rt::deref_count(#len)),
        Some(Len::Literal(len)) => quote!(#len),
        None => quote!(0),
    }
}

/// `tokens` with every span set to `span`.
pub(crate) fn respan(tokens: TokenStream, span: proc_macro2::Span) -> TokenStream {
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
