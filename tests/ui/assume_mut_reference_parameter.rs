// What an `#[assume_deterministic]` function writes is not recorded.
use replay_runtime::assume_deterministic;

#[assume_deterministic]
fn log(counter: &mut u64, message: &str) {
    *counter += 1;
    eprintln!("{message}");
}

fn main() {}
