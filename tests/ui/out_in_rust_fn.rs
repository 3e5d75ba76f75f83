// `#[out]` is for extern functions; a Rust function takes `&mut [T]`.
use replay_runtime::deterministic;

#[deterministic]
fn fill(#[out(len = count)] buf: *mut u8, count: usize) {
    let _ = (buf, count);
}

fn main() {}
