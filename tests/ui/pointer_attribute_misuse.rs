use std::ffi::c_char;

use replay_runtime::deterministic;

#[deterministic]
unsafe extern "C" {
    // An input array needs its length.
    fn sum(#[input] values: *const i32, n: usize) -> i64;
    // `null_terminated` ends arrays of C strings only.
    fn total(#[input(null_terminated)] values: *const i32) -> i64;
    // An array of C strings needs its length, or `null_terminated`.
    fn join(#[input] parts: *const *const c_char) -> i32;
    // In/out memory is written: `*mut`.
    fn bump(#[inout(len = 1)] value: *const u64);
    // `len = *n` reads through a pointer parameter, and `n` is a number.
    fn fill(#[out(len = *n)] buf: *mut u8, n: usize) -> i32;
    // `written = *n` likewise.
    fn copy(#[out(len = n, written = *n)] buf: *mut u8, n: usize) -> i32;
    // `points_into` names the pointer C writes into.
    fn prepare(sql: *const c_char, n: i32, #[out(len = 1, points_into = n)] tail: *mut *const c_char) -> i32;
    // Both ways at once.
    fn args(#[input(len = n, null_terminated)] argv: *const *const c_char, n: usize) -> i32;
}

fn main() {}
