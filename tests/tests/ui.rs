//! The compile errors of the attributes, each case in `ui/` against its
//! `.stderr`.

use std::io::Write;
use std::process::Command;

/// The compiler whose text the `.stderr` files hold, as `rustc --version`
/// names it. Pinned to the release, major.minor.patch: rustc's wording,
/// notes and layout change from one release to the next (a patch release
/// seldom, but it may), never between builds of one release, so any
/// distribution's build of it matches while a nightly or beta does not.
const PINNED: &str = "1.95.0";

/// Proves that each misuse of the attributes in `ui/` fails to compile with
/// exactly the diagnostics in its `.stderr`. On another compiler than
/// `PINNED` it says so and checks nothing, rather than fail on rustc's own
/// rewording; `TRYBUILD=overwrite` runs it on any compiler, to move the
/// files to it.
#[test]
fn ui() {
    let overwrite = std::env::var_os("TRYBUILD").is_some_and(|v| v == "overwrite");
    // Unreadable: let trybuild run and report what is wrong with rustc.
    if let Some(found) = rustc_release()
        && found != PINNED
        && !overwrite
    {
        // Not `eprintln!`: the test harness would swallow it, as the test passes.
        let _ = writeln!(
            std::io::stderr().lock(),
            "\n\
             warning: UI TESTS SKIPPED: tests/ui/*.stderr hold the diagnostics of rustc \
             {PINNED}, and this is rustc {found}.\n\
             To move them to rustc {found}, run\n\
             \x20   TRYBUILD=overwrite cargo test -p replay-tests --test ui\n\
             read the diff of every .stderr it rewrites, then set PINNED in \
             tests/tests/ui.rs to \"{found}\".\n"
        );
        return;
    }
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/*.rs");
}

/// The release of the rustc that cargo, and so trybuild, compiles with:
/// `$RUSTC` if set, else `rustc` on the path (which rustup points at the
/// toolchain this test was run with). `1.95.0` of `rustc 1.95.0 (59807616e
/// 2026-04-14)`; `1.96.0-nightly` of a nightly.
fn rustc_release() -> Option<String> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let output = Command::new(rustc).arg("--version").output().ok()?;
    let version = String::from_utf8(output.stdout).ok()?;
    version.split_whitespace().nth(1).map(str::to_owned)
}
