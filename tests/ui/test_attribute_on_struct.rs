#[replay_runtime::test]
struct NotATest;

fn main() {}
