// A wrong argument and a wrong function are reported together.
use replay_runtime::deterministic;

#[deterministic(secret(return), bogus)]
async fn fetch() {}

fn main() {}
