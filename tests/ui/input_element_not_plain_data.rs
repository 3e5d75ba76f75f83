use replay_runtime::deterministic;

#[repr(C)]
pub struct Stream {
    next_in: *const u8,
    avail_in: u32,
}

#[deterministic]
unsafe extern "C" {
    // A struct holding a pointer, recorded byte for byte, would be checked
    // by its addresses: every replay would differ.
    fn inflate_all(#[input(len = n)] streams: *const Stream, n: usize) -> i32;
}

fn main() {}
