use replay_runtime::{deterministic, mapped};

#[mapped]
pub struct Db(*mut u8);

#[repr(C)]
pub struct Stream {
    next_in: *const u8,
    avail_in: u32,
}

#[repr(C)]
pub struct Pair {
    a: i32,
    b: i32,
}

#[deterministic]
unsafe extern "C" {
    // A struct holding a pointer, copied byte for byte, would come back stale.
    fn fill_stream(#[out(len = 1)] stream: *mut Stream) -> i32;
    // A handle C writes (`sqlite3 **`) is recorded as a handle, not as bytes.
    fn open_db(#[out(len = 1)] db: *mut Db) -> i32;
    // A struct of plain fields is refused until its author says it is plain.
    fn fill_pair(#[out(len = 1)] pair: *mut Pair) -> i32;
    // Booleans: C may write any byte.
    fn fill_flags(#[out(len = n)] flags: *mut bool, n: usize) -> i32;
}

fn main() {}
