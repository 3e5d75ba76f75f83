// Every error of an `#[assume_deterministic]` function is reported at once.
use replay_runtime::assume_deterministic;

struct Logger;

impl Logger {
    #[assume_deterministic]
    fn log(&mut self, counter: &mut u64, raw: *mut u8) -> bool {
        let _ = (counter, raw);
        true
    }
}

fn main() {}
