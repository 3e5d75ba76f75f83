// A `&mut` is recorded as an output only as a parameter of its own, not
// inside another type.
use replay_runtime::deterministic;

#[deterministic]
fn reset(counter: Option<&mut u8>) {
    if let Some(counter) = counter {
        *counter = 0;
    }
}

fn main() {}
