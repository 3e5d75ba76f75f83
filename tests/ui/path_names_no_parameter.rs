use replay_runtime::deterministic;

#[deterministic(path = file)]
fn read_config(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn main() {}
