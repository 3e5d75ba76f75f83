// A returned address means nothing in another run.
use libc::c_char;
use replay_runtime::deterministic;

#[deterministic]
unsafe extern "C" {
    fn getenv(name: &std::ffi::CStr) -> *mut c_char;
}

fn main() {}
