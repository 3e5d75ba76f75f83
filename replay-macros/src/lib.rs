//! The attributes of `replay-runtime`. Use them through that crate, which
//! re-exports them: `use replay_runtime::deterministic;`.
//!
//! Each attribute parses its input and hands it to one `expand` function:
//! `#[deterministic]` in `deterministic.rs` (the wrapper's body in
//! `wrapper.rs`), `#[assume_deterministic]` in `assume.rs`, `#[mapped]` in
//! `mapped.rs`, `#[replay_runtime::test]` in `test.rs`. Arguments (theirs,
//! and those of `#[out]` and `#[should_panic]`) are parsed in `attr/`
//! (`reader.rs` reads them); parameters are classified in `signature.rs`.
//!
//! Every attribute takes `crate = path::to::replay_runtime`, for crates that
//! re-export the runtime: the generated code reaches the runtime through
//! that path alone.

mod assume;
mod attr;
mod callback;
mod deterministic;
mod foreign;
mod mapped;
mod pointers;
mod signature;
mod test;
#[cfg(test)]
mod tests;
mod wrapper;

use proc_macro::TokenStream;

/// Records and replays the calls through a function, a method, or every
/// function of an `unsafe extern "C"` block. See `replay_runtime`.
#[proc_macro_attribute]
pub fn deterministic(args: TokenStream, item: TokenStream) -> TokenStream {
    deterministic::expand(args.into(), item.into()).into()
}

/// Makes a struct wrapping one raw handle cross recorded calls as its slot
/// in the object index map. See `replay_runtime`.
#[proc_macro_attribute]
pub fn mapped(args: TokenStream, item: TokenStream) -> TokenStream {
    mapped::expand(args.into(), item.into()).into()
}

/// A test whose boundary calls are recorded to a file beside the tests and
/// replayed by later runs. See `replay_runtime`.
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    test::expand(args.into(), item.into()).into()
}

/// Marks a function that runs for real in every mode and is never recorded.
/// See `replay_runtime`.
#[proc_macro_attribute]
pub fn assume_deterministic(args: TokenStream, item: TokenStream) -> TokenStream {
    assume::expand(args.into(), item.into()).into()
}

/// Emits the original item with the errors, so the IDE keeps working.
fn with_errors(item: proc_macro2::TokenStream, error: syn::Error) -> proc_macro2::TokenStream {
    let errors = error.to_compile_error();
    quote::quote!(#item #errors)
}

/// Collects errors so the user sees all of them at once.
#[derive(Default)]
struct Errors(Option<syn::Error>);

impl Errors {
    fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    fn finish(self) -> syn::Result<()> {
        self.0.map_or(Ok(()), Err)
    }

    /// `result`, unless errors were collected before it: then all of them.
    fn and<T>(self, result: syn::Result<T>) -> syn::Result<T> {
        match (self.0, result) {
            (None, result) => result,
            (Some(mut all), Err(error)) => {
                all.combine(error);
                Err(all)
            }
            (Some(all), Ok(_)) => Err(all),
        }
    }
}
