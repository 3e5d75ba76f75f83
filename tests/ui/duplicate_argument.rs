// An argument is given once.
use replay_runtime::mapped;

fn close(_: &mut Fd) {}

#[mapped(drop = close, drop = close)]
struct Fd(i32);

fn main() {}
