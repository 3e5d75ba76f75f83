// A `#[should_panic]` test's outcome is its panic: it returns `()`, as a
// plain `#[test]` does.
#[replay_runtime::test]
#[should_panic(expected = "no such file")]
fn open_missing_file() -> Result<(), std::io::Error> {
    std::fs::read("/nonexistent")?;
    Ok(())
}

fn main() {}
