//! C APIs declared as their header declares them: C strings, input arrays,
//! arrays of strings, in/out values, handle out-parameters, handles passed
//! by reference, borrowed C strings returned. Each is recorded as the value
//! behind the pointer, checked on replay, and written back or returned.

use std::ffi::{CStr, CString, c_char, c_void};
use std::mem::MaybeUninit;

use replay_runtime::{Session, deterministic, mapped};
use replay_tests::{assert_contains, c_calls, expect_panic, record_then_replay, scratch_dir};

/// A `struct rt_object *` C allocates.
#[mapped]
pub struct Object(*mut c_void);

#[deterministic]
unsafe extern "C" {
    fn rt_greet(
        name: *const c_char,
        #[out(len = cap, written = return)] out: *mut c_char,
        cap: usize,
    ) -> i32;
    fn rt_label(n: i32) -> *const c_char;
    fn rt_total_len(#[input(null_terminated)] parts: *const *const c_char) -> i32;
    fn rt_count_prefixed(
        prefix: *const c_char,
        #[input(len = n)] names: *const *const c_char,
        n: i32,
    ) -> i32;
    fn rt_stats(
        #[input(len = n)] values: *const i32,
        n: usize,
        #[out(len = 1)] sum: *mut i64,
        #[out(len = 1)] max: *mut i32,
    );
    fn rt_fill_upto(
        #[out(len = *dest_len, written = *dest_len)] dest: *mut u8,
        #[inout(len = 1)] dest_len: *mut usize,
        #[input(len = src_len)] src: *const u8,
        src_len: usize,
    ) -> i32;
    fn rt_object_open(base: i64, #[out(len = 1)] out: *mut Object) -> i32;
    fn rt_lend_point(n: i32) -> *const replay_tests::Point;
    fn rt_find_end(
        s: *const c_char,
        #[out(len = 1, points_into = s)] end: *mut *const c_char,
        outside: i32,
    ) -> i32;
    fn rt_object_id(object: &Object) -> i64;
    fn rt_object_close(object: Object);
}

fn c(s: &str) -> CString {
    CString::new(s).expect("no NUL")
}

/// A greeting into a buffer, from a C string.
fn greet(name: &str) -> String {
    let name = c(name);
    let mut out = [0 as c_char; 64];
    // SAFETY: a NUL-terminated name; `out` holds 64 elements.
    let n = unsafe { rt_greet(name.as_ptr(), out.as_mut_ptr(), out.len()) };
    let bytes: Vec<u8> = out[..usize::try_from(n).unwrap_or(0).min(63)]
        .iter()
        .map(|&b| b as u8)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

fn label(n: i32) -> Option<String> {
    // SAFETY: no pointer in.
    let ptr = unsafe { rt_label(n) };
    // SAFETY: null, or a C string valid until the next call.
    (!ptr.is_null()).then(|| {
        unsafe { CStr::from_ptr(ptr) }
            .to_string_lossy()
            .into_owned()
    })
}

fn total_len(parts: &[&str]) -> i32 {
    let owned: Vec<CString> = parts.iter().map(|p| c(p)).collect();
    let mut ptrs: Vec<*const c_char> = owned.iter().map(|s| s.as_ptr()).collect();
    ptrs.push(std::ptr::null());
    // SAFETY: NUL-terminated strings, and a null pointer at the end.
    unsafe { rt_total_len(ptrs.as_ptr()) }
}

fn count_prefixed(prefix: Option<&str>, names: &[Option<&str>]) -> i32 {
    let prefix = prefix.map(c);
    let owned: Vec<Option<CString>> = names.iter().map(|n| n.map(c)).collect();
    let ptrs: Vec<*const c_char> = owned
        .iter()
        .map(|s| s.as_ref().map_or(std::ptr::null(), |s| s.as_ptr()))
        .collect();
    let prefix = prefix.as_ref().map_or(std::ptr::null(), |p| p.as_ptr());
    // SAFETY: a nullable prefix, and `n` nullable strings.
    unsafe { rt_count_prefixed(prefix, ptrs.as_ptr(), ptrs.len() as i32) }
}

fn stats(values: &[i32]) -> (i64, i32) {
    let (mut sum, mut max) = (0, 0);
    // SAFETY: `values.len()` values in; one of each written.
    unsafe { rt_stats(values.as_ptr(), values.len(), &mut sum, &mut max) };
    (sum, max)
}

fn fill_upto(capacity: usize, src: &[u8]) -> Vec<u8> {
    let mut dest = vec![0u8; capacity];
    let mut len = dest.len();
    // SAFETY: `len` bytes of `dest`, `src.len()` of `src`.
    unsafe { rt_fill_upto(dest.as_mut_ptr(), &mut len, src.as_ptr(), src.len()) };
    dest.truncate(len);
    dest
}

fn open_object(base: i64) -> Object {
    let mut object = MaybeUninit::<Object>::uninit();
    // SAFETY: C writes one handle.
    let status = unsafe { rt_object_open(base, object.as_mut_ptr()) };
    assert_eq!(status, 0);
    // SAFETY: written by the call (or, in replay, by the wrapper).
    unsafe { object.assume_init() }
}

/// Every pattern once; returns what the program saw.
fn program() -> Vec<String> {
    program_with(Change::Nothing)
}

/// One input of [`program`] a replay changes, to diverge.
#[derive(Clone, Copy, PartialEq)]
enum Change {
    Nothing,
    /// A C string.
    Name,
    /// A string in a NULL-terminated array.
    Parts,
    /// An element of an input array.
    Values,
    /// An in/out value (a buffer's capacity).
    Capacity,
}

/// `usual`, or `other` when `change` is `when`.
fn pick<T>(change: Change, when: Change, usual: T, other: T) -> T {
    if change == when { other } else { usual }
}

fn program_with(change: Change) -> Vec<String> {
    let mut seen = vec![
        greet(pick(change, Change::Name, "ada", "eve")),
        greet("grace"),
    ];
    seen.push(format!("{:?} {:?} {:?}", label(1), label(-1), label(2)));
    seen.push(total_len(&["one", pick(change, Change::Parts, "three", "four"), ""]).to_string());
    let count = count_prefixed(Some("ab"), &[Some("abc"), None, Some("xab"), Some("ab")]);
    seen.push(count.to_string());
    seen.push(count_prefixed(None, &[]).to_string());
    seen.push(format!(
        "{:?}",
        stats(&[3, -7, pick(change, Change::Values, 12, 13)])
    ));
    seen.push(format!(
        "{:?}",
        fill_upto(pick(change, Change::Capacity, 16, 17), b"hello")
    ));
    seen.push(format!("{:?}", fill_upto(0, b"")));
    let a = open_object(1000);
    let b = open_object(2000);
    // SAFETY: live handles.
    let ids = unsafe { [rt_object_id(&a), rt_object_id(&b), rt_object_id(&a)] };
    seen.push(format!("{a:?} {b:?} {ids:?}"));
    // SAFETY: each handle closed once, given away.
    unsafe {
        rt_object_close(a);
        rt_object_close(b);
    }
    let again = open_object(3000);
    // SAFETY: a live handle.
    seen.push(format!("{again:?} {}", unsafe { rt_object_id(&again) }));
    // SAFETY: closed once.
    unsafe { rt_object_close(again) };
    seen
}

#[test]
fn pointers_replay_as_the_values_they_point_at() {
    let dir = scratch_dir("c-patterns");
    let recording = dir.join("patterns.replay");
    let before = c_calls();
    let mut replay_calls = 0;
    let seen = record_then_replay(&recording, |mode| {
        let start = c_calls();
        let seen = program();
        if mode == replay_runtime::Mode::Replay {
            replay_calls = c_calls() - start;
        }
        seen
    });
    assert!(c_calls() > before, "recording called C");
    assert_eq!(replay_calls, 0, "replay never called C");
    assert_contains!(seen[0], "hello, ada");
    assert_contains!(seen[2], "None");
    assert_contains!(seen[6], "(8, 12)");
    // The handle C wrote through `sqlite3 **`-style out-parameters got
    // slots, and the slot freed by close is reused a generation on.
    assert_contains!(seen[9], "Object #0.0 Object #1.0");
    assert_contains!(seen[10], "Object #0.1");
}

/// Replays `program` with one input changed by `change`, expecting a
/// divergence whose report contains `expected`.
fn diverges_with(name: &str, expected: &[&str], change: Change) {
    let dir = scratch_dir(name);
    let recording = dir.join("changed.replay");
    let session = Session::record(&recording).expect("record");
    let _ = program();
    session.finish().expect("finish");
    let session = Session::replay(&recording).expect("replay");
    let message = expect_panic("a changed input diverges", || program_with(change));
    for needle in expected {
        assert_contains!(message, needle);
    }
    drop(session);
}

#[test]
fn a_changed_c_string_diverges_naming_it() {
    diverges_with(
        "c-patterns-cstr",
        &["`name`", "\"ada\"", "\"eve\""],
        Change::Name,
    );
}

#[test]
fn a_changed_input_array_diverges_naming_it() {
    diverges_with(
        "c-patterns-array",
        &["`values`", "values = [3, -7, 12]", "values = [3, -7, 13]"],
        Change::Values,
    );
}

#[test]
fn a_changed_string_in_an_array_diverges_naming_it() {
    diverges_with(
        "c-patterns-strings",
        &["`parts`", "\"three\"", "\"four\""],
        Change::Parts,
    );
}

#[test]
fn a_changed_in_out_value_diverges_naming_it() {
    diverges_with(
        "c-patterns-inout",
        &["`dest_len`", "dest_len = 16", "dest_len = 17"],
        Change::Capacity,
    );
}

#[test]
fn a_borrowed_c_string_outlives_later_calls_in_replay() {
    let dir = scratch_dir("c-patterns-borrowed");
    let recording = dir.join("borrowed.replay");
    let run = || {
        // SAFETY: no pointers in.
        let (first, second) = unsafe { (rt_label(7), rt_label(8)) };
        // SAFETY: in replay both stay valid for the session; when
        // recording, C overwrote the first: only the second is read.
        unsafe { CStr::from_ptr(second) }
            .to_string_lossy()
            .into_owned()
            + &{
                if replay_runtime::current_mode() == replay_runtime::Mode::Replay {
                    // SAFETY: replay keeps every returned string.
                    unsafe { CStr::from_ptr(first) }
                        .to_string_lossy()
                        .into_owned()
                } else {
                    String::new()
                }
            }
    };
    let session = Session::record(&recording).expect("record");
    let recorded = run();
    session.finish().expect("finish");
    let session = Session::replay(&recording).expect("replay");
    let replayed = run();
    session.finish().expect("finish");
    assert!(
        replayed.starts_with(&recorded),
        "{replayed} begins with {recorded}"
    );
    assert_contains!(replayed, "label-7-");
}

/// A handle out-parameter C leaves null (a failed open) is null in replay
/// too, not a placeholder a program would take for an object.
#[test]
fn a_null_handle_written_by_c_replays_as_null() {
    let dir = scratch_dir("c-patterns-null-handle");
    let recording = dir.join("null.replay");
    let seen = record_then_replay(&recording, |_| {
        let mut object = MaybeUninit::<Object>::uninit();
        // SAFETY: C writes one handle (null, for a negative base).
        let status = unsafe { rt_object_open(-1, object.as_mut_ptr()) };
        // SAFETY: written by the call (or, in replay, by the wrapper).
        let object = unsafe { object.assume_init() };
        // SAFETY: `rt_object_id` takes null.
        let id = unsafe { rt_object_id(&object) };
        (status, object.0.is_null(), id)
    });
    assert_eq!(seen, (-1, true, -1));
}

/// A borrowed C string returned in replay outlives the session: C may
/// have promised it for ever (a version string, a static message).
#[test]
fn a_borrowed_c_string_outlives_the_replay_session() {
    let dir = scratch_dir("c-patterns-borrowed-forever");
    let recording = dir.join("forever.replay");
    let session = Session::record(&recording).expect("record");
    // SAFETY: no pointer in.
    let recorded = label(5);
    session.finish().expect("finish");
    let session = Session::replay(&recording).expect("replay");
    // SAFETY: no pointer in.
    let pointer = unsafe { rt_label(5) };
    session.finish().expect("finish");
    // SAFETY: replay's copies live as long as the process.
    let after = unsafe { CStr::from_ptr(pointer) }
        .to_string_lossy()
        .into_owned();
    assert_eq!(Some(after), recorded);
}

/// A pointer C writes into an argument replays pointing into this run's
/// argument; one C writes anywhere else cannot be recorded, and says so.
#[test]
fn a_pointer_into_an_argument_replays_into_this_runs_argument() {
    let dir = scratch_dir("c-patterns-points-into");
    let recording = dir.join("points.replay");
    let text = c("one two");
    let offset = record_then_replay(&recording, |_| {
        let mut end = std::ptr::null();
        // SAFETY: a C string, and room for one pointer.
        unsafe { rt_find_end(text.as_ptr(), &mut end, 0) };
        // SAFETY: `end` points into `text`.
        unsafe { end.offset_from(text.as_ptr()) }
    });
    assert_eq!(offset, 7);

    let session = Session::record(dir.join("outside.replay")).expect("record");
    let message = expect_panic("a pointer outside its argument", || {
        let mut end = std::ptr::null();
        // SAFETY: as above.
        unsafe { rt_find_end(text.as_ptr(), &mut end, 1) }
    });
    assert_contains!(
        message,
        "does not point into the memory of its `points_into` parameter"
    );
    drop(session);
}

/// A borrowed element of plain data returned (`const struct rt_point *`)
/// replays as a copy of the recorded value; null stays null.
#[test]
fn a_borrowed_struct_returned_replays_as_its_value() {
    let dir = scratch_dir("c-patterns-lend");
    let recording = dir.join("lend.replay");
    let seen = record_then_replay(&recording, |_| {
        // SAFETY: no pointer in; a point C keeps until the next call,
        // copied at once.
        unsafe {
            let first = *rt_lend_point(3);
            let missing = rt_lend_point(-1).is_null();
            (first, missing)
        }
    });
    assert_eq!(seen.0.x, 3);
    assert!(seen.1);
}
