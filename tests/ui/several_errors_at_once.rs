// Every error of an item is reported at once, across the functions of an
// extern block: async, impl Trait, a bare pointer, an unknown `len`, a
// borrowed return, a static.
use libc::{c_char, c_int, c_void, size_t};
use replay_runtime::deterministic;

#[deterministic]
async fn lookup(key: impl AsRef<str>) -> &'static str {
    let _ = key;
    ""
}

#[deterministic]
unsafe extern "C" {
    fn send(fd: c_int, buf: *const c_void, #[out(len = size)] reply: *mut c_void, n: size_t) -> *const c_char;
    static environ: *const *const c_char;
}

fn main() {}
