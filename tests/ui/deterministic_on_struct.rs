// The attribute applies to functions, methods and extern blocks.
use replay_runtime::deterministic;

#[deterministic]
struct Clock {
    nanos: u64,
}

fn main() {}
