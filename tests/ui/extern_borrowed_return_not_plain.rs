use replay_runtime::deterministic;

#[repr(C)]
pub struct Entry {
    name: *const u8,
    size: u64,
}

#[deterministic]
unsafe extern "C" {
    // A borrowed return is recorded as its bytes: a struct holding a
    // pointer would come back from another run as a stale address.
    fn next_entry() -> *const Entry;
}

fn main() {}
