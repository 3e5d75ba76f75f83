// Replay must produce the return value from the recording, so it must be owned.
use replay_runtime::deterministic;

#[deterministic]
fn greeting() -> &'static str {
    "hello"
}

fn main() {}
