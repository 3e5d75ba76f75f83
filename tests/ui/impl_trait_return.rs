// A recorded return value needs a concrete type.
use replay_runtime::deterministic;

#[deterministic]
fn numbers() -> impl Iterator<Item = u32> {
    0..3
}

fn main() {}
