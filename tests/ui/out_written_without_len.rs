// `#[out(...)]` with arguments but no `len` does not say how large the buffer is.
use libc::{c_int, c_void, size_t, ssize_t};
use replay_runtime::deterministic;

#[deterministic]
unsafe extern "C" {
    fn read(fd: c_int, #[out(written = return)] buf: *mut c_void, count: size_t) -> ssize_t;
}

fn main() {}
