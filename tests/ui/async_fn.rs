// An `async fn` returns before its boundary calls happen.
use replay_runtime::deterministic;

#[deterministic]
async fn fetch() -> u32 {
    7
}

fn main() {}
