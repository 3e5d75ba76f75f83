//! What the edge-case tests of `patched` and `REPLAY_BREAK` share
//! (`versioning_edges.rs`, `breakpoint_edges.rs`): reading markers and
//! numbers back, a child run stopped by `REPLAY_BREAK`, and a C call that
//! calls back into a callback that may ask `patched`.

#![allow(dead_code)]

use std::cell::{Cell, RefCell};
use std::ffi::{CStr, c_char};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use replay_runtime::inspect::{Entry, Inspection};
use replay_runtime::{Context, ContextPtr, deterministic};
use replay_tests::greet;

/// The patch names of the markers on `thread` of `recording`.
pub fn markers(recording: &Path, thread: u32) -> Vec<String> {
    Inspection::open(recording)
        .expect("open")
        .events(thread)
        .expect("events")
        .iter()
        .filter_map(Entry::patch)
        .collect()
}

/// `(number, function)` of every call on `thread`, as `replay dump` numbers them.
pub fn numbered(recording: &Path, thread: u32) -> Vec<(u64, String)> {
    Inspection::open(recording)
        .expect("open")
        .events(thread)
        .expect("events")
        .iter()
        .filter_map(|e| match e {
            Entry::Call {
                number, function, ..
            } => Some((*number, function.to_string())),
            _ => None,
        })
        .collect()
}

/// Runs `test` of this binary again as a child with `REPLAY_BREAK=breaks`
/// and the scratch dir `dir`; reads its standard error up to "waiting for
/// a debugger" (or its exit, or 30 s), kills it, and returns what it
/// wrote there and whether it was still waiting.
pub fn child_stops(test: &str, dir: &Path, breaks: &str) -> (String, bool) {
    let mut child = std::process::Command::new(std::env::current_exe().expect("exe"))
        .args(["--exact", test, "--nocapture", "--test-threads", "1"])
        .env(replay_tests::CHILD_VAR, dir)
        .env("RUST_BACKTRACE", "0")
        .env("REPLAY_BREAK", breaks)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the child");
    let seen = replay_tests::stderr_until(
        &mut child,
        "waiting for a debugger",
        Duration::from_secs(30),
    )
    .unwrap_or_default();
    let waiting = child.try_wait().expect("poll").is_none();
    let _ = child.kill();
    let _ = child.wait();
    (seen, waiting)
}

thread_local! {
    /// Whether the callback asks `patched` (changed between record and replay).
    pub static CALLBACK_ASKS: Cell<bool> = const { Cell::new(true) };
    pub static CALLBACK_ANSWERS: RefCell<Vec<bool>> = const { RefCell::new(Vec::new()) };
}

#[deterministic(callback)]
extern "C" fn asking_item(_ctx: ContextPtr, i: i32, label: *const c_char) -> i32 {
    // SAFETY: C passes a NUL-terminated label.
    let label = unsafe { CStr::from_ptr(label) }
        .to_string_lossy()
        .into_owned();
    if CALLBACK_ASKS.get() {
        let answer = replay_runtime::patched("in-callback");
        CALLBACK_ANSWERS.with(|a| a.borrow_mut().push(answer));
    }
    greet(&format!("{i}{label}"));
    0
}

#[deterministic]
unsafe extern "C" {
    fn rt_each(
        n: i32,
        cb: Option<unsafe extern "C" fn(ContextPtr, i32, *const c_char) -> i32>,
        ctx: ContextPtr,
    ) -> i32;
}

pub fn each(n: i32) -> (i32, Vec<bool>) {
    CALLBACK_ANSWERS.with(|a| a.borrow_mut().clear());
    let ctx = Context::new(());
    // SAFETY: `ctx` outlives the call; the callback matches the C type.
    let made = unsafe { rt_each(n, Some(asking_item), ctx.ptr()) };
    (made, CALLBACK_ANSWERS.with(|a| a.borrow().clone()))
}
