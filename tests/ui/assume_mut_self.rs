// What an `#[assume_deterministic]` method writes is not recorded.
use replay_runtime::assume_deterministic;

struct Logger {
    lines: u64,
}

impl Logger {
    #[assume_deterministic]
    fn log(&mut self, message: &str) {
        self.lines += 1;
        eprintln!("{message}");
    }
}

fn main() {}
