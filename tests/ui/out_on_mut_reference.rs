use replay_runtime::deterministic;

// `#[out]` alone says the call only writes a `&mut`; a length is for raw
// pointers.
#[deterministic]
fn fill(#[out(len = 4)] buf: &mut [u8]) {
    buf.fill(0);
}

// A `&mut` is in/out without saying so.
#[deterministic]
fn bump(#[inout(len = 1)] counter: &mut u64) {
    *counter += 1;
}

fn main() {}
