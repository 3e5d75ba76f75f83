use replay_runtime::mapped;

#[mapped]
struct Connection {
    fd: i32,
    port: u16,
}

fn main() {}
