// A raw pointer could be written through.
use replay_runtime::assume_deterministic;

#[assume_deterministic]
fn log(message: *const u8) {
    let _ = message;
}

fn main() {}
