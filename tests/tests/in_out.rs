//! `&mut` parameters are in/out: the value before the call is recorded and
//! checked, the value after written back. `#[out]` marks one the call only
//! writes. Recordings of format version 1 (no values before the call)
//! still replay: `recorded.rs` replays committed ones.

use replay_runtime::{Session, deterministic};
use replay_tests::{assert_contains, expect_panic, record_then_replay, scratch_dir};

/// Sorts in place, and says how many elements moved: the result depends
/// on the input, which only the `&mut` holds.
#[deterministic]
fn sort_in_place(values: &mut [i32]) -> usize {
    let before = values.to_vec();
    values.sort_unstable();
    before
        .iter()
        .zip(values.iter())
        .filter(|(a, b)| a != b)
        .count()
}

/// Fills `buf` whatever it held: its value before is not recorded.
#[deterministic]
fn fill(#[out] buf: &mut [u8], seed: u8) {
    for (i, b) in buf.iter_mut().enumerate() {
        *b = seed.wrapping_add(i as u8);
    }
}

/// Adds to a counter: in/out through `&mut T`.
#[deterministic]
fn bump(counter: &mut u64, by: u64) {
    *counter += by;
}

#[test]
fn in_out_values_replay() {
    let dir = scratch_dir("in-out-replay");
    let recording = dir.join("in-out.replay");
    let seen = record_then_replay(&recording, |_| {
        let mut values = vec![3, 1, 2];
        let moved = sort_in_place(&mut values);
        let mut buf = [0u8; 4];
        fill(&mut buf, 7);
        let mut counter = 40;
        bump(&mut counter, 2);
        (values, moved, buf, counter)
    });
    assert_eq!(seen, (vec![1, 2, 3], 3, [7, 8, 9, 10], 42));
}

#[test]
fn other_input_through_a_mut_slice_diverges_naming_it() {
    let dir = scratch_dir("in-out-slice");
    let recording = dir.join("slice.replay");
    let session = Session::record(&recording).expect("record");
    sort_in_place(&mut [3, 1, 2]);
    session.finish().expect("finish");

    let session = Session::replay(&recording).expect("replay");
    let message = expect_panic("other values to sort", || sort_in_place(&mut [9, 8, 7]));
    assert_contains!(
        message,
        "argument 1 (`values`) of `in_out::sort_in_place` differs"
    );
    assert_contains!(message, "values = [3, 1, 2]");
    assert_contains!(message, "values = [9, 8, 7]");
    drop(session);
}

#[test]
fn other_input_through_a_mut_reference_diverges_naming_it() {
    let dir = scratch_dir("in-out-ref");
    let recording = dir.join("ref.replay");
    let session = Session::record(&recording).expect("record");
    bump(&mut 40, 2);
    session.finish().expect("finish");

    let session = Session::replay(&recording).expect("replay");
    let message = expect_panic("another counter", || bump(&mut 41, 2));
    assert_contains!(message, "(`counter`) of `in_out::bump` differs");
    assert_contains!(message, "counter = 40");
    assert_contains!(message, "counter = 41");
    drop(session);
}

#[test]
fn an_out_only_buffer_may_hold_anything_before_the_call() {
    let dir = scratch_dir("in-out-out-only");
    let recording = dir.join("out-only.replay");
    let session = Session::record(&recording).expect("record");
    let mut buf = [0u8; 3];
    fill(&mut buf, 1);
    session.finish().expect("finish");

    let session = Session::replay(&recording).expect("replay");
    let mut buf = [0xaa; 3];
    fill(&mut buf, 1);
    session.finish().expect("replay consumed everything");
    assert_eq!(buf, [1, 2, 3]);
}
