// The runtime implements its traits for tuples of up to 12 outputs.
use replay_runtime::deterministic;

#[deterministic]
fn zero(
    a: &mut u8, b: &mut u8, c: &mut u8, d: &mut u8, e: &mut u8, f: &mut u8, g: &mut u8,
    h: &mut u8, i: &mut u8, j: &mut u8, k: &mut u8, l: &mut u8, m: &mut u8,
) {
    for x in [a, b, c, d, e, f, g, h, i, j, k, l, m] {
        *x = 0;
    }
}

fn main() {}
