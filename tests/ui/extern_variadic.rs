// Variadic arguments have no types to record (the raw `fmt` pointer is
// rejected too: both errors are reported).
use libc::{c_char, c_int};
use replay_runtime::deterministic;

#[deterministic]
unsafe extern "C" {
    fn printf(fmt: *const c_char, ...) -> c_int;
}

fn main() {}
