use replay_runtime::deterministic;

#[deterministic]
unsafe extern "C" {
    fn fill(#[out(len = n, written = return)] buf: *mut u8, n: usize);
}

fn main() {}
