use std::ffi::c_char;

use replay_runtime::deterministic;

#[deterministic]
unsafe extern "C" {
    // C reads a whole string through the pointer: recording `*s` alone
    // would let a replay with another string pass unchecked.
    fn atoi(s: &c_char) -> i32;
    // An array behind the reference, likewise.
    fn sum(values: &i32, n: usize) -> i64;
}

fn main() {}
