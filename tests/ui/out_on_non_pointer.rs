// `#[out]` applies to raw pointers only.
use libc::c_int;
use replay_runtime::deterministic;

#[deterministic]
unsafe extern "C" {
    fn abs(#[out(len = 1)] x: c_int) -> c_int;
}

fn main() {}
