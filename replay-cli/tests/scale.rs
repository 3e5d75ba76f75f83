//! The commands on files whose size or shape made them quadratic: tens of
//! thousands of threads, a huge name named by every call, types that cost
//! thousands of steps per byte. No time is asserted (benchmarks are not
//! tests); each of these took from tens of seconds to minutes before its
//! fix, and the outputs checked here are what a linear reading gives.

mod common;

use common::{replay, replay_ok};
use replay_tests::recording_files::{END, call, chunk, define, header, recording_of, varint};
use replay_tests::{assert_contains, path_str, scratch_dir, stderr, stdout, write_file};

/// A recording of `threads` threads (streams), each calling `m::f(1)`
/// once; the call returns 2, except on the last thread, where it returns
/// `last_result`.
fn many_threads(threads: u32, last_result: u8) -> Vec<u8> {
    let mut file = header();
    for stream in 0..threads {
        let result = if stream + 1 == threads {
            last_result
        } else {
            2
        };
        let events = [
            define(0, "m::f", "fn(u32) -> u32"),
            call(0, &[1], &[result]),
            vec![END],
        ]
        .concat();
        file.extend(chunk(stream, &events));
    }
    file
}

/// 40 000 threads: before, `diff` looked each thread up in a list of all
/// of them (30 000 took 6 s, 100 000 took 141 s); it reads each once now.
#[test]
fn diff_compares_recordings_of_forty_thousand_threads() {
    const THREADS: u32 = 40_000;
    let dir = scratch_dir("scale-threads");
    let a = write_file(&dir, "a.replay", many_threads(THREADS, 2));
    let b = write_file(&dir, "b.replay", many_threads(THREADS, 3));
    let fewer = write_file(&dir, "fewer.replay", many_threads(THREADS - 1, 2));
    let (a, b, fewer) = (path_str(&a), path_str(&b), path_str(&fewer));

    let same = replay(&["diff", a, a]);
    assert_eq!(same.status.code(), Some(0), "{}", stderr(&same));
    // A call and the end marker per thread.
    assert_contains!(
        stdout(&same),
        "the recordings hold the same events (80000 compared)"
    );

    let differ = replay(&["diff", a, b]);
    assert_eq!(differ.status.code(), Some(1), "{}", stderr(&differ));
    let out = stdout(&differ);
    assert_contains!(out, "first differ on thread 39999, at event 1");
    assert_contains!(out, "#1 m::f(1) -> 2");
    assert_contains!(out, "#1 m::f(1) -> 3");

    // A thread only one recording has.
    let missing = replay(&["diff", a, fewer]);
    assert_eq!(missing.status.code(), Some(1), "{}", stderr(&missing));
    let out = stdout(&missing);
    assert_contains!(out, "first differ on thread 39999, at event 1");
    assert_contains!(out, "(nothing: the thread's events end here)");
}

/// One function with a 1 MiB name, called 200 000 times in each file:
/// before, `diff` compared the name's bytes on every call (200 GiB).
#[test]
fn diff_compares_a_huge_function_name_once_not_per_call() {
    let dir = scratch_dir("scale-huge-name");
    let mut payload = define(0, "n".repeat(1 << 20), "fn()");
    for _ in 0..200_000 {
        payload.extend(call(0, &[], &[]));
    }
    payload.push(END);
    let file = recording_of(&payload);
    let a = write_file(&dir, "a.replay", &file);
    let b = write_file(&dir, "b.replay", &file);

    let out = replay(&["diff", path_str(&a), path_str(&b)]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_contains!(
        stdout(&out),
        "the recordings hold the same events (200001 compared)"
    );

    // The same name in another function's place is another function.
    let mut other = define(0, "n".repeat(1 << 20), "fn()");
    other.extend(define(1, "m::g", "fn()"));
    other.extend(call(0, &[], &[]));
    other.extend(call(1, &[], &[]));
    other.push(END);
    let c = write_file(&dir, "c.replay", recording_of(&other));
    let out = replay(&["diff", path_str(&a), path_str(&c)]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_contains!(stdout(&out), "first differ on thread 0, at event 2");
}

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
    assert_contains!(out, "0:1  m::costly([a0 8d 06 00 00 00");
    assert_contains!(out, "0:2  m::sensible([((), 0), ((), 0), ");
    assert_contains!(out, "… 99968 more]) -> ()");
}
