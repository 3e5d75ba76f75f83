// One mistake in a `#[mapped]` struct is one error: the type still
// implements what `#[mapped]` would have (with bodies that never run), so
// its uses in `#[deterministic]` functions, and its `Debug`, raise none.
use replay_runtime::{deterministic, mapped};

#[mapped]
struct Connection {
    fd: i32,
    port: u16,
}

#[deterministic]
fn connect(port: u16) -> Connection {
    Connection { fd: 3, port }
}

#[deterministic]
fn send(connection: &Connection, bytes: &[u8]) -> usize {
    let _ = connection;
    bytes.len()
}

#[deterministic]
fn close(connection: Connection) {
    let _ = connection;
}

fn main() {
    let connection = connect(80);
    send(&connection, b"hello");
    println!("{connection:?}");
    close(connection);
}
