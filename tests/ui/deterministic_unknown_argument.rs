// An unknown argument is an error that lists the accepted ones.
use replay_runtime::deterministic;

#[deterministic(bogus)]
fn now() -> u64 {
    0
}

fn main() {}
