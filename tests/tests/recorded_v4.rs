//! The tests of `recorded.rs`, replayed from recordings of format version 4
//! (compressed chunks) committed under `tests/recordings/recorded_v4/`,
//! beside the version 1 recordings `recorded.rs` replays: this build reads
//! both (issue 11).
//!
//! Re-record one with `REPLAY_MODE=record cargo test -p replay-tests --test recorded_v4 NAME`.

use replay_runtime::{Mode, current_mode};
use replay_tests::{Point, c_calls, greet, libc_calls, rt_now_nanos, rt_point_jitter, stats};

include!("shared/recorded_bodies.rs");
