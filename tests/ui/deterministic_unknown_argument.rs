// The only argument is `crate = path`.
use replay_runtime::deterministic;

#[deterministic(bogus)]
fn now() -> u64 {
    0
}

fn main() {}
