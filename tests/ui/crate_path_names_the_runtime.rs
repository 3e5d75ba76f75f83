// Each attribute reaches the runtime through `crate = path`: a path that
// leads nowhere is an error in each expansion, at the path. (A
// `#[replay_runtime::test]` is compiled only under `--test`, which trybuild
// does not pass; the macro crate's unit tests check all four.)
use replay_runtime::{assume_deterministic, deterministic, mapped};

#[deterministic(crate = nowhere)]
fn now() -> u64 {
    0
}

#[mapped(crate = nowhere)]
struct Fd(i32);

#[assume_deterministic(crate = nowhere)]
fn log(message: &str) {
    eprintln!("{message}");
}

fn main() {}
