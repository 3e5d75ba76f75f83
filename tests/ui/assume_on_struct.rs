// `#[assume_deterministic]` applies to functions.
use replay_runtime::assume_deterministic;

#[assume_deterministic]
struct Logger {
    lines: u64,
}

fn main() {}
