/// Proves that each misuse of `#[deterministic]` and `#[assume_deterministic]` in `ui/` fails to compile with exactly the diagnostics in its `.stderr`.
#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/*.rs");
}
