use replay_runtime::deterministic;

struct Opaque;

// A parameter type that is not `Serialize` is a type error at the type,
// naming it and suggesting the derive.
#[deterministic]
fn inspect(value: &Opaque) -> u32 {
    let _ = value;
    0
}

fn main() {}
