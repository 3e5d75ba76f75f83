// A handle is recorded as its slot: `#[mapped]` writes `Serialize` and
// `Deserialize` itself.
use replay_runtime::mapped;

#[mapped]
#[derive(serde::Serialize, serde::Deserialize)]
struct Fd(i32);

fn main() {}
