//! Callbacks: Rust functions foreign code calls back into, marked
//! `#[deterministic(callback)]`. In record, each invocation during a
//! recorded call is recorded nested in it (its arguments, what it calls,
//! its return value); in replay, replaying that call invokes the callback
//! itself with the recorded arguments, in order, and checks what it
//! returns. Every callback registers itself (with `inventory`), so replay
//! finds the one a recording names without the program passing it first.

use std::any::Any;
use std::cell::Cell;
use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, Location, catch_unwind, resume_unwind};
use std::sync::OnceLock;

use serde::Serialize;

use super::args::Args;
use super::compare::compare_args;
use super::show::Render;
use crate::context::{self, Phase, Scope, ThreadMode};
use crate::cursor::{Cursor, Inside};
use crate::divergence::{self, Divergence};
use crate::recording::encode::encode;
use crate::site::Site;

/// A callback, as `#[deterministic(callback)]` describes it.
pub struct Callback {
    /// Its name (module path and function name), signature and parameters.
    pub site: Site,
    /// Calls it with recorded arguments; returns its return value, encoded.
    pub invoke: fn(&[u8]) -> Result<Vec<u8>, String>,
    /// Renders an encoded return value for a report.
    pub show_ret: fn(&[u8]) -> Option<String>,
    /// Its address in this run, as foreign code is given it.
    pub address: fn() -> usize,
}

/// A callback's registration; see the module's docs.
pub struct Registered(pub &'static Callback);

inventory::collect!(Registered);

/// Every callback of the program, by name (`None`: several have it) and
/// by address.
struct Registry {
    by_name: HashMap<&'static str, Option<&'static Callback>>,
    by_address: HashMap<usize, &'static Callback>,
}

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let mut by_name = HashMap::new();
        let mut by_address = HashMap::new();
        for callback in inventory::iter::<Registered>.into_iter().map(|r| r.0) {
            by_name
                .entry(callback.site.full_name())
                .and_modify(|named: &mut Option<_>| *named = None)
                .or_insert(Some(callback));
            by_address.insert((callback.address)(), callback);
        }
        Registry {
            by_name,
            by_address,
        }
    })
}

thread_local! {
    /// A panic a callback raised inside a wrapped call, kept to be raised
    /// again once the call returns to Rust: it cannot unwind through C.
    static PENDING: Cell<Option<Box<dyn Any + Send>>> = const { Cell::new(None) };
    /// Whether `PENDING` holds one: a cell without a destructor, so that
    /// the check after every call costs one thread-local load.
    static IS_PENDING: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` for a callback called inside a wrapped call: a panic is kept
/// (see [`resume_pending`]) and C gets `R::default()`; once one is kept,
/// further callbacks do not run.
fn catching<R: Default>(f: impl FnOnce() -> R) -> R {
    if IS_PENDING.get() {
        return R::default();
    }
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(ret) => ret,
        Err(payload) => {
            PENDING.set(Some(payload));
            IS_PENDING.set(true);
            R::default()
        }
    }
}

/// After a wrapped call returns to Rust: raises again the panic one of
/// its callbacks raised, if any.
#[inline(always)]
pub(super) fn resume_pending() {
    if IS_PENDING.get() {
        resume();
    }
}

/// Forgets the panic a callback raised: a divergence is reported instead.
#[cold]
fn discard_pending() {
    IS_PENDING.set(false);
    drop(PENDING.take());
}

#[cold]
fn resume() {
    IS_PENDING.set(false);
    if let Some(payload) = PENDING.take() {
        resume_unwind(payload);
    }
}

/// Whether a callback goes straight to its body: no session on this
/// thread. (Inside a wrapped call it does not: that is where callbacks
/// are recorded.) Called on a thread without a session while another
/// thread has one, it runs unrecorded, and says so once per process.
#[inline(always)]
pub fn callback_passthrough(callback: &'static Callback) -> bool {
    if context::mode() != ThreadMode::Off {
        return false;
    }
    if context::any_session() {
        unknown_thread(callback);
    }
    true
}

/// The warning of [`callback_passthrough`].
#[cold]
fn unknown_thread(callback: &'static Callback) {
    static WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if !WARNED.swap(true, std::sync::atomic::Ordering::Relaxed) {
        eprintln!(
            "replay: the callback `{}` was called on a thread without a session (a thread \
             foreign code started, or one not spawned through replay_runtime::thread) while \
             another thread records or replays: it runs, unrecorded, and replay will not \
             call it; this is said once",
            callback.site.full_name()
        );
    }
}

/// Runs a callback's `body`, invoked by foreign code (or, in replay, by
/// `replay_inside`) with `args`: records it, checks it against the
/// recording, or just runs it, as the thread's mode says. Inside a wrapped
/// call, a panic of the body waits for the call to return to Rust and is
/// raised there (C gets `R::default()` meanwhile); anywhere else it cannot
/// unwind through C, and Rust aborts once the report is printed.
#[inline]
pub fn callback<A: Args, R: Serialize + Default>(
    callback: &'static Callback,
    location: &'static Location<'static>,
    args: &A,
    body: impl FnOnce() -> R,
) -> R {
    match context::mode() {
        ThreadMode::Off | ThreadMode::Assumed => body(),
        // Inside a recorded foreign call: nested in it.
        ThreadMode::InCall if context::phase() == Phase::Foreign => {
            catching(|| record(callback, args, body))
        }
        ThreadMode::Record if context::with_writer(|_| ()).is_some() => {
            record(callback, args, body)
        }
        // Inside a Rust function's recorded body, a call with secret
        // results, or a call that runs for real in replay: part of it.
        ThreadMode::InCall => catching(body),
        // Recording with the stream busy: never in practice.
        ThreadMode::Record => body(),
        ThreadMode::Replay if context::phase() == Phase::Invoking => catching(|| {
            let _body = Scope::enter(ThreadMode::Replay, Phase::Idle);
            body()
        }),
        ThreadMode::Replay => match replay_outside(callback, location, args, body) {
            Ok(ret) => ret,
            Err(divergence) => divergence::raise(divergence),
        },
        ThreadMode::Diverged => {
            let what = format!("the callback `{}`", callback.site.full_name());
            divergence::raise(divergence::spent_report(&what, location))
        }
    }
}

/// Records a callback: nested in the recorded call foreign code runs
/// (if any), its arguments, what its body records, its return value.
fn record<A: Args, R: Serialize>(
    callback: &'static Callback,
    args: &A,
    body: impl FnOnce() -> R,
) -> R {
    let began = context::with_writer(|w| {
        w.nest();
        w.begin_callback(&callback.site, |buf| args.encode(buf))
    });
    if let Some(Err(e)) = began {
        panic!(
            "replay cannot record the arguments of the callback `{}`: {e}",
            callback.site.full_name()
        );
    }
    let ret = {
        let _body = Scope::enter(ThreadMode::Record, Phase::Idle);
        body()
    };
    let ended = context::with_writer(|w| w.end_callback(|buf| encode(&ret, buf)));
    if let Some(Err(e)) = ended {
        panic!(
            "replay cannot record the return value of the callback `{}`: {e}",
            callback.site.full_name()
        );
    }
    ret
}

/// A callback foreign code invoked in replay outside any replayed call
/// (a call that runs for real, or one not wrapped): it must be the next
/// thing recorded, with the same arguments and return value.
fn replay_outside<A: Args, R: Serialize>(
    callback: &'static Callback,
    location: &'static Location<'static>,
    args: &A,
    body: impl FnOnce() -> R,
) -> Result<R, Divergence> {
    let site = &callback.site;
    let recorded = context::try_replay(location, |cursor| cursor.next_callback(site, location))?;
    let mut mine = Vec::new();
    let same = {
        let _args = Scope::enter(ThreadMode::InCall, Phase::Args);
        args.encode(&mut mine).is_ok() && mine == recorded
    };
    if !same {
        let report = {
            let _display = Scope::enter(ThreadMode::InCall, Phase::Display);
            compare_args(args, false, &recorded)
        };
        return Err(fail(location, |c| {
            c.diverged_on_args(site, location, report)
        }));
    }
    let ret = body();
    let encoded = encoded(&ret);
    context::try_replay(location, |cursor| {
        cursor.callback_returned(site.full_name(), location, &encoded, callback.show_ret)
    })?;
    Ok(ret)
}

/// Renders a callback's encoded return value for a report.
pub fn show_return<R: serde::de::DeserializeOwned + std::fmt::Debug>(
    bytes: &[u8],
) -> Option<String> {
    postcard::take_from_bytes::<R>(bytes)
        .ok()
        .map(|(value, _)| format!("{value:?}"))
}

/// A return value, encoded (empty if it cannot be: the comparison fails).
fn encoded<R: Serialize>(ret: &R) -> Vec<u8> {
    let mut buf = Vec::new();
    let _ = encode(ret, &mut buf);
    buf
}

/// For a callback's `invoke`: runs `f` (which calls the callback) as the
/// replayer invoking it, and encodes what it returns.
pub fn invoking<R: Serialize>(f: impl FnOnce() -> R) -> Vec<u8> {
    let ret = {
        let _invoking = Scope::enter(ThreadMode::Replay, Phase::Invoking);
        f()
    };
    encoded(&ret)
}

/// Replays what foreign code did inside the call to `site` just matched:
/// invokes each recorded callback with its recorded arguments and checks
/// its return value, up to the call's results; or, if the call panicked
/// when recorded, up to its panic, whose message it returns.
pub(super) fn replay_inside(
    site: &'static Site,
    location: &'static Location<'static>,
) -> Result<Option<String>, Divergence> {
    loop {
        let (name, args) = match context::try_replay(location, |c| c.next_inside(site, location))? {
            Inside::Closed => return Ok(None),
            Inside::Panicked(message) => return Ok(Some(message)),
            Inside::Callback { name, args } => (name, args),
        };
        let callback = match registry().by_name.get(name.as_str()) {
            Some(Some(callback)) => callback,
            found => {
                let why = match found {
                    None => {
                        "this program has no `#[deterministic(callback)]` function of that name"
                    }
                    Some(_) => {
                        "this program has several `#[deterministic(callback)]` functions of \
                         that name (functions nested in other functions of one module): \
                         rename one"
                    }
                };
                let summary = format!(
                    "foreign code called back `{name}` inside `{}` when recorded, and {why}",
                    site.full_name()
                );
                return Err(fail(location, |c| c.diverged_at(site, location, summary)));
            }
        };
        let invoked = (callback.invoke)(&args);
        if IS_PENDING.get() {
            // The callback panicked: as it did when recorded (the call's
            // recorded panic is this one, raised again now), or not (a
            // divergence, reported rather than the panic).
            context::try_replay(location, |c| c.callback_panicked(&name, location))
                .inspect_err(|_| discard_pending())?;
            resume();
        }
        let ret = match invoked {
            Ok(ret) => ret,
            Err(why) => {
                let summary =
                    format!("the recorded arguments of the callback `{name}` do not fit it: {why}");
                return Err(fail(location, |c| c.diverged_at(site, location, summary)));
            }
        };
        context::try_replay(location, |c| {
            c.callback_returned(&name, location, &ret, callback.show_ret)
        })?;
    }
}

/// The divergence `diverge` makes of this thread's replay.
fn fail(
    location: &'static Location<'static>,
    diverge: impl FnOnce(&mut Cursor) -> Divergence,
) -> Divergence {
    match context::try_replay(location, |c| Err::<(), _>(diverge(c))) {
        Err(divergence) => divergence,
        Ok(()) => unreachable!("`diverge` returns a divergence"),
    }
}

/// A function pointer passed to foreign code, recorded as which callback
/// it is: a `#[deterministic(callback)]` function's name, or null, or a
/// function that is not marked (a C function, a sentinel such as
/// SQLite's `SQLITE_TRANSIENT`).
pub struct CallbackIn(Option<Result<&'static str, ()>>);

impl CallbackIn {
    /// The callback at `address` (0 for null).
    pub fn new(address: usize) -> Self {
        CallbackIn((address != 0).then(|| {
            registry()
                .by_address
                .get(&address)
                .map(|c| c.site.full_name())
                .ok_or(())
        }))
    }
}

/// What a function pointer is recorded as.
const UNMARKED: &str = "";

impl Serialize for CallbackIn {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            None => s.serialize_none(),
            Some(Ok(name)) => s.serialize_some(name),
            Some(Err(())) => s.serialize_some(UNMARKED),
        }
    }
}

fn show_callback(name: Option<&str>) -> String {
    match name {
        None => "NULL".to_owned(),
        Some(UNMARKED) => "a function not marked `#[deterministic(callback)]`".to_owned(),
        Some(name) => format!("the callback `{name}`"),
    }
}

impl Render for CallbackIn {
    fn actual(&self) -> String {
        show_callback(self.0.map(|r| r.unwrap_or(UNMARKED)))
    }
    fn recorded(bytes: &[u8]) -> Option<String> {
        let (name, _) = postcard::take_from_bytes::<Option<String>>(bytes).ok()?;
        Some(show_callback(name.as_deref()))
    }
}

/// The address of a function pointer, or of an `Option` of one (0 for
/// `None`).
///
/// # Safety
///
/// `F` must be a function pointer type or an `Option` of one.
#[inline]
pub unsafe fn fn_address<F: Copy>(f: F) -> usize {
    assert_eq!(size_of::<F>(), size_of::<usize>(), "not a function pointer");
    // SAFETY: the caller's contract: a function pointer (or an `Option`
    // of one, null for `None`) is one address.
    unsafe { std::mem::transmute_copy(&f) }
}
