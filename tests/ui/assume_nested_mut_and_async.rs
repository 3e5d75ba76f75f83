use replay_runtime::assume_deterministic;

// `&mut` nested in a type, a typed `self`, and `async` are all refused.
#[assume_deterministic]
async fn log(counter: Option<&mut u64>) {
    let _ = counter;
}

struct Logger;

impl Logger {
    #[assume_deterministic]
    fn log(self: &mut Self) {}
}

fn main() {}
