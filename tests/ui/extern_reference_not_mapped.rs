use replay_runtime::deterministic;

// Not `#[mapped]`: C would get its address, not a handle.
pub struct Statement(*mut u8);

#[deterministic]
unsafe extern "C" {
    fn sqlite3_step(stmt: &Statement) -> i32;
}

fn main() {}
