//! Panics in odd places (found by the review of issue 10): inside recorded
//! calls made in callbacks, in a user's `Serialize` and `Drop`, in a
//! callback only in replay, and sessions ended inside calls after one.

use std::cell::{Cell, RefCell};
use std::ffi::c_char;
use std::panic::{AssertUnwindSafe, catch_unwind};

use replay_runtime::inspect::Inspection;
use replay_runtime::{Context, ContextPtr, Session, deterministic};
use replay_tests::recording_files as rf;
use replay_tests::{panic_message, rt_now_nanos, scratch_dir, write_file};
use serde::{Deserialize, Serialize};

thread_local! {
    /// What the callback `item` does: 0 returns 0; 1 panics; 2 catches a
    /// panicking recorded call, then ends the session from inside a
    /// recorded call.
    static ITEM: Cell<u8> = const { Cell::new(0) };
    /// The session `end_here` finishes, and what its `finish` said.
    static SESSION: RefCell<Option<Session>> = const { RefCell::new(None) };
    static FINISHED: RefCell<Option<String>> = const { RefCell::new(None) };
    /// `Made`'s `Serialize` panics.
    static SERIALIZE_PANICS: Cell<bool> = const { Cell::new(false) };
}

#[deterministic]
fn boom(x: u32) -> u32 {
    panic!("boom {x}")
}

/// Finishes this thread's session, from inside a recorded call.
#[deterministic]
fn end_here() -> u32 {
    let session = SESSION.with(|s| s.borrow_mut().take()).expect("a session");
    let said = match session.finish() {
        Ok(_) => "Ok".to_owned(),
        Err(e) => format!("Err({e})"),
    };
    FINISHED.with(|f| *f.borrow_mut() = Some(said));
    7
}

#[deterministic(callback)]
extern "C" fn item(_ctx: ContextPtr, i: i32, _label: *const c_char) -> i32 {
    match ITEM.get() {
        1 => panic!("the callback panics at item {i}"),
        2 => {
            let _ = catch_unwind(|| boom(1));
            end_here();
            0
        }
        _ => 0,
    }
}

#[deterministic]
unsafe extern "C" {
    fn rt_each(
        n: i32,
        cb: Option<unsafe extern "C" fn(ContextPtr, i32, *const c_char) -> i32>,
        ctx: ContextPtr,
    ) -> i32;
}

/// `rt_each`'s result, whose `Serialize` panics on demand (a user type
/// with a hand-written impl that has a bug).
#[repr(transparent)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
struct Made(i32);

impl Serialize for Made {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if SERIALIZE_PANICS.get() {
            panic!("Made cannot be serialized");
        }
        s.serialize_i32(self.0)
    }
}

mod made {
    use super::*;
    #[deterministic]
    unsafe extern "C" {
        #[allow(clashing_extern_declarations)]
        pub fn rt_each(
            n: i32,
            cb: Option<unsafe extern "C" fn(ContextPtr, i32, *const c_char) -> i32>,
            ctx: ContextPtr,
        ) -> Made;
    }
}

fn each(n: i32) -> i32 {
    let ctx = Context::new(());
    // SAFETY: `item` matches the C type; `ctx` outlives the call.
    unsafe { rt_each(n, Some(item), ctx.ptr()) }
}

fn made_each(n: i32) -> Made {
    let ctx = Context::new(());
    // SAFETY: as in `each`.
    unsafe { made::rt_each(n, Some(item), ctx.ptr()) }
}

/// reliability.md: "the session finished from inside one of its own calls
/// | everything before that call, with an end marker". A callback first
/// catches a panicking recorded call, then ends the session from a recorded
/// call. `StreamWriter::outermost_open` (writer.rs) treats the `Panicked`
/// event as closing only the innermost open call, so the foreign call and
/// its callback are known to be still open and are cut, the end marker
/// follows what came before them, and the recording left at the path
/// passes validation.
#[test]
fn a_session_ended_in_a_callback_after_a_caught_panic_leaves_a_readable_recording() {
    let dir = scratch_dir("review-end-after-panic-in-callback");
    let path = dir.join("end.replay");
    let session = Session::record(&path).expect("record");
    rt_now_nanos();
    SESSION.with(|s| *s.borrow_mut() = Some(session));
    ITEM.set(2);
    each(1);
    ITEM.set(0);
    let said = FINISHED.with(|f| f.borrow_mut().take());
    assert!(
        said.as_deref().is_some_and(|s| s.starts_with("Err")),
        "finish inside a call: {said:?}"
    );
    // What came before the call (the clock) must be kept, readable.
    let opened = Session::replay(&path).map(drop);
    assert!(
        opened.is_ok(),
        "the recording a session ended inside a call left is unreadable: {:?}",
        opened.err().map(|e| e.to_string())
    );
}

/// A panic in the `Serialize` of the result of a foreign call that called
/// back: `StreamWriter::close_nested` (nesting.rs) cuts only the results
/// and leaves the call open, so its `RecordGuard` records it as panicked
/// when the panic leaves it. The stream stays well nested, `finish` returns
/// `Ok`, and `Session::replay` accepts the recording, as format.md promises:
/// "A recording that finishes without error is always readable".
#[test]
fn a_panic_serializing_the_result_of_a_call_that_called_back_is_recorded() {
    let dir = scratch_dir("review-serialize-panic-nested");
    let path = dir.join("made.replay");
    let session = Session::record(&path).expect("record");
    SERIALIZE_PANICS.set(true);
    let caught = catch_unwind(|| made_each(1));
    SERIALIZE_PANICS.set(false);
    assert!(caught.is_err());
    rt_now_nanos();
    let finished = session.finish();
    assert!(finished.is_ok(), "{finished:?}");
    let opened = Session::replay(&path).map(drop);
    assert!(
        opened.is_ok(),
        "finish returned Ok but the recording is unreadable: {:?}",
        opened.err().map(|e| e.to_string())
    );
}

/// The same panic in a call without callbacks: `StreamWriter::end_call`
/// cuts only the results and leaves the call open, so its guard records it
/// as panicked with the `Serialize` panic's message (reliability.md: "a
/// panic inside a recorded call ... the call, recorded as panicked").
/// Replay then raises the same panic at that call, and the calls after it
/// stay in step.
#[test]
fn a_panic_serializing_a_result_is_recorded_as_the_calls_panic() {
    let dir = scratch_dir("review-serialize-panic-plain");
    let path = dir.join("made-plain.replay");
    let session = Session::record(&path).expect("record");
    SERIALIZE_PANICS.set(true);
    let recorded = catch_unwind(|| made_each(0)).map_err(|p| panic_message(&*p));
    SERIALIZE_PANICS.set(false);
    let now = rt_now_nanos();
    session.finish().expect("finish");
    assert!(recorded.is_err());

    let session = Session::replay(&path).expect("replay");
    let replayed = catch_unwind(|| made_each(0)).map_err(|p| panic_message(&*p));
    let after = catch_unwind(rt_now_nanos).map_err(|p| panic_message(&*p));
    let finished = session.finish().map(|_| ()).map_err(|e| e.to_string());
    assert_eq!(
        replayed, recorded,
        "the call replays to the panic it made when recorded"
    );
    assert_eq!(after, Ok(now), "the call after it replays");
    assert_eq!(finished, Ok(()));
}

/// An argument whose `Drop` panics: when recorded, it is dropped inside the
/// real function, so the call is recorded as panicked. In replay the
/// wrapper drops it in `Call::run` (entry.rs) before the call's recorded
/// ending is read, so the `Drop` panic is caught until that `Panicked`
/// event is consumed, then raised. The next call finds its own event, as
/// reliability.md promises: a program that catches the panic and goes on
/// replays too.
#[test]
fn a_panicking_drop_of_an_argument_keeps_the_calls_after_it_in_step() {
    struct Bomb(u64);
    impl Serialize for Bomb {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_u64(self.0)
        }
    }
    impl Drop for Bomb {
        fn drop(&mut self) {
            if !std::thread::panicking() {
                panic!("bomb {} went off", self.0);
            }
        }
    }
    #[deterministic]
    fn consume(b: Bomb) -> u64 {
        b.0 + 1
    }

    let dir = scratch_dir("review-drop-panics");
    let path = dir.join("drop.replay");
    let session = Session::record(&path).expect("record");
    let recorded = catch_unwind(|| consume(Bomb(5))).map_err(|p| panic_message(&*p));
    let now = rt_now_nanos();
    session.finish().expect("finish");
    assert_eq!(recorded, Err("bomb 5 went off".to_owned()));

    let session = Session::replay(&path).expect("replay");
    let replayed = catch_unwind(|| consume(Bomb(5))).map_err(|p| panic_message(&*p));
    let after = catch_unwind(rt_now_nanos).map_err(|p| panic_message(&*p));
    let finished = session.finish().map(|_| ()).map_err(|e| e.to_string());
    assert_eq!(replayed, recorded);
    assert_eq!(after, Ok(now), "the call after the caught panic replays");
    assert_eq!(finished, Ok(()));
}

/// A callback that did not panic when recorded panics in replay: the run
/// differs from the recording, so `Cursor::callback_panicked`
/// (cursor/nested.rs), finding a recorded `Returned` event where the
/// callback now panics, reports a divergence, and the panic raised at the
/// foreign call is a `replay diverged` report rather than the program's
/// own panic passing silently for the recorded return.
#[test]
fn a_callback_that_panics_only_in_replay_is_a_divergence() {
    let dir = scratch_dir("review-callback-panics-in-replay");
    let path = dir.join("cb.replay");
    let session = Session::record(&path).expect("record");
    ITEM.set(0);
    let recorded = each(2);
    let now = rt_now_nanos();
    session.finish().expect("finish");

    let session = Session::replay(&path).expect("replay");
    ITEM.set(1);
    let replayed = catch_unwind(|| each(2)).map_err(|p| panic_message(&*p));
    ITEM.set(0);
    let after = catch_unwind(rt_now_nanos).map_err(|p| panic_message(&*p));
    let finished = session.finish().map(|_| ()).map_err(|e| e.to_string());
    eprintln!("recorded {recorded}, now {now}");
    eprintln!("replayed: {replayed:?}\nafter: {after:?}\nfinish: {finished:?}");
    let message = replayed.expect_err("the callback panics");
    assert!(
        message.starts_with("replay diverged"),
        "the replay differs from the recording (the callback returned 0 when recorded, \
         panics now), but the panic raised is the program's own: {message:?}; \
         the next call: {after:?}; finish: {finished:?}"
    );
}

/// A version 2 file holding a panic event is refused, while the same
/// events under version 3 read: panic events exist from format version 3
/// on (format.md, "Panics").
#[test]
fn a_version_2_file_with_a_panic_event_is_refused() {
    let dir = scratch_dir("review-v2-panic");
    let mut events = rf::define(0, "f", "fn()");
    // Open call: head (9 << 2 | 3), site 0, not digested, empty args.
    events.extend_from_slice(&[9 << 2 | 3, 0, 0, 0]);
    // Panicked: head (13 << 2 | 3), message "x".
    events.extend_from_slice(&[13 << 2 | 3, 1, b'x']);
    events.push(rf::END);
    let mut meta = Vec::new();
    for b in [&b"replay-runtime 0.1.0"[..], b"replay-tests"] {
        rf::varint(&mut meta, b.len() as u64);
        meta.extend_from_slice(b);
    }
    rf::varint(&mut meta, 42);
    let v3 = [rf::header_with(3, &meta), rf::chunk(0, &events)].concat();
    let v2 = [rf::header_with(2, &meta), rf::chunk(0, &events)].concat();
    let ok = write_file(&dir, "v3.replay", v3);
    let bad = write_file(&dir, "v2.replay", v2);
    Inspection::open(&ok).expect("version 3 reads");
    let err = Inspection::open(&bad).err().expect("version 2 refused");
    replay_tests::assert_contains!(err.to_string(), "version");
}

/// A panic caught inside the body of a recorded call is not recorded as
/// the call's panic: the call completes and replays with its result, so
/// the panic hook's work for a panic that never leaves the call changes
/// nothing.
#[test]
fn a_panic_caught_inside_a_call_body_is_not_recorded() {
    #[deterministic]
    fn resilient(x: u64) -> u64 {
        let inner = catch_unwind(|| {
            if x > 0 {
                panic!("inner");
            }
            0
        });
        x + u64::from(inner.is_err())
    }
    let dir = scratch_dir("review-caught-inside");
    let path = dir.join("inside.replay");
    replay_tests::record_then_replay(&path, |_| {
        let now = rt_now_nanos();
        (resilient(now), rt_now_nanos())
    });
}

/// A panic inside a callback, uncaught there, panics at the foreign call
/// when recorded and again in replay, with the same message, and the calls
/// after it stay in step (reliability.md: "a panic in a callback | the
/// foreign call that invoked it, recorded as panicked").
#[test]
fn a_panic_in_a_call_inside_a_callback_replays() {
    let dir = scratch_dir("review-panic-in-callback-call");
    let path = dir.join("cbcall.replay");
    let session = Session::record(&path).expect("record");
    ITEM.set(1);
    let recorded = catch_unwind(AssertUnwindSafe(|| each(2))).map_err(|p| panic_message(&*p));
    ITEM.set(0);
    let now = rt_now_nanos();
    session.finish().expect("finish");
    let session = Session::replay(&path).expect("replay");
    ITEM.set(1);
    let replayed = catch_unwind(AssertUnwindSafe(|| each(2))).map_err(|p| panic_message(&*p));
    ITEM.set(0);
    assert_eq!(rt_now_nanos(), now);
    session.finish().expect("finish");
    assert_eq!(replayed, recorded);
}

/// reliability.md: "A panic hook installed after the session that does not
/// call the previous one hides the panic's message: the call is then
/// recorded with a message saying so." Replay's panic hook keeps a message
/// only while a recorded call is open, so an earlier panic outside any call
/// (caught, its message never taken) is never recorded as the message of a
/// later call's panic, and replay never raises the wrong message. In a
/// child: panic hooks are per process.
#[test]
fn a_stale_panic_message_is_never_recorded_for_a_later_panic() {
    const TEST: &str = "a_stale_panic_message_is_never_recorded_for_a_later_panic";
    if let Some(dir) = replay_tests::child_dir() {
        let path = dir.join("stale.replay");
        let session = Session::record(&path).expect("record");
        let _ = catch_unwind(|| panic!("an old panic, outside any call"));
        std::panic::set_hook(Box::new(|_| {}));
        let _ = catch_unwind(|| boom(2));
        session.finish().expect("finish");
        let messages: Vec<String> = Inspection::open(&path)
            .expect("open")
            .events(0)
            .expect("events")
            .into_iter()
            .filter_map(|e| match e {
                replay_runtime::inspect::Entry::Panicked { message, .. } => Some(message),
                _ => None,
            })
            .collect();
        println!("RECORDED: {messages:?}");
        return;
    }
    let dir = scratch_dir("review-stale-message");
    let out = replay_tests::child(TEST, &dir, &[]);
    replay_tests::assert_success(&out);
    let stdout = replay_tests::stdout(&out);
    replay_tests::assert_contains!(stdout, "RECORDED:");
    assert!(
        !stdout.contains("an old panic"),
        "the call `boom(2)` is recorded as panicking with another panic's message: {stdout}"
    );
}
