//! The commands on files whose size or shape made them quadratic: tens of
//! thousands of threads, a huge name named by every call, types that cost
//! thousands of steps per byte. No time is asserted (benchmarks are not
//! tests); each of these took from tens of seconds to minutes before its
//! fix, and the outputs checked here are what a linear reading gives.

mod common;

use common::replay_ok;
use replay_tests::recording_files::{END, call, define, recording_of, varint};
use replay_tests::{assert_contains, scratch_dir, write_file};

/// A vector whose every byte is an element of 29 nested one-element
/// arrays of a tuple of a thousand units: before, `dump` took some 40 000
/// steps per byte (100 KB, most of a minute in a debug build). Past a
/// budget of steps per byte the value is shown undecoded; a vector of a
/// sensible type of the same length still decodes.
#[test]
fn dump_shows_a_value_too_costly_to_decode_undecoded() {
    const LEN: u64 = 100_000;
    let depth = 29;
    let head = format!("fn(Vec < {}(", "[".repeat(depth));
    let tail = format!("u8){} >)", "; 1]".repeat(depth));
    let units = (4096 - head.len() - tail.len()) / 4;
    let costly = format!("{head}{}{tail}", "(), ".repeat(units));
    assert!(
        costly.len() <= 4096,
        "a signature short enough to be parsed"
    );
    let mut args = Vec::new();
    varint(&mut args, LEN);
    args.resize(args.len() + LEN as usize, 0);
    let payload = [
        define(0, "m::costly", &costly),
        call(0, &args, &[]),
        define(1, "m::sensible", "fn(Vec < ((), u8) >)"),
        call(1, &args, &[]),
        vec![END],
    ]
    .concat();
    let dir = scratch_dir("scale-costly-type");
    let path = write_file(&dir, "a.replay", recording_of(&payload));

    let out = replay_ok("dump", &path);
    // 100 000 is the varint a0 8d 06.
    assert_contains!(out, "#1 m::costly([a0 8d 06 00 00 00");
    assert_contains!(out, "#2 m::sensible([((), 0), ((), 0), ");
    assert_contains!(out, "… 99968 more]) -> ()");
}
