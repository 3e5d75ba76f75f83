// `replay_with` names the stand-in: `replay_with = path::to::stand_in`.
use replay_runtime::deterministic;

#[deterministic(replay_with)]
fn now() -> u64 {
    0
}

fn main() {}
