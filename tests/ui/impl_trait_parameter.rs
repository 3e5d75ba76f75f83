// A recorded value needs a concrete type.
use replay_runtime::deterministic;

#[deterministic]
fn show(value: impl std::fmt::Display) -> String {
    value.to_string()
}

fn main() {}
