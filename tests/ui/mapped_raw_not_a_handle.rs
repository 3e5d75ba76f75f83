use replay_runtime::mapped;

#[mapped]
struct Name(String);

fn main() {}
