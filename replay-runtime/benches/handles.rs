//! The object index map under load: registering, looking up and releasing
//! a handle while 1 000 or 1 000 000 others are live. Constant time means
//! the two sizes cost alike.
//!
//! ```text
//! cargo bench -p replay-runtime --features internals --bench handles
//! ```

use divan::{Bencher, black_box};
use replay_runtime::internals::HandleMap;

fn main() {
    divan::main();
}

const SIZES: [u64; 2] = [1_000, 1_000_000];

/// Raw values as descriptors would be: small, dense integers.
fn filled(live: u64) -> HandleMap {
    let mut map = HandleMap::new(false);
    for raw in 0..live {
        map.register(raw);
    }
    map
}

/// A handle returned by a recorded call, then dropped: takes the lowest
/// free slot, and frees it for the next generation.
#[divan::bench(args = SIZES)]
fn register_then_release(bencher: Bencher, live: u64) {
    let mut map = filled(live);
    let raw = live + 1;
    bencher.bench_local(|| {
        map.register(black_box(raw));
        map.release(black_box(raw))
    });
}

/// A handle passed back to a recorded call: its slot by raw value.
#[divan::bench(args = SIZES)]
fn lookup(bencher: Bencher, live: u64) {
    let map = filled(live);
    let mut raw = 0u64;
    bencher.bench_local(|| {
        // A stride through all live handles, so caches do not flatter it.
        raw = (raw + 7919) % live;
        map.lookup(black_box(raw))
    });
}

/// Freeing slots all over the vector and taking them back, lowest first.
#[divan::bench(args = SIZES)]
fn free_then_allocate(bencher: Bencher, live: u64) {
    let mut map = filled(live);
    let mut index = 0u64;
    bencher.bench_local(|| {
        index = (index + 7919) % live;
        map.free(black_box(index as u32));
        map.allocate()
    });
}
