// A parameter is one output buffer, with one length.
use libc::{c_int, c_void, size_t, ssize_t};
use replay_runtime::deterministic;

#[deterministic]
unsafe extern "C" {
    fn read(fd: c_int, #[out(len = count)] #[out(len = 1)] buf: *mut c_void, count: size_t) -> ssize_t;
}

fn main() {}
