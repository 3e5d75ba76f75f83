//! Classifying raw pointer parameters of extern functions, and the `&T`
//! of a handle: what C reads or writes through them, as `#[input(..)]`,
//! `#[out(..)]` and `#[inout(..)]` say, or as the C type says alone
//! (`*const c_char` is a C string).

use quote::ToTokens;
use syn::{PointerMutability, ReturnType, Type};

use crate::Errors;
use crate::attr::{Direction, Len, PointerAttr, Written};
use crate::signature::{IMPL_TRAIT, Kind, Param};

/// Whether `ty` is `c_char` (by any path: `c_char`, `std::ffi::c_char`,
/// `libc::c_char`, `std::os::raw::c_char`).
pub(crate) fn is_c_char(ty: &Type) -> bool {
    match ty {
        Type::Path(p) => {
            p.qself.is_none() && p.path.segments.last().is_some_and(|s| s.ident == "c_char")
        }
        Type::Group(g) => is_c_char(&g.elem),
        Type::Paren(p) => is_c_char(&p.elem),
        _ => false,
    }
}

/// Whether `ty` is a pointer to `c_char`, either way.
pub(crate) fn is_c_char_ptr(ty: &Type) -> bool {
    matches!(ty, Type::Ptr(p) if is_c_char(&p.elem))
}

const C_PATTERNS: &str = "help: say what C does with it: `#[input(len = count)]` \
    (the function reads `count` elements), `#[out(len = count)]` (it writes them; add \
    `written = return` when the return value counts those written), `#[inout(len = \
    count)]` (both), or `#[input(null_terminated)]` (an array of C strings ending with \
    null); a handle C writes (`T**`) is `#[out(len = 1)] p: *mut Handle` with `Handle` \
    `#[mapped]`";

/// A pointer parameter without an attribute: a `*const c_char` is a C
/// string; anything else must say what it is. `&T` passes a handle.
pub(crate) fn classify(ident: &syn::Ident, ty: &Type, foreign: bool, errors: &mut Errors) -> Kind {
    match ty {
        _ if is_fn_pointer(ty) => Kind::FnPtr,
        Type::ImplTrait(_) => {
            errors.push(syn::Error::new_spanned(ty, IMPL_TRAIT));
            Kind::Value
        }
        Type::Ptr(ptr)
            if foreign
                && matches!(ptr.mutability, syn::PointerMutability::Const(_))
                && is_c_char(&ptr.elem) =>
        {
            Kind::CStr
        }
        Type::Ptr(ptr) if foreign => {
            let void = matches!(&*ptr.elem, Type::Path(p)
                if p.path.segments.last().is_some_and(|s| s.ident == "c_void"));
            let user_data = match void {
                true => {
                    "\nhelp: a `void *` that C hands back to a callback (user data, a \
                     context) is a `replay_runtime::ContextPtr`, from `Context::ptr`"
                }
                false => "",
            };
            errors.push(syn::Error::new_spanned(
                ptr,
                format!(
                    "raw pointer parameter `{ident}` cannot be recorded as an address: \
                     it means nothing in another run, and its length is unknown\n\
                     {C_PATTERNS}{user_data}"
                ),
            ));
            Kind::Value
        }
        Type::Ptr(ptr) => {
            errors.push(syn::Error::new_spanned(
                ptr,
                format!(
                    "raw pointer parameter `{ident}` cannot be recorded: an address means \
                     nothing in another run\n\
                     help: take a safe type (`&str`, `&[T]`, `&mut [T]`), or declare the C \
                     function in a `#[deterministic] unsafe extern \"C\"` block, where \
                     `#[input(..)]`, `#[out(..)]` and `#[inout(..)]` say what a pointer holds"
                ),
            ));
            Kind::Value
        }
        Type::Reference(r) if r.mutability.is_some() => match &*r.elem {
            Type::Slice(_) => Kind::OutSlice(true),
            _ => Kind::OutRef(true),
        },
        Type::Reference(r) if foreign && !is_handle_like(&r.elem) => {
            errors.push(syn::Error::new_spanned(
                r,
                format!(
                    "reference parameter `{ident}` of an extern function: `&T` passes C a \
                     `#[mapped]` handle, and `{}` is not one\n\
                     help: a C string is `*const c_char`; an array is \
                     `#[input(len = count)] {ident}: *const T`; a number is passed by value",
                    r.elem.to_token_stream()
                ),
            ));
            Kind::Ref
        }
        Type::Reference(_) => Kind::Ref,
        _ => Kind::Value,
    }
}

/// Whether `ty` is a function pointer, or an `Option` of one.
pub(crate) fn is_fn_pointer(ty: &Type) -> bool {
    match ty {
        Type::FnPtr(_) => true,
        Type::Paren(p) => is_fn_pointer(&p.elem),
        Type::Group(g) => is_fn_pointer(&g.elem),
        Type::Path(p) => p.path.segments.last().is_some_and(|s| {
            s.ident == "Option"
                && matches!(&s.arguments, syn::PathArguments::AngleBracketed(a)
                    if a.args.len() == 1
                        && matches!(a.args.first(), Some(syn::GenericArgument::Type(t)) if is_fn_pointer(t)))
        }),
        _ => false,
    }
}

/// Whether `ty` could be a `#[mapped]` handle: a named type that is not
/// a number, `c_char`, `str` or a slice. The compiler checks the rest
/// (`Mapped` is not implemented).
fn is_handle_like(ty: &Type) -> bool {
    const NOT: [&str; 21] = [
        "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize",
        "f32", "f64", "bool", "char", "str", "CStr", "String", "CString", "Vec",
    ];
    match ty {
        Type::Path(p) => {
            let last = p.path.segments.last();
            !is_c_char(ty) && !last.is_some_and(|s| NOT.iter().any(|n| s.ident == n))
        }
        _ => false,
    }
}

/// A pointer parameter with `#[input(..)]`, `#[out(..)]` or `#[inout(..)]`.
pub(crate) fn classify_marked(
    ident: &syn::Ident,
    ty: &Type,
    attr: PointerAttr,
    foreign: bool,
    errors: &mut Errors,
) -> Kind {
    let name = attr.direction.name();
    let bare = attr.len.is_none() && attr.written.is_none() && attr.points_into.is_none();
    let Type::Ptr(ptr) = ty else {
        let message = match ty {
            // `#[out]` alone on `&mut`: the call only writes it.
            Type::Reference(r) if r.mutability.is_some() && attr.direction == Direction::Out => {
                if bare {
                    return match &*r.elem {
                        Type::Slice(_) => Kind::OutSlice(false),
                        _ => Kind::OutRef(false),
                    };
                }
                "`#[out]` on a `&mut` parameter takes no arguments: it says the call only \
                 writes it, so its value before the call is not recorded"
                    .to_owned()
            }
            Type::Reference(r) if r.mutability.is_some() => format!(
                "`#[{name}(..)]` does not apply to `&mut`: a `&mut` parameter is recorded \
                 before and after the call without it, or only after with `#[out]`"
            ),
            _ => format!("`#[{name}(..)]` applies to raw pointer parameters of extern functions"),
        };
        errors.push(syn::Error::new_spanned(&attr.attr, message));
        return Kind::Value;
    };
    if attr.len.is_none() && attr.direction != Direction::Input {
        errors.push(attr.needs_len());
        return Kind::Value;
    }
    if !foreign {
        errors.push(syn::Error::new_spanned(
            &attr.attr,
            format!(
                "`#[{name}(..)]` marks raw pointers of extern functions; a Rust function \
                 takes `&[T]`, `&str` or `&mut [T]` instead"
            ),
        ));
    }
    let is_const = matches!(ptr.mutability, PointerMutability::Const(_));
    match attr.direction {
        Direction::Out | Direction::InOut if is_const => {
            errors.push(syn::Error::new_spanned(
                ptr,
                format!("`#[{name}]` marks memory the function writes: the pointer must be `*mut`"),
            ));
            Kind::Value
        }
        Direction::Out => Kind::OutRaw(Box::new(attr)),
        Direction::InOut => Kind::InOutRaw(Box::new(attr)),
        Direction::Input if is_c_char_ptr(&ptr.elem) => {
            if attr.len.is_none() && !attr.null_terminated {
                errors.push(syn::Error::new_spanned(
                    &attr.attr,
                    format!(
                        "an array of C strings needs its length: `#[input(len = count)]`, \
                         or `#[input(null_terminated)]` when a null pointer ends it \
                         (`{ident}`)"
                    ),
                ));
            }
            Kind::InStrings(Box::new(attr))
        }
        Direction::Input if attr.null_terminated => {
            errors.push(syn::Error::new_spanned(
                &attr.attr,
                "`null_terminated` applies to arrays of C strings (`*const *const c_char`); \
                 give the length: `#[input(len = count)]`",
            ));
            Kind::Value
        }
        Direction::Input if attr.len.is_none() && is_c_char(&ptr.elem) => Kind::CStr,
        Direction::Input if attr.len.is_none() => {
            errors.push(syn::Error::new_spanned(
                &attr.attr,
                "an input array needs its length: `#[input(len = count)]`, where `count` is \
                 the parameter holding the number of elements (a bare `#[input]` marks a C \
                 string, `*mut c_char`)",
            ));
            Kind::Value
        }
        Direction::Input => Kind::InArray(Box::new(attr)),
    }
}

/// Checks what `len = ..` and `written = ..` name: `len = count` an
/// integer parameter, `len = *count` and `written = *count` a pointer
/// parameter, `written = return` a function that returns something.
pub(crate) fn check_lengths(params: &[Param], output: &ReturnType, errors: &mut Errors) {
    let is_value = |name: &syn::Ident| {
        params
            .iter()
            .any(|p| p.ident == *name && matches!(p.kind, Kind::Value))
    };
    let is_pointer = |name: &syn::Ident| {
        params
            .iter()
            .any(|p| p.ident == *name && matches!(p.ty, Type::Ptr(_)))
    };
    // What a `points_into` base may be: memory whose extent is known.
    let spans = |name: &syn::Ident| {
        params.iter().any(|p| {
            p.ident == *name && matches!(p.kind, Kind::CStr | Kind::InArray(_) | Kind::InOutRaw(_))
        })
    };
    for attr in params.iter().filter_map(|p| p.kind.pointer_attr()) {
        if let Some(base) = &attr.points_into
            && !spans(base)
        {
            errors.push(syn::Error::new(
                base.span(),
                format!(
                    "`points_into = {base}` must name a C string (`*const c_char`) or an \
                     array (`#[input(len = ..)]`, `#[inout(len = ..)]`) parameter of this \
                     function: the pointers C writes are recorded as offsets into it"
                ),
            ));
        }
        match &attr.len {
            Some(Len::Param(len)) if !is_value(len) => errors.push(syn::Error::new(
                len.span(),
                format!("`len = {len}` must name an integer parameter of this function"),
            )),
            Some(Len::Deref(len)) if !is_pointer(len) => errors.push(syn::Error::new(
                len.span(),
                format!("`len = *{len}` must name a pointer parameter of this function"),
            )),
            _ => {}
        }
        match &attr.written {
            Some(Written::Return) if matches!(output, ReturnType::Default) => {
                errors.push(syn::Error::new_spanned(
                    &attr.attr,
                    "`written = return` needs the function to return the number of \
                     elements written, but it returns nothing",
                ))
            }
            Some(Written::Deref(count)) if !is_pointer(count) => errors.push(syn::Error::new(
                count.span(),
                format!("`written = *{count}` must name a pointer parameter of this function"),
            )),
            _ => {}
        }
    }
}
