// `crate` needs a path: `crate = path::to::replay_runtime`.
use replay_runtime::deterministic;

#[deterministic(crate)]
fn now() -> u64 {
    0
}

fn main() {}
