use std::ffi::c_char;

use replay_runtime::deterministic;

// C calls a function with the C ABI.
#[deterministic(callback)]
fn rust_abi(n: i32) -> i32 {
    n
}

// Replay must find the one function a recording names.
#[deterministic(callback)]
extern "C" fn generic<T>(n: i32) -> i32 {
    n
}

// What a callback writes through a pointer is not recorded.
#[deterministic(callback)]
extern "C" fn writes(#[out(len = 1)] out: *mut i32) -> i32 {
    0
}

// C passes pointers, not references.
#[deterministic(callback)]
extern "C" fn borrows(label: &c_char) -> i32 {
    0
}

// A pointer returned to C is an address replay cannot give back.
#[deterministic(callback)]
extern "C" fn names(n: i32) -> *const c_char {
    let _ = n;
    std::ptr::null()
}

// `callback` goes alone.
#[deterministic(callback, replay_with = other)]
extern "C" fn combined(n: i32) -> i32 {
    n
}

fn other(n: i32) -> i32 {
    n
}

fn main() {}
