//! `#[mapped]` handles: descriptors cross recorded calls as slots of the
//! object index map, never as raw numbers.

use std::panic::{AssertUnwindSafe, catch_unwind};

use replay_runtime::{Mapped, Session};
use replay_tests::files::{self, Fd};
use replay_tests::{assert_contains, expect_panic, path_str, scratch_dir, write_file};

/// Opens two files, closes the first, opens a third (the OS reuses the
/// first descriptor number), and reads from each.
fn program(a: &str, b: &str, c: &str) -> Vec<(String, Vec<u8>)> {
    let first = files::open(a).expect("open a");
    let second = files::open(b).expect("open b");
    let mut seen = vec![
        (format!("{first:?}"), files::read(&first, 64)),
        (format!("{second:?}"), files::read(&second, 64)),
    ];
    files::close(first);
    let third = files::open(c).expect("open c");
    seen.push((format!("{third:?}"), files::read(&third, 64)));
    seen
}

#[test]
fn handles_are_recorded_as_slots_with_generations() {
    let dir = scratch_dir("handles-slots");
    let (a, b, c) = (
        write_file(&dir, "a", "alpha"),
        write_file(&dir, "b", "beta"),
        write_file(&dir, "c", "gamma"),
    );
    let (a, b, c) = (path_str(&a), path_str(&b), path_str(&c));
    let recording = dir.join("files.replay");

    let session = Session::record(&recording).expect("start recording");
    let recorded = program(a, b, c);
    session.finish().expect("finish recording");
    assert_eq!(recorded[0], ("Fd #0.0".to_owned(), b"alpha".to_vec()));
    assert_eq!(recorded[1], ("Fd #1.0".to_owned(), b"beta".to_vec()));
    // The freed slot 0 is reused, one generation on.
    assert_eq!(recorded[2], ("Fd #0.1".to_owned(), b"gamma".to_vec()));

    // The files change and disappear: replay needs none of them.
    for path in [&a, &b, &c] {
        std::fs::remove_file(path).expect("remove");
    }
    let session = Session::replay(&recording).expect("start replaying");
    let replayed = program(a, b, c);
    session.finish().expect("replay consumed everything");
    assert_eq!(replayed, recorded);
}

#[test]
fn replay_does_not_care_about_descriptor_numbers() {
    let dir = scratch_dir("handles-numbers");
    let a = write_file(&dir, "a", "alpha");
    let a = path_str(&a);
    let recording = dir.join("numbers.replay");
    let session = Session::record(&recording).expect("start recording");
    let fd = files::open(a).expect("open");
    let real = fd.raw_fd();
    let recorded = files::read(&fd, 16);
    drop(fd);
    session.finish().expect("finish recording");
    assert!(real >= 0);

    // Hold descriptors open so that the numbers would all shift.
    let _held: Vec<_> = (0..5)
        .map(|_| std::fs::File::open(a).expect("open"))
        .collect();
    let session = Session::replay(&recording).expect("start replaying");
    let fd = files::open(a).expect("open");
    assert!(
        fd.raw_fd() < 0,
        "replay hands out a placeholder, not a descriptor"
    );
    assert_eq!(files::read(&fd, 16), recorded);
    drop(fd);
    session.finish().expect("replay consumed everything");
}

#[test]
fn a_stale_handle_diverges_naming_it() {
    let dir = scratch_dir("handles-stale");
    let (a, b) = (
        write_file(&dir, "a", "alpha"),
        write_file(&dir, "b", "beta"),
    );
    let (a, b) = (path_str(&a), path_str(&b));
    let recording = dir.join("stale.replay");
    let session = Session::record(&recording).expect("start recording");
    let first = files::open(a).expect("open a");
    files::close(first);
    let second = files::open(b).expect("open b");
    files::read(&second, 8);
    drop(second);
    session.finish().expect("finish recording");

    // The replayed program keeps a copy of the first descriptor and reads
    // through it after closing: a use-after-close bug.
    let session = Session::replay(&recording).expect("start replaying");
    let first = files::open(a).expect("open a");
    let kept = first.raw();
    files::close(first);
    let _second = files::open(b).expect("open b");
    let stale = std::mem::ManuallyDrop::new(Fd::from_raw(kept));
    let message = expect_panic("a stale handle must diverge", || files::read(&stale, 8));
    assert!(
        message.starts_with("replay diverged at call #4 on thread 0"),
        "{message}"
    );
    assert_contains!(
        message,
        "a handle passed to `replay_tests::files::read` is not valid"
    );
    assert_contains!(message, "stale Fd #0.0 (the slot now holds generation 1)");
    drop(_second);
    assert!(session.finish().is_err());
}

#[test]
fn an_unknown_handle_is_refused_in_both_modes() {
    let dir = scratch_dir("handles-unknown");
    let recording = dir.join("unknown.replay");
    let stdin = std::mem::ManuallyDrop::new(Fd::from_raw(0));

    let session = Session::record(&recording).expect("start recording");
    let line = line!() + 1;
    let (message, at) = replay_tests::catch_panic(|| files::read(&stdin, 8));
    // The panic points at the call, not into the runtime.
    assert!(at.starts_with(&format!("{}:{line}:", file!())), "{at}");
    assert_contains!(message, "unknown Fd (not returned by a recorded call)");
    assert_contains!(message, "must come from a #[deterministic] call");
    // What is wrong and how to fix it, not how the encoder failed.
    assert!(
        message.starts_with("replay cannot record a call to `replay_tests::files::read`"),
        "{message}"
    );
    assert!(!message.contains("postcard"), "{message}");
    assert!(!message.contains("serialize_any"), "{message}");
    session.finish().expect("nothing was recorded");

    let a = write_file(&dir, "a", "alpha");
    let a = path_str(&a);
    let session = Session::record(&recording).expect("start recording");
    let fd = files::open(a).expect("open");
    files::read(&fd, 8);
    drop(fd);
    session.finish().expect("finish recording");
    let session = Session::replay(&recording).expect("start replaying");
    let fd = files::open(a).expect("open");
    let message = expect_panic("an unknown handle must diverge", || files::read(&stdin, 8));
    assert_contains!(message, "unknown Fd (not returned by a recorded call)");
    drop(fd);
    assert!(session.finish().is_err());
}

#[test]
fn dropping_a_real_handle_runs_its_drop_and_a_placeholder_does_not() {
    let dir = scratch_dir("handles-drop");
    let a = write_file(&dir, "a", "alpha");
    let a = path_str(&a);
    let recording = dir.join("drop.replay");
    let session = Session::record(&recording).expect("start recording");
    let fd = files::open(a).expect("open");
    let raw = fd.raw_fd();
    drop(fd);
    // SAFETY: probing whether the descriptor is still open.
    assert_eq!(
        unsafe { libc::fcntl(raw, libc::F_GETFD) },
        -1,
        "the real drop closed it"
    );
    session.finish().expect("finish recording");

    // Open a real descriptor, then replay: dropping the placeholder must
    // not close anything real.
    let held = std::fs::File::open(a).expect("open");
    let held_raw = std::os::fd::AsRawFd::as_raw_fd(&held);
    let session = Session::replay(&recording).expect("start replaying");
    drop(files::open(a).expect("open"));
    session.finish().expect("replay consumed everything");
    // SAFETY: probing the descriptor this test holds.
    assert_ne!(unsafe { libc::fcntl(held_raw, libc::F_GETFD) }, -1);
}

#[test]
fn a_method_on_a_handle_records_and_checks_its_slot() {
    let dir = scratch_dir("handles-method");
    let (a, b) = (
        write_file(&dir, "a", "alpha"),
        write_file(&dir, "b", "beta"),
    );
    let (a, b) = (path_str(&a), path_str(&b));
    let recording = dir.join("method.replay");
    let session = Session::record(&recording).expect("start recording");
    let first = files::open(a).expect("open a");
    let second = files::open(b).expect("open b");
    let recorded = (first.read_up_to(8), second.read_up_to(8));
    drop((first, second));
    session.finish().expect("finish recording");
    assert_eq!(recorded, (b"alpha".to_vec(), b"beta".to_vec()));

    let session = Session::replay(&recording).expect("start replaying");
    let first = files::open(a).expect("open a");
    let second = files::open(b).expect("open b");
    assert_eq!(first.read_up_to(8), recorded.0);
    // Reading through the other handle than recorded diverges, naming it.
    let message = expect_panic("the wrong handle diverges", || first.read_up_to(8));
    assert_contains!(message, "argument 1 (`self`)");
    drop((first, second));
    assert!(session.finish().is_err());
}

std::thread_local! {
    /// Serializations of `Touchy` left before one panics.
    static FUSE: std::cell::Cell<u32> = const { std::cell::Cell::new(u32::MAX) };
}

/// A value whose `Serialize` panics once its fuse burns down: a user's
/// impl failing halfway through the runtime's work.
struct Touchy(u32);

impl serde::Serialize for Touchy {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let left = FUSE.with(|f| f.replace(f.get().saturating_sub(1)));
        if left == 0 {
            FUSE.with(|f| f.set(u32::MAX));
            panic!("touchy");
        }
        s.serialize_u32(self.0)
    }
}

#[replay_runtime::deterministic]
fn weigh(t: Touchy) -> u32 {
    t.0
}

/// Opens `a`, weighs (with a fuse that lets the argument check pass and
/// burns in the divergence report), drops `a` and opens `b`.
fn weigh_between_files(a: &str, b: &str, weight: u32, fuse: bool) -> String {
    let first = files::open(a).expect("open a");
    if fuse {
        FUSE.with(|f| f.set(1));
    }
    let caught = catch_unwind(AssertUnwindSafe(|| weigh(Touchy(weight))));
    assert_eq!(caught.is_err(), fuse, "only the burnt fuse panics");
    drop(first);
    let second = files::open(b).expect("open b");
    format!("{second:?}")
}

#[test]
fn a_panic_in_a_users_serialize_leaves_no_stale_phase_behind() {
    let dir = scratch_dir("handles-stale-phase");
    let (a, b) = (
        write_file(&dir, "a", "alpha"),
        write_file(&dir, "b", "beta"),
    );
    let (a, b) = (path_str(&a), path_str(&b));
    let recording = dir.join("phase.replay");
    let session = Session::record(&recording).expect("start recording");
    let recorded = weigh_between_files(a, b, 1, false);
    session.finish().expect("finish recording");
    assert_eq!(recorded, "Fd #0.1");

    // Another weight: the check fails and its report's rendering panics.
    // Dropping `a` afterwards must still free its slot, so `b` takes it.
    let session = Session::replay(&recording).expect("start replaying");
    let replayed = weigh_between_files(a, b, 2, true);
    assert_eq!(replayed, recorded);
    session.finish().expect("the replay consumed everything");
}

static NEXT_TOKEN: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(100);

#[replay_runtime::mapped]
pub struct Token(u64);

/// Replaces the handle held in an out-parameter.
#[replay_runtime::deterministic]
fn make_into(out: &mut Option<Token>) {
    *out = Some(Token(
        NEXT_TOKEN.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
    ));
}

#[test]
fn a_slot_conflict_is_reported_with_its_reason() {
    let recording = scratch_dir("handles-slot-conflict").join("s.replay");
    let program = || {
        let mut slot = None;
        make_into(&mut slot);
        make_into(&mut slot);
        slot.is_some()
    };
    let session = Session::record(&recording).expect("start recording");
    assert!(program());
    session.finish().expect("finish recording");

    // Replay writes the new handle back before the old one is dropped, so
    // the recorded slot is still held: a divergence that says so.
    let session = Session::replay(&recording).expect("start replaying");
    let message = expect_panic("the slot is still held", program);
    assert_contains!(message, "still holds a handle of generation 0");
    assert!(
        !message.contains("Serde Deserialization Error"),
        "{message}"
    );
    assert!(session.finish().is_err());
}

#[replay_runtime::deterministic]
fn takes_context(_p: replay_runtime::ContextPtr) -> u32 {
    7
}

#[test]
fn a_context_argument_is_shown_by_its_slot_in_a_report() {
    use replay_runtime::Context;
    let recording = scratch_dir("handles-context-report").join("c.replay");
    let session = Session::record(&recording).expect("start recording");
    let first = Context::new(1u32);
    takes_context(first.ptr());
    drop(first);
    session.finish().expect("finish recording");

    let session = Session::replay(&recording).expect("start replaying");
    let _first = Context::new(1u32);
    let second = Context::new(2u32);
    let message = expect_panic("another context", || takes_context(second.ptr()));
    assert_contains!(message, "with _p = ContextPtr(#0.0)");
    assert_contains!(message, "with _p = ContextPtr(#1.0)");
    assert!(session.finish().is_err());
}

#[test]
fn a_handle_passed_by_value_to_c_frees_its_slot() {
    use replay_tests::{rt_handle_close, rt_handle_open};
    let recording = scratch_dir("handles-by-value").join("c.replay");
    let seen = replay_tests::record_then_replay(&recording, |_| {
        let first = rt_handle_open();
        let shown = format!("{first:?}");
        let open = rt_handle_close(first);
        // The slot C's close took over is free: the next handle takes it,
        // one generation on, so a stale copy could never pass for it.
        let second = rt_handle_open();
        (shown, open, format!("{second:?}"), rt_handle_close(second))
    });
    assert_eq!(
        seen,
        ("CHandle #0.0".to_owned(), 0, "CHandle #0.1".to_owned(), 0)
    );
}
