use replay_runtime::deterministic;

fn fixed_time() -> u64 {
    0
}

struct Clock;

impl Clock {
    #[deterministic(replay_with = fixed_time)]
    fn now(&self) -> u64 {
        1
    }
}

fn main() {}
