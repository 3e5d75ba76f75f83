use replay_runtime::mapped;

// A copy would alias the handle's slot.
#[mapped]
#[derive(Clone, Copy, Debug)]
struct Fd(i32);

fn main() {}
