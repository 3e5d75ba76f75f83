// `path` names the parameter holding the file's path: `path = parameter`.
use replay_runtime::deterministic;

#[deterministic(path)]
fn read_config(file: &str) -> String {
    std::fs::read_to_string(file).unwrap_or_default()
}

fn main() {}
