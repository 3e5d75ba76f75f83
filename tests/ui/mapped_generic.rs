use replay_runtime::mapped;

#[mapped]
struct Handle<T>(*mut T);

fn main() {}
