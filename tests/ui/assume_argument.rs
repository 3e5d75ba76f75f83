// `#[assume_deterministic]` takes no argument but `pure` and `crate = path`.
use replay_runtime::assume_deterministic;

#[assume_deterministic(x)]
fn log(message: &str) {
    eprintln!("{message}");
}

fn main() {}
