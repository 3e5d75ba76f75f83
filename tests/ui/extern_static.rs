// Only functions can be recorded.
use libc::c_int;
use replay_runtime::deterministic;

#[deterministic]
unsafe extern "C" {
    fn abs(x: c_int) -> c_int;
    static errno: c_int;
}

fn main() {}
