//! Callbacks: C calling back into Rust. In record, each invocation during
//! a recorded call is recorded nested in it; in replay, replaying that
//! call invokes the Rust callback itself, in order, with the recorded
//! arguments, and checks what it returns.

use std::cell::RefCell;
use std::ffi::{CStr, c_char, c_int};
use std::sync::atomic::{AtomicUsize, Ordering};

use replay_runtime::inspect::{Entry, Inspection};
use replay_runtime::{Context, ContextPtr, Mode, Session, deterministic};
use replay_tests::{
    assert_contains, c_calls, expect_panic, greet, record_then_replay, scratch_dir,
};

/// What the callbacks saw, kept behind the context pointer C passes back.
#[derive(Default)]
struct Seen {
    lines: RefCell<Vec<String>>,
}

thread_local! {
    /// Stop after this many items (0: never); changed to make a replay
    /// diverge. Per thread: tests run in parallel.
    static STOP_AT: std::cell::Cell<i32> = const { std::cell::Cell::new(0) };
}

#[deterministic(callback)]
extern "C" fn on_item(ctx: ContextPtr, i: i32, label: *const c_char) -> i32 {
    // SAFETY: `ctx` is the `Context<Seen>` the caller passed; C passes a
    // NUL-terminated label.
    let (seen, label) = unsafe { (ctx.as_ref::<Seen>(), CStr::from_ptr(label)) };
    // A recorded call made inside the callback: recorded nested, and
    // replayed when replay invokes the callback.
    let greeting = greet(&label.to_string_lossy());
    seen.lines.borrow_mut().push(format!("{i}: {greeting}"));
    if PANIC_AT.get() == i + 1 {
        panic!("the callback panics at item {i}");
    }
    i32::from(STOP_AT.get() == i + 1)
}

thread_local! {
    /// Panic at this item (0: never).
    static PANIC_AT: std::cell::Cell<i32> = const { std::cell::Cell::new(0) };
}

static COMPARED: AtomicUsize = AtomicUsize::new(0);

#[deterministic(callback)]
extern "C" fn compare(#[input(len = 1)] a: *const i32, #[input(len = 1)] b: *const i32) -> c_int {
    COMPARED.fetch_add(1, Ordering::SeqCst);
    // SAFETY: qsort passes two elements of the array.
    let (a, b) = unsafe { (*a, *b) };
    a.cmp(&b) as c_int
}

#[deterministic]
unsafe extern "C" {
    // The function pointer type is written out: the attribute recognises
    // it by its syntax (an alias would not be).
    fn rt_each(
        n: i32,
        cb: Option<unsafe extern "C" fn(ContextPtr, i32, *const c_char) -> i32>,
        ctx: ContextPtr,
    ) -> i32;
    fn rt_sort(
        #[inout(len = n)] values: *mut i32,
        n: usize,
        cmp: Option<unsafe extern "C" fn(*const i32, *const i32) -> c_int>,
    );
    fn rt_set_handler(
        cb: Option<unsafe extern "C" fn(ContextPtr, i32, *const c_char) -> i32>,
        ctx: ContextPtr,
    );
    fn rt_fire(i: i32) -> i32;
}

unsafe extern "C" {
    /// Not wrapped: in replay it runs for real, and so does its callback.
    #[link_name = "rt_each"]
    fn rt_each_unwrapped(
        n: i32,
        cb: Option<unsafe extern "C" fn(ContextPtr, i32, *const c_char) -> i32>,
        ctx: ContextPtr,
    ) -> i32;
}

fn each(n: i32) -> (i32, Vec<String>) {
    let seen = Context::new(Seen::default());
    // SAFETY: `seen` outlives the call; `on_item` matches the C type.
    let made = unsafe { rt_each(n, Some(on_item), seen.ptr()) };
    let lines = seen.lines.borrow().clone();
    (made, lines)
}

#[test]
fn callbacks_run_in_replay_with_the_recorded_arguments() {
    let dir = scratch_dir("callbacks-run");
    let recording = dir.join("each.replay");
    let mut replay_c_calls = None;
    let seen = record_then_replay(&recording, |mode| {
        let before = c_calls();
        let seen = each(4);
        if mode == Mode::Replay {
            replay_c_calls = Some(c_calls() - before);
        }
        seen
    });
    assert_eq!(replay_c_calls, Some(0), "replay never called C");
    assert_eq!(seen.1.len(), 4, "{seen:?}");
    assert_contains!(seen.1[0], "0: hello, item-0-");
    assert_contains!(seen.1[3], "3: hello, item-3-");
    assert_eq!(seen.0 % 1000, 4);
}

#[test]
fn a_callback_returning_another_value_diverges_naming_it() {
    let dir = scratch_dir("callbacks-return");
    let recording = dir.join("each.replay");
    let session = Session::record(&recording).expect("record");
    each(3);
    session.finish().expect("finish");
    let session = Session::replay(&recording).expect("replay");
    STOP_AT.set(2);
    let message = expect_panic("the callback returns 1 where it returned 0", || each(3));
    STOP_AT.set(0);
    assert_contains!(
        message,
        "the callback `callbacks::on_item` returned another value"
    );
    assert_contains!(message, "expected: a return of 0");
    assert_contains!(message, "actual:   a return of 1");
    drop(session);
}

#[test]
fn a_comparator_sorts_alike_in_replay() {
    let dir = scratch_dir("callbacks-sort");
    let recording = dir.join("sort.replay");
    let mut counts = Vec::new();
    let sorted = record_then_replay(&recording, |_| {
        let before = COMPARED.load(Ordering::SeqCst);
        let mut values = vec![5, -3, 12, 0, 7, 7, -20];
        // SAFETY: `values.len()` elements; `compare` matches the C type.
        unsafe { rt_sort(values.as_mut_ptr(), values.len(), Some(compare)) };
        counts.push(COMPARED.load(Ordering::SeqCst) - before);
        values
    });
    assert_eq!(sorted, vec![-20, -3, 0, 5, 7, 7, 12]);
    assert!(counts[0] > 0);
    assert_eq!(
        counts[0], counts[1],
        "replay invoked the comparator as often"
    );
}

#[test]
fn a_handler_registered_earlier_replays_when_fired() {
    let dir = scratch_dir("callbacks-handler");
    let recording = dir.join("handler.replay");
    let lines = record_then_replay(&recording, |_| {
        let seen = Context::new(Seen::default());
        // SAFETY: `seen` outlives every firing below.
        let fired = unsafe {
            rt_set_handler(Some(on_item), seen.ptr());
            [rt_fire(1), rt_fire(2)]
        };
        // SAFETY: the handler must not outlive `seen`.
        unsafe { rt_set_handler(None, ContextPtr::null()) };
        let lines = seen.lines.borrow().clone();
        (fired, lines)
    });
    assert_eq!(lines.1.len(), 2, "{lines:?}");
    assert_contains!(lines.1[0], "1: hello, fired-");
}

/// A callback C calls outside any wrapped call, in a replay where C runs
/// for real and passes other arguments: the divergence cannot unwind
/// through C, so the process aborts, once the report is printed. Run in a
/// child process (this test binary again, with `CALLBACKS_CHILD` set).
#[test]
fn a_callback_from_an_unwrapped_call_is_checked_in_replay() {
    const TEST: &str = "a_callback_from_an_unwrapped_call_is_checked_in_replay";
    if let Some(dir) = std::env::var_os("CALLBACKS_CHILD") {
        let recording = std::path::Path::new(&dir).join("unwrapped.replay");
        let run = || {
            let seen = Context::new(Seen::default());
            // SAFETY: `seen` outlives the call.
            unsafe { rt_each_unwrapped(4, Some(on_item), seen.ptr()) };
            seen.lines.borrow().clone()
        };
        let session = Session::record(&recording).expect("record");
        assert_eq!(run().len(), 4);
        session.finish().expect("finish");
        // The unwrapped C function runs for real in replay, and makes
        // other labels: the callback's arguments differ (a label's random
        // part, from 0 to 99, is the same again 1 time in 100: four
        // labels, so that one of them differs).
        let _session = Session::replay(&recording).expect("replay");
        run();
        unreachable!("the replay diverged");
    }
    let dir = scratch_dir("callbacks-unwrapped");
    let child = std::process::Command::new(std::env::current_exe().expect("this test binary"))
        .args(["--exact", TEST, "--nocapture", "--test-threads", "1"])
        .env("CALLBACKS_CHILD", &dir)
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("run the child");
    let stderr = String::from_utf8_lossy(&child.stderr);
    assert!(!child.status.success(), "the child aborted: {stderr}");
    assert_contains!(
        stderr,
        "argument 3 (`label`) of `callbacks::on_item` differs"
    );
    assert_contains!(
        stderr,
        "expected: a call to `callbacks::on_item` with label = \"item-"
    );
}

#[test]
fn another_callback_passed_diverges_naming_the_parameter() {
    #[deterministic(callback)]
    extern "C" fn ignore(_ctx: ContextPtr, _i: i32, _label: *const c_char) -> i32 {
        0
    }
    let dir = scratch_dir("callbacks-other");
    let recording = dir.join("other.replay");
    let session = Session::record(&recording).expect("record");
    each(1);
    session.finish().expect("finish");
    let session = Session::replay(&recording).expect("replay");
    let seen = Context::new(Seen::default());
    let message = expect_panic("another callback", || {
        // SAFETY: `seen` outlives the call.
        unsafe { rt_each(1, Some(ignore), seen.ptr()) }
    });
    assert_contains!(message, "(`cb`) of `callbacks::rt_each` differs");
    assert_contains!(message, "with cb = the callback `callbacks::on_item`");
    assert_contains!(message, "with cb = the callback `callbacks::ignore`");
    drop(session);
}

#[test]
fn the_recording_shows_callbacks_nested_in_their_call() {
    let dir = scratch_dir("callbacks-dump");
    let recording = dir.join("dump.replay");
    let session = Session::record(&recording).expect("record");
    each(2);
    session.finish().expect("finish");
    let inspection = Inspection::open(&recording).expect("open");
    let shown: Vec<String> = inspection
        .events(0)
        .expect("events")
        .iter()
        .filter(|e| !matches!(e, Entry::Thread(_) | Entry::End))
        .map(|e| e.to_string())
        .collect();
    assert_eq!(shown.len(), 8, "{shown:#?}");
    assert_contains!(shown[0], "> callbacks::rt_each(..) calls back:");
    assert_contains!(shown[1], "<- callback callbacks::on_item(");
    // Calls are numbered as they begin: the outer call first.
    assert_contains!(shown[2], "#2 replay_tests::greet(");
    assert_contains!(shown[3], "<- returned");
    assert_contains!(shown[7], "#1 callbacks::rt_each(");
}

/// A panic in a callback cannot unwind through C: it waits until the
/// foreign call returns to Rust, and is raised there; C gets the default
/// return value meanwhile, and no further callback runs.
#[test]
fn a_panicking_callback_panics_at_the_foreign_call() {
    let dir = scratch_dir("callbacks-panic");
    let recording = dir.join("panic.replay");
    let session = Session::record(&recording).expect("record");
    PANIC_AT.set(2);
    let (message, location) = replay_tests::catch_panic(|| each(4));
    PANIC_AT.set(0);
    assert_contains!(message, "the callback panics at item 1");
    assert_contains!(location, "callbacks.rs");
    // The session goes on.
    let (made, lines) = each(1);
    assert_eq!(lines.len(), 1);
    assert!(made % 1000 == 1);
    // The call that panicked is recorded as such, with the two calls its
    // callbacks made before the panic; then `each(1)`'s two.
    let summary = session.finish().expect("finish");
    assert_eq!(summary.calls, 5);
    let events = Inspection::open(&recording)
        .expect("the recording reads")
        .events(0)
        .expect("events");
    let panicked: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Entry::Panicked {
                function, message, ..
            } => Some((function.to_string(), message.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        panicked,
        [(
            "callbacks::rt_each".to_owned(),
            "the callback panics at item 1".to_owned()
        )]
    );
    // Replay raises the same panic at the same call (the callback, invoked
    // by replay, panics again), then goes on.
    let session = Session::replay(&recording).expect("replay");
    PANIC_AT.set(2);
    let (replayed, _) = replay_tests::catch_panic(|| each(4));
    PANIC_AT.set(0);
    assert_eq!(replayed, message);
    assert_eq!(each(1), (made, lines));
    assert_eq!(session.finish().expect("replayed everything").calls, 5);
}

/// A callback called on a thread without a session (here a plain
/// `std::thread`, as a thread C starts would be) runs unrecorded, and the
/// runtime says so once. Run in a child process to read its standard error.
#[test]
fn a_callback_on_a_thread_without_a_session_says_it_is_not_recorded() {
    const TEST: &str = "a_callback_on_a_thread_without_a_session_says_it_is_not_recorded";
    if let Some(dir) = std::env::var_os("CALLBACKS_CHILD") {
        let session =
            Session::record(std::path::Path::new(&dir).join("thread.replay")).expect("record");
        let seen = Context::new(Seen::default());
        // A `ContextPtr` is an address, which a thread may take along.
        let address = seen.ptr().as_ptr() as usize;
        std::thread::spawn(move || {
            // SAFETY: a `ContextPtr` is a transparent `void *`, here the
            // address of `seen`, which outlives the thread (joined below).
            let ctx: ContextPtr = unsafe { std::mem::transmute(address) };
            for i in 0..2 {
                on_item(ctx, i, c"from-a-foreign-thread".as_ptr());
            }
        })
        .join()
        .expect("the thread");
        assert_eq!(seen.lines.borrow().len(), 2, "the callback ran");
        session.finish().expect("finish");
        return;
    }
    let dir = scratch_dir("callbacks-thread");
    let child = std::process::Command::new(std::env::current_exe().expect("this test binary"))
        .args(["--exact", TEST, "--nocapture", "--test-threads", "1"])
        .env("CALLBACKS_CHILD", &dir)
        .output()
        .expect("run the child");
    let stderr = String::from_utf8_lossy(&child.stderr);
    assert!(child.status.success(), "{stderr}");
    assert_contains!(
        stderr,
        "the callback `callbacks::on_item` was called on a thread without a session"
    );
    assert_eq!(
        stderr
            .matches("was called on a thread without a session")
            .count(),
        1,
        "once"
    );
}

/// A panic inside a callback during a recorded call (caught by the
/// callback itself, or deferred to the call) leaves a recording that
/// reads: the panic hook never writes half a call.
#[test]
fn a_recording_with_a_panicking_callback_reads_back() {
    #[deterministic(callback)]
    extern "C" fn catches(_ctx: ContextPtr, i: i32, _label: *const c_char) -> i32 {
        std::panic::catch_unwind(|| {
            if i == 0 {
                panic!("caught inside the callback");
            }
            greet("after").len() as i32 % 2
        })
        .unwrap_or(-1)
    }
    let dir = scratch_dir("callbacks-panic-reads");
    let recording = dir.join("panics.replay");
    let session = Session::record(&recording).expect("record");
    // SAFETY: no context used.
    let made = unsafe { rt_each(2, Some(catches), ContextPtr::null()) };
    PANIC_AT.set(1);
    let _ = replay_tests::catch_panic(|| each(2));
    PANIC_AT.set(0);
    session.finish().expect("finish");
    let session = Session::replay(&recording).expect("the recording reads");
    // SAFETY: as above.
    assert_eq!(
        unsafe { rt_each(2, Some(catches), ContextPtr::null()) },
        made
    );
    // The call that panicked is recorded as such: replay panics there too.
    PANIC_AT.set(1);
    let (message, _) = replay_tests::catch_panic(|| each(2));
    PANIC_AT.set(0);
    assert_contains!(message, "the callback panics at item 0");
    session.finish().expect("replayed everything");
}

static LOCK: replay_runtime::sync::Mutex<u32> = replay_runtime::sync::Mutex::new(0);

/// A lock recorded inside a callback, after more than a chunk's worth of
/// recorded data, does not write the open call out half made.
#[test]
fn a_lock_inside_a_callback_after_a_full_chunk_keeps_the_call_whole() {
    #[deterministic]
    fn big() -> Vec<u8> {
        vec![7; 70_000]
    }
    #[deterministic(callback)]
    extern "C" fn locks(_ctx: ContextPtr, _i: i32, _label: *const c_char) -> i32 {
        let size = big().len();
        *LOCK.lock().expect("the lock") += 1;
        (size % 3) as i32
    }
    let dir = scratch_dir("callbacks-lock");
    let recording = dir.join("lock.replay");
    let run = || {
        // SAFETY: no context used.
        unsafe { rt_each(2, Some(locks), ContextPtr::null()) }
    };
    let session = Session::record(&recording).expect("record");
    let made = run();
    session.finish().expect("finish");
    let session = Session::replay(&recording).expect("the recording reads");
    assert_eq!(run(), made);
    session.finish().expect("replayed everything");
}

/// A call with secret results keeps its callbacks out of the recording:
/// they run for real in replay, with the call.
#[test]
fn callbacks_of_a_call_with_secret_results_stay_out_of_the_recording() {
    #[deterministic(secret(return))]
    unsafe extern "C" {
        #[link_name = "rt_each"]
        fn rt_each_secret(
            n: i32,
            cb: Option<unsafe extern "C" fn(ContextPtr, i32, *const c_char) -> i32>,
            ctx: ContextPtr,
        ) -> i32;
    }
    #[deterministic(callback)]
    extern "C" fn collect(ctx: ContextPtr, _i: i32, label: *const c_char) -> i32 {
        // SAFETY: the context of the call below, and C's label.
        let (seen, label) = unsafe { (ctx.as_ref::<Seen>(), CStr::from_ptr(label)) };
        seen.lines
            .borrow_mut()
            .push(label.to_string_lossy().into_owned());
        0
    }
    let dir = scratch_dir("callbacks-secret");
    let recording = dir.join("secret.replay");
    let session = Session::record(&recording).expect("record");
    let seen = Context::new(Seen::default());
    // SAFETY: `seen` outlives the call.
    unsafe { rt_each_secret(3, Some(collect), seen.ptr()) };
    session.finish().expect("finish");
    let labels = seen.lines.borrow().clone();
    assert_eq!(labels.len(), 3);
    let bytes = std::fs::read(&recording).expect("the recording");
    for label in &labels {
        let found = bytes.windows(label.len()).any(|w| w == label.as_bytes());
        assert!(!found, "{label} is in the recording");
    }
}

/// A callback C calls inside a recorded Rust function's body is part of
/// that body: a `Context` made there works (replay runs none of it).
#[test]
fn a_callback_inside_a_recorded_rust_function_is_part_of_it() {
    #[deterministic]
    fn labels(n: i32) -> Vec<String> {
        let seen = Context::new(Seen::default());
        // SAFETY: `seen` outlives the (unwrapped) call.
        unsafe { rt_each_unwrapped(n, Some(on_item), seen.ptr()) };
        seen.lines.borrow().clone()
    }
    let dir = scratch_dir("callbacks-rust-body");
    let recording = dir.join("body.replay");
    let lines = record_then_replay(&recording, |_| labels(2));
    assert_eq!(lines.len(), 2, "{lines:?}");
}
