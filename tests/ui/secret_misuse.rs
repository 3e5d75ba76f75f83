use replay_runtime::deterministic;

// `secret` names no parameter, and `secret(return)` on a unit function.
#[deterministic(secret(token))]
fn log_in(user: &str) -> u32 {
    user.len() as u32
}

#[deterministic(secret(return))]
fn forget(user: &str) {
    let _ = user;
}

fn main() {}
