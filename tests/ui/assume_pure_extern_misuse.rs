use std::ffi::c_char;

use replay_runtime::assume_deterministic;

#[assume_deterministic]
unsafe extern "C" {
    // A result is allowed only when the user asserts the function is pure.
    fn strlen(s: *const c_char) -> usize;
}

#[assume_deterministic(pure)]
unsafe extern "C" {
    // What C writes is not recorded, so it may not write.
    fn strcpy(dest: *mut c_char, src: *const c_char) -> *mut c_char;
    // C takes pointers, not references.
    fn atoi(s: &c_char) -> i32;
    static errno: i32;
}

fn main() {}
