// `secret(...)` takes the names of parameters, and `return`: not a path,
// not a string.
use replay_runtime::deterministic;

#[deterministic(secret(credentials::password))]
fn log_in(user: &str, password: &str) -> u32 {
    (user.len() + password.len()) as u32
}

#[deterministic(secret("password"))]
fn log_out(user: &str, password: &str) -> u32 {
    (user.len() + password.len()) as u32
}

fn main() {}
