use replay_runtime::mapped;

#[mapped]
enum Handle {
    File(i32),
}

fn main() {}
