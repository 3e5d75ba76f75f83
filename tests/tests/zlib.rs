//! A real C library, zlib (built from source by `libz-sys`), recorded and
//! replayed through its functions declared as `zlib.h` declares them, with
//! no hand-written wrapper: the output buffer whose capacity and written
//! count travel through one `uLongf *`, the input array, and `crc32`, a
//! pure function that runs for real in every mode.

use std::ffi::{c_int, c_uint, c_ulong};
use std::path::Path;
use std::process::Command;

use libz_sys as _; // Links the zlib that libz-sys builds; its bindings are unused.
use replay_runtime::{Session, assume_deterministic, deterministic};
use replay_tests::{
    assert_contains, assert_success, expect_panic, record_then_replay, scratch_dir,
};

/// `Z_OK`.
const Z_OK: c_int = 0;

#[deterministic]
unsafe extern "C" {
    fn compressBound(sourceLen: c_ulong) -> c_ulong;
    fn compress(
        #[out(len = *destLen, written = *destLen)] dest: *mut u8,
        #[inout(len = 1)] destLen: *mut c_ulong,
        #[input(len = sourceLen)] source: *const u8,
        sourceLen: c_ulong,
    ) -> c_int;
    fn uncompress(
        #[out(len = *destLen, written = *destLen)] dest: *mut u8,
        #[inout(len = 1)] destLen: *mut c_ulong,
        #[input(len = sourceLen)] source: *const u8,
        sourceLen: c_ulong,
    ) -> c_int;
}

#[assume_deterministic(pure)]
unsafe extern "C" {
    fn crc32(crc: c_ulong, buf: *const u8, len: c_uint) -> c_ulong;
}

/// What the program compresses: deterministic, and compressible.
fn input() -> Vec<u8> {
    let mut data = b"the quick brown fox jumps over the lazy dog; ".repeat(40);
    data.extend((0u32..512).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8));
    data
}

/// What one run saw: the compressed bytes, the round trip, and the
/// checksums of the input and of the round trip.
#[derive(Debug, PartialEq)]
struct Seen {
    compressed: Vec<u8>,
    round_trip: Vec<u8>,
    crc_in: c_ulong,
    crc_out: c_ulong,
}

/// Compresses `data` into `compressBound` plus `spare` bytes, uncompresses
/// it, and checksums both ends.
fn program(data: &[u8], spare: c_ulong) -> Seen {
    let source_len = data.len() as c_ulong;
    // SAFETY: no pointer.
    let bound = unsafe { compressBound(source_len) };
    let mut compressed = vec![0u8; (bound + spare) as usize];
    let mut compressed_len = compressed.len() as c_ulong;
    // SAFETY: `compressed_len` bytes of `compressed`, `source_len` of `data`.
    let status = unsafe {
        compress(
            compressed.as_mut_ptr(),
            &mut compressed_len,
            data.as_ptr(),
            source_len,
        )
    };
    assert_eq!(status, Z_OK);
    compressed.truncate(compressed_len as usize);

    let mut round_trip = vec![0u8; data.len()];
    let mut round_trip_len = round_trip.len() as c_ulong;
    // SAFETY: as above.
    let status = unsafe {
        uncompress(
            round_trip.as_mut_ptr(),
            &mut round_trip_len,
            compressed.as_ptr(),
            compressed_len,
        )
    };
    assert_eq!(status, Z_OK);
    round_trip.truncate(round_trip_len as usize);

    // SAFETY: each buffer holds `len` bytes.
    let (crc_in, crc_out) = unsafe {
        (
            crc32(0, data.as_ptr(), data.len() as c_uint),
            crc32(0, round_trip.as_ptr(), round_trip.len() as c_uint),
        )
    };
    Seen {
        compressed,
        round_trip,
        crc_in,
        crc_out,
    }
}

#[test]
fn compress_and_uncompress_replay_in_process() {
    let recording = scratch_dir("zlib-in-process").join("zlib.replay");
    let data = input();
    let seen = record_then_replay(&recording, |_| program(&data, 0));
    assert!(seen.compressed.len() < data.len() / 2, "compressed");
    assert_eq!(seen.round_trip, data);
    assert_eq!(seen.crc_out, seen.crc_in, "crc32 of the round trip");
}

/// The child process of [`compress_and_uncompress_replay_across_processes`]:
/// runs the program under the session `ZLIB_TEST_PHASE` names and prints
/// what it saw.
fn child(phase: &str, path: &Path) {
    let session = match phase {
        "record" => Session::record(path).expect("record"),
        _ => Session::replay(path).expect("replay"),
    };
    let seen = program(&input(), 0);
    let hex: String = seen.compressed.iter().map(|b| format!("{b:02x}")).collect();
    println!("SEEN compressed={hex}");
    println!("SEEN round_trip_len={}", seen.round_trip.len());
    println!(
        "SEEN crc_in={:08x} crc_out={:08x}",
        seen.crc_in, seen.crc_out
    );
    session.finish().expect("finish");
}

#[test]
fn compress_and_uncompress_replay_across_processes() {
    const NAME: &str = "compress_and_uncompress_replay_across_processes";
    if let Ok(phase) = std::env::var("ZLIB_TEST_PHASE") {
        let path = std::env::var_os("ZLIB_TEST_PATH").expect("ZLIB_TEST_PATH");
        child(&phase, Path::new(&path));
        return;
    }
    let recording = scratch_dir("zlib-cross-process").join("zlib.replay");
    let run = |phase: &str| {
        let output = Command::new(std::env::current_exe().expect("the test binary"))
            .args(["--exact", NAME, "--nocapture", "--test-threads=1"])
            .env("ZLIB_TEST_PHASE", phase)
            .env("ZLIB_TEST_PATH", &recording)
            .output()
            .expect("run the test binary");
        assert_success(&output);
        // libtest may print `test NAME ... ` on the first line's start.
        let seen: Vec<String> = String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|l| l.find("SEEN ").map(|at| l[at..].to_owned()))
            .collect();
        assert_eq!(seen.len(), 3, "the child printed what it saw");
        seen
    };
    let recorded = run("record");
    let replayed = run("replay");
    assert_eq!(replayed, recorded);
    let crcs: Vec<&str> = recorded[2].split(['=', ' ']).collect();
    assert_eq!(crcs[2], crcs[4], "crc32 of the round trip: {crcs:?}");
}

/// Records the program, then replays `changed` against that recording,
/// which must diverge with a report containing every one of `expected`.
fn diverges_with(name: &str, expected: &[&str], changed: impl FnOnce()) {
    let recording = scratch_dir(name).join("zlib.replay");
    let session = Session::record(&recording).expect("record");
    program(&input(), 0);
    session.finish().expect("finish");
    let session = Session::replay(&recording).expect("replay");
    let message = expect_panic("a changed input diverges", changed);
    for needle in expected {
        assert_contains!(message, needle);
    }
    assert!(session.finish().is_err(), "the session is spent");
}

#[test]
fn other_source_bytes_diverge_naming_source() {
    diverges_with("zlib-source", &["`source`", "`zlib::compress`"], || {
        let mut data = input();
        data[7] ^= 1;
        program(&data, 0);
    });
}

#[test]
fn another_capacity_diverges_naming_dest_len() {
    diverges_with("zlib-dest-len", &["`destLen`", "`zlib::compress`"], || {
        program(&input(), 1);
    });
}
