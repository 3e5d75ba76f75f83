// An async test, a test with parameters, and an unknown argument.
#[replay_runtime::test]
async fn async_test() {}

#[replay_runtime::test]
fn with_parameters(n: u32) {
    let _ = n;
}

#[replay_runtime::test(file = "x.replay")]
fn unknown_argument() {}

fn main() {}
