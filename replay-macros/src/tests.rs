//! Properties of the expansions that no compile error shows: what the
//! generated code names.

use proc_macro2::{TokenStream, TokenTree};
use quote::quote;

/// The paths in `tokens`, as `a::b::c` strings, nested groups included.
fn paths(tokens: TokenStream) -> Vec<String> {
    let mut paths = Vec::new();
    collect(tokens, &mut paths);
    paths
}

fn collect(tokens: TokenStream, paths: &mut Vec<String>) {
    let mut current = String::new();
    for tree in tokens {
        match tree {
            TokenTree::Punct(p) if p.as_char() == ':' => current.push(':'),
            TokenTree::Ident(ident) => {
                // Two names in a row are two paths.
                if !current.is_empty() && !current.ends_with(':') {
                    paths.push(std::mem::take(&mut current));
                }
                current.push_str(&ident.to_string());
            }
            other => {
                paths.extend((!current.is_empty()).then(|| std::mem::take(&mut current)));
                if let TokenTree::Group(group) = other {
                    collect(group.stream(), paths);
                }
            }
        }
    }
    paths.extend((!current.is_empty()).then_some(current));
}

type Expand = fn(TokenStream, TokenStream) -> TokenStream;

/// Every expansion, of each attribute, on success and on error.
fn expansions(args: TokenStream) -> Vec<(&'static str, TokenStream)> {
    let cases: [(&str, Expand, TokenStream); 8] = [
        (
            "deterministic fn",
            crate::deterministic::expand,
            quote! {
                fn f(x: &u8, out: &mut u8, fd: Fd) -> u64 { 0 }
            },
        ),
        (
            "deterministic method",
            crate::deterministic::expand,
            quote! {
                fn f(&self, x: u8) -> Self { 0 }
            },
        ),
        (
            "deterministic extern block",
            crate::deterministic::expand,
            quote! {
                unsafe extern "C" {
                    fn read(fd: i32, #[out(len = n, written = return)] buf: *mut u8, n: usize) -> isize;
                }
            },
        ),
        ("mapped", crate::mapped::expand, quote! { struct Fd(i32); }),
        (
            "mapped, on error",
            crate::mapped::expand,
            quote! { struct Fd(i32, u16); },
        ),
        (
            "assume_deterministic",
            crate::assume::expand,
            quote! { fn log(fd: &Fd, line: u32) {} },
        ),
        ("test", crate::test::expand, quote! { fn t() {} }),
        (
            "should_panic test",
            crate::test::expand,
            quote! { #[should_panic] fn t() {} },
        ),
    ];
    cases
        .into_iter()
        .map(|(what, expand, item)| (what, expand(args.clone(), item)))
        .collect()
}

#[test]
fn crate_path_is_the_only_way_to_the_runtime() {
    for (what, tokens) in expansions(quote!(crate = my::rt)) {
        let paths = paths(tokens);
        assert!(
            paths.iter().any(|p| p.starts_with("my::rt::")),
            "{what}: names nothing through `crate = my::rt`: {paths:?}"
        );
        let elsewhere: Vec<_> = paths
            .iter()
            .filter(|p| p.contains("replay_runtime"))
            .collect();
        assert!(
            elsewhere.is_empty(),
            "{what}: names the runtime by another path than `crate = my::rt`: {elsewhere:?}"
        );
    }
}

#[test]
fn runtime_is_replay_runtime_by_default() {
    for (what, tokens) in expansions(TokenStream::new()) {
        let paths = paths(tokens);
        assert!(
            paths.iter().any(|p| p.contains("::replay_runtime::")),
            "{what}: does not name `::replay_runtime`: {paths:?}"
        );
    }
}

#[test]
fn should_panic_text_is_expected_in_either_form() {
    for attr in [
        quote!(#[should_panic = "boom"]),
        quote!(#[should_panic(expected = "boom")]),
    ] {
        let expansion = crate::test::expand(TokenStream::new(), quote!(#attr fn t() {}));
        let text = expansion.to_string();
        assert!(
            text.contains("run_panicking_test") && text.contains("Some (\"boom\")"),
            "{attr}: {text}"
        );
        assert!(
            !text.contains("should_panic"),
            "{attr}: left for rustc: {text}"
        );
    }
}

/// The expansion of a small function stays small: the logic lives in the
/// runtime. Set `REPLAY_SHOW_EXPANSION` to print it (docs/design.md shows it).
#[test]
fn a_small_function_expands_to_a_small_wrapper() {
    let expanded = crate::deterministic::expand(
        TokenStream::new(),
        quote!(
            fn add(a: u64, b: &str) -> u64 {
                a + b.len() as u64
            }
        ),
    );
    if std::env::var_os("REPLAY_SHOW_EXPANSION").is_some() {
        println!("{expanded}");
    }
    let text = expanded.to_string();
    assert!(!text.contains("compile_error"), "{text}");
    // Each argument is borrowed once, for `Call::begin`: a type that is not
    // `Serialize` is reported once, where it is written.
    assert_eq!(text.matches("Probe (").count(), 2, "{text}");
    assert_eq!(text.matches("Call :: begin").count(), 1, "{text}");
    let tokens = count(expanded);
    assert!(tokens < 400, "{tokens} tokens: {text}");
}

fn count(tokens: TokenStream) -> usize {
    tokens
        .into_iter()
        .map(|tree| match tree {
            TokenTree::Group(group) => 2 + count(group.stream()),
            _ => 1,
        })
        .sum()
}
