//! What happens inside a recorded call stays inside it: sessions started
//! or ended there, handles and contexts made or consumed there, identities
//! numbered there, arguments dropped there. Replay does not run that code,
//! so none of it may shift what the program sees outside the call.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};

use replay_runtime::identity::{Identified, Identity};
use replay_runtime::{
    Context, ContextPtr, Mode, Session, assume_deterministic, current_mode, deterministic, mapped,
};
use replay_tests::{catch_panic, expect_panic, record_then_replay, scratch_dir};
use serde::Serialize;

thread_local! {
    static HELD: RefCell<Option<Session>> = const { RefCell::new(None) };
}

#[deterministic]
fn plain(x: u32) -> u32 {
    x + 1
}

fn finish_held() {
    let session = HELD
        .with(|h| h.borrow_mut().take())
        .expect("a held session");
    session.finish().expect("the held session finishes");
}

fn finishing_stand_in() -> u32 {
    finish_held();
    5
}

#[deterministic(replay_with = finishing_stand_in)]
fn swapped() -> u32 {
    5
}

#[test]
fn a_session_finished_inside_a_live_call_leaves_the_thread_off() {
    let recording = scratch_dir("inside-stand-in").join("s.replay");
    let session = Session::record(&recording).expect("start recording");
    swapped();
    session.finish().expect("finish recording");

    HELD.with(|h| *h.borrow_mut() = Some(Session::replay(&recording).expect("start replaying")));
    swapped();
    assert_eq!(current_mode(), Mode::Off);
    // No session: wrappers call straight through, without panicking.
    assert_eq!(plain(1), 2);
}

#[assume_deterministic]
fn start_recording(path: &std::path::Path) {
    HELD.with(|h| *h.borrow_mut() = Some(Session::record(path).expect("start recording")));
}

#[test]
fn a_session_started_inside_an_assumed_call_records() {
    let recording = scratch_dir("inside-assumed").join("a.replay");
    start_recording(&recording);
    assert_eq!(current_mode(), Mode::Record);
    plain(1);
    plain(2);
    let session = HELD.with(|h| h.borrow_mut().take()).expect("the session");
    assert_eq!(session.finish().expect("finish").calls, 2);
}

static NEXT: AtomicU64 = AtomicU64::new(100);

#[mapped]
pub struct Tok(u64);

#[deterministic]
fn make() -> Tok {
    Tok(NEXT.fetch_add(1, Ordering::Relaxed))
}

/// Consumes a handle and returns a new one, as a reopen does.
#[deterministic]
fn remake(t: Tok) -> Tok {
    drop(t);
    Tok(NEXT.fetch_add(1, Ordering::Relaxed))
}

#[deterministic]
fn use_tok(t: &Tok) -> u64 {
    t.0
}

impl Tok {
    /// A builder-style method on a mapped type.
    #[deterministic]
    fn renew(self) -> Tok {
        drop(self);
        Tok(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

#[test]
fn a_handle_consumed_by_a_call_frees_its_slot_before_the_result_takes_it() {
    let dir = scratch_dir("inside-consumed");
    record_then_replay(&dir.join("consume.replay"), |_| {
        let b = remake(make());
        (format!("{b:?}"), use_tok(&b))
    });
    record_then_replay(&dir.join("renew.replay"), |_| {
        let b = make().renew();
        (format!("{b:?}"), use_tok(&b))
    });
}

/// Hands a context out for the call's duration only, as a callback API does.
#[deterministic]
fn with_scratch_context(x: u32) -> u32 {
    let context = Context::new(x);
    *context + 1
}

#[deterministic]
fn takes_context(_p: ContextPtr) -> u32 {
    7
}

#[test]
fn a_context_made_inside_a_call_does_not_shift_the_slots_outside() {
    let recording = scratch_dir("inside-context").join("c.replay");
    record_then_replay(&recording, |_| {
        let inside = with_scratch_context(1);
        let context = Context::new(5u32);
        (inside, takes_context(context.ptr()))
    });
}

#[deterministic]
fn numbers_inside(x: u32) -> u32 {
    let scratch = Identified::new(x);
    *scratch
}

#[test]
fn identities_made_inside_a_call_do_not_shift_the_numbering_outside() {
    let recording = scratch_dir("inside-identity").join("i.replay");
    record_then_replay(&recording, |_| {
        numbers_inside(1);
        Identity::next()
    });
}

/// A value whose `Drop` makes a boundary call of its own.
struct Guarded(u32);

impl Serialize for Guarded {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl Drop for Guarded {
    fn drop(&mut self) {
        plain(self.0);
    }
}

#[deterministic]
fn consume(g: Guarded) -> u32 {
    g.0
}

#[test]
fn an_arguments_drop_that_makes_a_call_is_checked_in_replay_never_made_for_real() {
    // Recording: the body drops the argument, and its call is part of the
    // recorded call. Replay: the body does not run; the argument is dropped
    // still replaying, so its call is checked against the recording (where
    // it is not) instead of being made for real, perhaps with placeholder
    // handles.
    let recording = scratch_dir("inside-drop").join("d.replay");
    let session = Session::record(&recording).expect("start recording");
    assert_eq!((consume(Guarded(5)), plain(1)), (5, 2));
    session.finish().expect("finish recording");
    let session = Session::replay(&recording).expect("start replaying");
    let message = expect_panic("the drop's call is not recorded", || consume(Guarded(5)));
    replay_tests::assert_contains!(message, "argument 1 (`x`) of `inside_calls::plain` differs");
    assert!(session.finish().is_err());
}

pub struct Counter {
    count: u32,
}

impl Counter {
    /// Mutates through `&mut self`: the wrapper must let it.
    #[deterministic]
    fn bump(&mut self, by: u32) -> u32 {
        self.count += by;
        self.count
    }
}

#[test]
fn a_method_mutating_self_compiles_and_records() {
    let recording = scratch_dir("inside-mut-self").join("m.replay");
    record_then_replay(&recording, |mode| {
        let mut counter = Counter { count: 1 };
        let returned = counter.bump(2);
        // In replay the body does not run: `self` keeps its value.
        let expected = if mode == Mode::Record { 3 } else { 1 };
        assert_eq!(counter.count, expected);
        returned
    });
}

fn handle_stand_in() -> Option<Tok> {
    Some(Tok(5))
}

#[deterministic(replay_with = handle_stand_in)]
fn get_tok() -> Option<Tok> {
    None
}

#[test]
fn a_live_call_whose_handles_do_not_bind_is_reported_as_its_own_call() {
    let recording = scratch_dir("inside-bind").join("b.replay");
    let session = Session::record(&recording).expect("start recording");
    get_tok();
    session.finish().expect("finish recording");
    let session = Session::replay(&recording).expect("start replaying");
    let (message, _) = catch_panic(get_tok);
    assert!(
        message.starts_with("replay diverged at call #1 "),
        "{message}"
    );
    assert!(session.finish().is_err());
}

#[test]
fn a_fixed_output_buffer_that_was_null_when_recording_diverges() {
    use replay_tests::libc_calls::time;
    let recording = scratch_dir("inside-time").join("t.replay");
    let session = Session::record(&recording).expect("start recording");
    // SAFETY: time(NULL) is allowed.
    unsafe { time(std::ptr::null_mut()) };
    session.finish().expect("finish recording");

    let session = Session::replay(&recording).expect("start replaying");
    let mut t: libc::time_t = -1;
    // SAFETY: a valid time_t.
    let message = expect_panic("the buffer cannot be filled", || unsafe { time(&mut t) });
    replay_tests::assert_contains!(
        message,
        "the recorded buffer holds 0 bytes but the buffer passed now holds 8"
    );
    assert!(session.finish().is_err());
}
