//! What `replay dump` shows of recorded values: decoded with the types the
//! recorded signature names, or, where it names types the command cannot
//! know, the runtime's labelled guess.

mod common;

use std::os::fd::AsRawFd;
use std::path::Path;

use common::{replay, replay_ok};
use replay_runtime::{Session, deterministic, mapped};
use replay_tests::recording_files::{END, call, define, recording_of, varint};
use replay_tests::{assert_contains, path_str, scratch_dir, stdout, write_file};
use serde::{Deserialize, Serialize};

#[deterministic]
fn step(delta: i32, label: &str) -> i64 {
    i64::from(delta) * 100 + label.len() as i64 - 3
}

#[deterministic]
fn describe(
    id: u8,
    name: String,
    tags: &[i16],
    scale: f64,
    initial: char,
    pair: (bool, Option<u64>),
    grid: [u16; 3],
) -> Option<String> {
    let _ = (tags, scale, initial, pair, grid);
    Some(format!("{name}#{id}"))
}

#[deterministic]
fn parse(text: &str) -> Result<u128, String> {
    text.parse()
        .map_err(|e: std::num::ParseIntError| e.to_string())
}

#[deterministic]
fn size(data: Vec<u8>) -> u8 {
    data.len() as u8
}

#[deterministic]
fn widen(small: std::os::raw::c_int, large: core::ffi::c_long) {
    let _ = (small, large);
}

#[deterministic]
fn sum(values: &[i32], total: &mut i64, count: &mut i32) {
    *total = values.iter().map(|&v| i64::from(v)).sum();
    *count = values.len() as i32;
}

/// Only writes its buffer: its value before the call is not recorded.
#[deterministic]
fn fill(#[out] buf: &mut [u8]) -> bool {
    for (i, b) in buf.iter_mut().enumerate() {
        *b = i as u8 + 1;
    }
    true
}

struct Counter;

impl Counter {
    #[deterministic]
    fn less(&self, by: i32) -> i32 {
        -by - 1
    }
}

// libc's `read`, on the other side of a real C boundary.
#[deterministic]
unsafe extern "C" {
    fn read(
        fd: std::os::raw::c_int,
        #[out(len = count, written = return)] buf: *mut u8,
        count: usize,
    ) -> isize;
}

#[derive(Serialize, Deserialize)]
struct Point {
    x: i32,
    y: i32,
}

#[deterministic]
fn shift(p: Point, by: i32) -> i32 {
    p.x - by
}

#[deterministic]
fn origin() -> Point {
    Point { x: 0, y: 0 }
}

#[mapped]
struct Ticket(u64);

#[deterministic]
fn issue(number: u64) -> Ticket {
    Ticket(number)
}

impl Ticket {
    #[deterministic]
    fn balance(&self) -> i32 {
        -(self.0 as i32)
    }
}

#[deterministic(secret(pin))]
fn unlock(user: &str, pin: u32) -> bool {
    pin != 0 && !user.is_empty()
}

/// A secret first parameter whose neighbour's bytes would also decode as
/// the two of them: only the signature's mark tells them apart.
#[deterministic(secret(pin))]
fn open_vault(pin: u8, data: Vec<u8>) -> usize {
    usize::from(pin) + data.len()
}

/// Records `run` to `path`.
fn record(path: &Path, run: impl FnOnce()) {
    let session = Session::record(path).expect("start recording");
    run();
    session.finish().expect("finish recording");
}

fn assert_shows(out: &str, line: &str) {
    assert!(
        out.lines().any(|l| l.ends_with(line)),
        "no line ends with {line:?}:\n{out}"
    );
}

#[test]
fn dump_shows_signed_integers_as_their_values_not_zigzag() {
    let dir = scratch_dir("dump-signed");
    let path = dir.join("a.replay");
    record(&path, || {
        step(1, "abc");
        step(-3, "x");
    });
    let out = replay_ok("dump", &path);
    // Zigzag encoding makes 1 the byte 02 and 100 the varint of 200.
    assert_shows(&out, "0:1  dump::step(1, \"abc\") -> 100");
    assert_shows(&out, "0:2  dump::step(-3, \"x\") -> -302");
}

#[test]
fn dump_decodes_the_types_a_signature_names() {
    let dir = scratch_dir("dump-types");
    let path = dir.join("a.replay");
    record(&path, || {
        describe(
            7,
            "ann".into(),
            &[-1, 2],
            1.5,
            'é',
            (true, Some(300)),
            [1, 2, 3],
        );
        assert_eq!(parse("12"), Ok(12));
        assert!(parse("x").is_err());
        widen(-5, -6);
        Counter.less(2);
        size(vec![7; 1100]);
    });
    let out = replay_ok("dump", &path);
    assert_shows(
        &out,
        "dump::describe(7, \"ann\", [-1, 2], 1.5, 'é', (true, Some(300)), [1, 2, 3]) -> Some(\"ann#7\")",
    );
    assert_shows(&out, "dump::parse(\"12\") -> Ok(12)");
    assert_shows(
        &out,
        "dump::parse(\"x\") -> Err(\"invalid digit found in string\")",
    );
    assert_shows(&out, "dump::widen(-5, -6) -> ()");
    // `&self` of an ordinary type is not recorded.
    assert_shows(&out, "dump::Counter::less(2) -> -3");
    // Arguments too large to store keep their digests (docs/format.md's
    // example); the result is decoded.
    assert_shows(&out, "dump::size(digest 14fd6952ce31bc0d) -> 76");
}

#[test]
fn dump_shows_out_parameters_after_the_return_value() {
    let dir = scratch_dir("dump-outs");
    let path = dir.join("a.replay");
    let file_path = write_file(&dir, "input.txt", "hello");
    let file = std::fs::File::open(&file_path).expect("open");
    record(&path, || {
        sum(&[4, -9], &mut 0, &mut 0);
        fill(&mut [0; 3]);
        let mut buf = [0u8; 16];
        // SAFETY: `buf` holds 16 bytes.
        let n = unsafe { read(file.as_raw_fd(), buf.as_mut_ptr(), buf.len()) };
        assert_eq!(n, 5);
    });
    let out = replay_ok("dump", &path);
    // The `&mut` values before the call are arguments too, marked `in`.
    assert_shows(&out, "dump::sum([4, -9], in 0, in 0) -> (), out -5, out 2");
    assert_shows(&out, "dump::fill() -> true, out [1, 2, 3]");
    let fd = file.as_raw_fd();
    assert_shows(&out, &format!("dump::read({fd}, 16) -> 5, out b\"hello\""));
}

#[test]
fn dump_falls_back_to_the_labelled_guess_for_what_it_cannot_decode() {
    let dir = scratch_dir("dump-fallback");
    let path = dir.join("a.replay");
    record(&path, || {
        shift(Point { x: -1, y: 2 }, 3);
        origin();
        issue(5).balance();
        unlock("ann", 1234);
        open_vault(42, vec![0]);
    });
    let out = replay_ok("dump", &path);
    // A struct of the program: its fields' zigzag bytes, labelled as a
    // guess; the result is an `i32`, decoded.
    assert_shows(&out, "dump::shift([01 04 06] ~ 1, 4, 6) -> -4");
    assert_shows(&out, "dump::origin() -> [00 00] ~ 0, 0");
    // A `#[mapped]` handle is recorded as its slot and generation.
    assert_shows(&out, "dump::issue(5) -> [00 00] ~ 0, 0");
    assert_shows(&out, "dump::Ticket::balance([00 00] ~ 0, 0) -> -5");
    // A secret parameter is not recorded, and the signature says so: the
    // other arguments decode without it.
    assert_shows(&out, "dump::unlock(\"ann\") -> true");
    // Without the mark, `01 00` would have read as `unlock(1, [])`.
    assert_shows(&out, "dump::open_vault([0]) -> 43");
}

#[test]
fn dump_falls_back_when_bytes_do_not_fit_the_signature_exactly() {
    let dir = scratch_dir("dump-misfit");
    let payload = [
        define(0, "m::f", "fn(u8) -> i32"),
        call(0, &[1, 2], &[3]),                         // a byte left over
        call(0, &[], &[0x80]),                          // a varint cut short
        call(0, &[9], &[0xff, 0xff, 0xff, 0xff, 0x7f]), // over i32
        define(1, "m::g", "fn(bool, Option < u8 >) -> char"),
        call(1, &[2, 0], &[1, 0xff]),          // not a bool; not UTF-8
        call(1, &[1, 2, 7], &[2, b'a', b'b']), // no such tag; two chars
        vec![END],
    ]
    .concat();
    let path = write_file(&dir, "a.replay", recording_of(&payload));
    let out = replay_ok("dump", &path);
    assert_shows(&out, "0:1  m::f([01 02] ~ 1, 2) -> -2");
    assert_shows(&out, "0:2  m::f() -> [80]");
    assert_shows(&out, "0:3  m::f(9) -> [ff ff ff ff 7f] ~ 34359738367");
    assert_shows(&out, "0:4  m::g([02 00] ~ 2, 0) -> [01 ff]");
    assert_shows(
        &out,
        "0:5  m::g([01 02 07] ~ 1, 2, 7) -> [02 61 62] ~ \"ab\"",
    );
}

#[test]
fn hostile_signatures_and_lengths_fall_back_without_hanging() {
    let dir = scratch_dir("dump-hostile");
    // Nested deeper than any program's types, in 1 MiB and in 4 KiB.
    let deep = format!("fn({}u8{})", "Vec < ".repeat(100_000), " >".repeat(100_000));
    let deep4k = format!("fn({}u8{})", "Vec<".repeat(900), ">".repeat(900));
    let mut many = Vec::new();
    varint(&mut many, u64::MAX);
    let payload = [
        define(0, "m::deep", &deep),
        call(0, &[0], &[]),
        define(1, "m::deep4k", &deep4k),
        call(1, &[0], &[]),
        // Elements that take no bytes, claimed by the quintillion.
        define(
            2,
            "m::units",
            "fn(Vec < () >) -> [[(); 1000000000000] ; 1000000000000]",
        ),
        call(2, &many, &[]),
        // Lengths past the end of the bytes.
        define(
            3,
            "m::long",
            "fn(Vec < u64 >, & str) -> [u8 ; 1000000000000]",
        ),
        call(3, &many, &many),
        vec![END],
    ]
    .concat();
    let path = write_file(&dir, "a.replay", recording_of(&payload));

    let out = replay_ok("dump", &path);
    assert_shows(&out, "m::deep([00] ~ 0) -> ()");
    assert_shows(&out, "m::deep4k([00] ~ 0) -> ()");
    let units = out
        .lines()
        .find(|l| l.contains("m::units("))
        .unwrap_or_else(|| panic!("{out}"));
    assert_contains!(units, "m::units([(), (), ");
    assert!(units.len() < 10_000, "{} characters", units.len());
    assert_shows(
        &out,
        "m::long([ff ff ff ff ff ff ff ff ff 01] ~ 18446744073709551615) -> \
         [ff ff ff ff ff ff ff ff ff 01] ~ 18446744073709551615",
    );
}

#[test]
fn diff_shows_values_decoded_as_dump_does() {
    let dir = scratch_dir("diff-decoded");
    let (a, b) = (dir.join("a.replay"), dir.join("b.replay"));
    record(&a, || {
        step(-1, "same");
        step(-2, "a");
    });
    record(&b, || {
        step(-1, "same");
        step(-2, "b");
    });
    let (a, b) = (path_str(&a), path_str(&b));
    let out = replay(&["diff", a, b]);
    assert_eq!(out.status.code(), Some(1));
    let out = stdout(&out);
    assert_shows(&out, "#1 dump::step(-1, \"same\") -> -99");
    assert_shows(&out, "#2 dump::step(-2, \"a\") -> -202");
    assert_shows(&out, "#2 dump::step(-2, \"b\") -> -202");
}

/// libc's `qsort`'s comparator, as a recorded callback.
#[deterministic(callback)]
extern "C" fn by_value(
    #[input(len = 1)] a: *const i32,
    #[input(len = 1)] b: *const i32,
) -> std::ffi::c_int {
    // SAFETY: qsort passes two elements of the array.
    unsafe { (*a).cmp(&*b) as std::ffi::c_int }
}

/// A handle the dump names by its type.
#[mapped]
pub struct Handle(i32);

#[deterministic]
fn make_handle() -> Handle {
    Handle(-7)
}

#[deterministic]
unsafe extern "C" {
    fn strlen(s: *const std::ffi::c_char) -> usize;
    fn getenv(name: *const std::ffi::c_char) -> *const std::ffi::c_char;
    fn qsort(
        #[inout(len = n)] base: *mut i32,
        n: usize,
        size: usize,
        compar: Option<unsafe extern "C" fn(*const i32, *const i32) -> std::ffi::c_int>,
    );
    #[link_name = "abs"]
    fn handle_number(handle: &Handle) -> i32;
}

#[test]
fn dump_shows_what_c_pointers_held_and_the_callbacks_inside_a_call() {
    let dir = scratch_dir("dump-c");
    let path = dir.join("c.replay");
    record(&path, || {
        let mut values = [3, 1, 2];
        // SAFETY: C strings; `values` holds 3 `i32`s; a comparator of the C
        // type; `abs` takes the handle's raw value, an `int`.
        unsafe {
            strlen(c"four".as_ptr());
            getenv(c"REPLAY_DUMP_TEST_UNSET_VARIABLE".as_ptr());
            qsort(values.as_mut_ptr(), 3, 4, Some(by_value));
            handle_number(&make_handle());
        }
    });
    let out = replay_ok("dump", &path);
    assert_shows(&out, "dump::strlen(c\"four\") -> 4");
    assert_shows(
        &out,
        "dump::getenv(c\"REPLAY_DUMP_TEST_UNSET_VARIABLE\") -> NULL",
    );
    assert_shows(&out, "> dump::qsort(..) calls back:");
    assert_contains!(
        out,
        "<- callback dump::by_value(b\"\\x01\\x00\\x00\\x00\", b\"\\x02"
    );
    assert_contains!(out, "<- returned -1");
    assert_shows(
        &out,
        "3, 4, callback dump::by_value) -> (), out b\"\\x01\\x00\\x00\\x00\\x02\\x00\\x00\\x00\\x03\\x00\\x00\\x00\"",
    );
    assert_shows(&out, "dump::handle_number(Handle #0.0) -> 7");
}
