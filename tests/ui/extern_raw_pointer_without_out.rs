// A raw pointer parameter of an extern function needs an attribute that says
// what C does with it (here `#[input(len = count)]`):
// its address means nothing in another run.
use libc::{c_int, c_void, size_t, ssize_t};
use replay_runtime::deterministic;

#[deterministic]
unsafe extern "C" {
    fn write(fd: c_int, buf: *const c_void, count: size_t) -> ssize_t;
}

fn main() {}
