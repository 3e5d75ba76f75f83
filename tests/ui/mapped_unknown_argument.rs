use replay_runtime::mapped;

#[mapped(close = libc_close)]
struct Fd(i32);

fn main() {}
