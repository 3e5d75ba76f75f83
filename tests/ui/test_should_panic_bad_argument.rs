// `#[should_panic]` takes `expected = "text"` or nothing.
#[replay_runtime::test]
#[should_panic(message = "boom")]
fn unknown_argument() {
    panic!("boom");
}

#[replay_runtime::test]
#[should_panic(expected = 404)]
fn expected_not_a_string() {
    panic!("404");
}

#[replay_runtime::test]
#[should_panic(expected)]
fn expected_without_text() {
    panic!("boom");
}

fn main() {}
