// Recording happens at run time.
use replay_runtime::deterministic;

#[deterministic]
const fn answer() -> u32 {
    42
}

fn main() {}
