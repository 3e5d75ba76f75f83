// The test harness calls a test with no type to give it.
#[replay_runtime::test]
fn round_trip<T: Default>() {
    let _ = T::default();
}

fn main() {}
