//! Builds the small real C library the tests call into.

fn main() {
    println!("cargo::rerun-if-changed=csrc/replaytest.c");
    cc::Build::new()
        .file("csrc/replaytest.c")
        .warnings(true)
        .compile("replaytest");
}
