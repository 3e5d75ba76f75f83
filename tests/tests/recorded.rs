//! Tests recorded once against the real C library and replayed from the
//! recordings committed under `tests/recordings/recorded/`: on a clean
//! machine and in CI (where `CI` is set), these never call into C.
//!
//! Re-record one with `REPLAY_MODE=record cargo test -p replay-tests --test recorded NAME`.

use replay_runtime::{Mode, current_mode};
use replay_tests::{Point, c_calls, greet, libc_calls, rt_now_nanos, rt_point_jitter, stats};

include!("shared/recorded_bodies.rs");

#[replay_runtime::test(path = "tests/recordings/custom/jitter.replay")]
fn a_test_can_name_its_recording() {
    let p = rt_point_jitter(Point { x: 0, y: 0 }, 5);
    assert!((0..5).contains(&p.x) && (0..5).contains(&p.y), "{p:?}");
}
