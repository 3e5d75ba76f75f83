//! Regressions found in review: programs that misuse or stress the runtime
//! get an error or a report, never memory unsafety or a corrupt file.

#![deny(warnings)]

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};

use replay_runtime::{Context, Error, Session, deterministic, mapped};
use replay_tests::{record_then_replay, scratch_dir};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Holds a session inside an out-parameter, so that writing the recorded
/// value back drops the session in the middle of its own call.
struct Holder(#[allow(dead_code)] Option<Session>, u32);

impl Serialize for Holder {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.1.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Holder {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Holder(None, u32::deserialize(d)?))
    }
}

#[deterministic]
fn fill(out: &mut Holder, after: &mut Vec<u8>) {
    out.1 = 7;
    *after = vec![1; 100];
}

#[test]
fn ending_a_session_inside_its_own_call_is_safe() {
    let dir = scratch_dir("robust-busy");
    let recording = dir.join("busy.replay");
    let session = Session::record(&recording).expect("start recording");
    fill(&mut Holder(None, 0), &mut Vec::new());
    session.finish().expect("finish recording");

    let session = Session::replay(&recording).expect("start replaying");
    let mut holder = Holder(Some(session), 0);
    let mut after = Vec::new();
    // Writing `holder` back drops the session it held, mid-call.
    fill(&mut holder, &mut after);
    assert_eq!((holder.1, after.len()), (7, 100));
    // The next session on this thread starts cleanly.
    let again = Session::replay(&recording).expect("start replaying again");
    fill(&mut Holder(None, 0), &mut Vec::new());
    again.finish().expect("replay consumed everything");
}

thread_local!(static RELEASED: Cell<u32> = const { Cell::new(0) });

/// A handle type whose real values include a placeholder's bit pattern.
#[mapped(drop = Id::release)]
struct Id(u32);

impl Id {
    fn release(&mut self) {
        RELEASED.with(|c| c.set(c.get() + 1));
    }
}

#[deterministic]
fn make_id(v: u32) -> Id {
    Id(v)
}

#[test]
fn real_handles_that_look_like_placeholders_are_released() {
    RELEASED.with(|c| c.set(0));
    drop(Id(5));
    drop(Id(0x8000_0005));
    assert_eq!(
        RELEASED.with(Cell::get),
        2,
        "off mode releases every real handle"
    );

    let dir = scratch_dir("robust-lookalike");
    let session = Session::record(dir.join("ids.replay")).expect("start recording");
    let id = make_id(0x8000_0001);
    drop(id);
    session.finish().expect("finish recording");
    assert_eq!(
        RELEASED.with(Cell::get),
        3,
        "the recorded handle is released too"
    );
}

/// Fails to serialize 0, after writing part of its encoding.
struct Touchy(u32);

impl Serialize for Touchy {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeTuple;
        let mut t = s.serialize_tuple(2)?;
        t.serialize_element(&300u32)?;
        if self.0 == 0 {
            panic!("cannot serialize 0");
        }
        t.serialize_element(&self.0)?;
        t.end()
    }
}

#[deterministic]
fn touchy(t: &Touchy) -> u32 {
    t.0
}

#[deterministic]
fn echo(n: u32) -> u32 {
    n
}

fn caught_panic_then_calls() -> u32 {
    let _ = catch_unwind(|| touchy(&Touchy(0)));
    echo(5) + echo(6)
}

#[test]
fn a_panic_in_serialize_leaves_no_half_event_behind() {
    let dir = scratch_dir("robust-partial");
    let recording = dir.join("partial.replay");
    let returned = record_then_replay(&recording, |_| caught_panic_then_calls());
    assert_eq!(returned, 11);
}

/// A handle to memory: a placeholder of it must never be dereferenced.
#[mapped]
struct Slot(*mut u64);

#[deterministic]
fn new_slot() -> Slot {
    Slot(Box::into_raw(Box::new(40)))
}

#[deterministic(path = name)]
fn read_slot(slot: &Slot, name: &str) -> u64 {
    // SAFETY: a live slot points at a leaked box.
    unsafe { *slot.0 + name.len() as u64 }
}

#[test]
fn a_live_path_does_not_make_a_call_with_a_placeholder_run_for_real() {
    let dir = scratch_dir("robust-placeholder");
    let recording = dir.join("slot.replay");
    let session = Session::record(&recording).expect("start recording");
    let slot = new_slot();
    let recorded = read_slot(&slot, "assets/a");
    drop(slot);
    session.finish().expect("finish recording");
    assert_eq!(recorded, 48);

    let session = Session::replay(&recording)
        .expect("start replaying")
        .with_live_files(["assets/**"]);
    let slot = new_slot();
    // The path is live, but the handle has no real value: from the recording.
    assert_eq!(read_slot(&slot, "assets/a"), recorded);
    drop(slot);
    session.finish().expect("replay consumed everything");
}

#[test]
fn contexts_of_zero_sized_types_get_slots_of_their_own() {
    let dir = scratch_dir("robust-zst");
    let session = Session::record(dir.join("zst.replay")).expect("start recording");
    let a = Context::new(());
    let b = Context::new(());
    assert_eq!(
        (format!("{:?}", a.ptr()), format!("{:?}", b.ptr())),
        ("ContextPtr(#0.0)".into(), "ContextPtr(#1.0)".into())
    );
    drop(b);
    assert_eq!(format!("{:?}", a.ptr()), "ContextPtr(#0.0)");
    drop(a);
    let c = Context::new(0u8);
    assert_eq!(
        format!("{:?}", c.ptr()),
        "ContextPtr(#0.1)",
        "slot 0 was freed"
    );
    drop(c);
    session.finish().expect("finish");
}

// Extern declarations the wrapper must carry over: `cfg`, CamelCase names.
#[deterministic]
unsafe extern "C" {
    #[link_name = "getpid"]
    safe fn GetPid() -> i32;
    #[cfg(target_os = "windows")]
    safe fn GetCurrentProcessId() -> u32;
}

/// A callback C could call: no `#[track_caller]` for the C ABI.
#[deterministic]
extern "C" fn on_event(code: i32) -> i32 {
    code + GetPid() % 2
}

#[test]
fn cfg_camel_case_and_c_abi_functions_compile_and_replay() {
    let dir = scratch_dir("robust-abi");
    let recording = dir.join("abi.replay");
    record_then_replay(&recording, |_| (GetPid(), on_event(1)));
}

#[test]
fn finishing_a_replay_that_diverged_still_reports_it() {
    let dir = scratch_dir("robust-diverged");
    let recording = dir.join("d.replay");
    let session = Session::record(&recording).expect("start recording");
    echo(1);
    session.finish().expect("finish recording");
    let session = Session::replay(&recording).expect("start replaying");
    assert!(catch_unwind(AssertUnwindSafe(|| echo(2))).is_err());
    assert!(matches!(session.finish(), Err(Error::Diverged { .. })));
}
