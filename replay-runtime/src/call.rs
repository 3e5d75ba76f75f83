//! What a wrapper does with one call: the runtime half of `#[deterministic]`.
//!
//! Generated code stays thin: it names a [`Site`], borrows its arguments as
//! [`Arg`]s and its out-parameters as [`Out`]s, and calls [`record_begin`] /
//! [`RecordGuard::end`] or [`replay`]. Everything else lives here.

use std::fmt::Debug;
use std::marker::PhantomData;
use std::panic::Location;
use std::sync::OnceLock;
use std::sync::atomic::AtomicU64;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::divergence::{self, ArgReport, Divergence};
use crate::handles;
use crate::recording::format::{self, INLINE_ARGS, KIND_CALL, KIND_CALL_DIGESTED};
use crate::session::{self, Phase, ThreadMode};

/// A call site's identity: one `static` per wrapped function.
///
/// The identity is a name, never an address or a `TypeId`, so a rebuilt
/// binary with new code still matches its old recordings.
#[derive(Debug)]
pub struct Site {
    /// `module::path::function`, or for methods just `method`.
    name: &'static str,
    /// For methods: `Type::method`, once the type's name is known.
    owned: Option<OnceLock<String>>,
    /// The signature as written, without parameter names.
    pub(crate) signature: &'static str,
    /// Each recorded input's position among the parameters (from 1) and
    /// name, for divergence reports.
    pub(crate) params: &'static [(u16, &'static str)],
    /// `writer serial << 32 | site number` of the writer that used it last.
    pub(crate) cache: AtomicU64,
}

impl Site {
    /// A free function's site; `name` is its full path.
    pub const fn new(
        name: &'static str,
        signature: &'static str,
        params: &'static [(u16, &'static str)],
    ) -> Site {
        Site::build(name, None, signature, params)
    }

    /// A method's site, named `Type::method` once [`Site::owner`] is called.
    pub const fn method(
        name: &'static str,
        signature: &'static str,
        params: &'static [(u16, &'static str)],
    ) -> Site {
        Site::build(name, Some(OnceLock::new()), signature, params)
    }

    const fn build(
        name: &'static str,
        owned: Option<OnceLock<String>>,
        signature: &'static str,
        params: &'static [(u16, &'static str)],
    ) -> Site {
        Site {
            name,
            owned,
            signature,
            params,
            cache: AtomicU64::new(0),
        }
    }

    /// Names the method's type (from `core::any::type_name::<Self>`, which a
    /// `static` cannot call); generic arguments are left out, so every
    /// instantiation shares one name.
    #[inline]
    pub fn owner(&'static self, type_name: fn() -> &'static str) -> &'static Site {
        if let Some(owned) = &self.owned {
            owned.get_or_init(|| {
                let owner = type_name();
                let owner = owner.split('<').next().unwrap_or(owner);
                format!("{owner}::{}", self.name)
            });
        }
        self
    }

    /// The name recorded in the file and shown in reports.
    pub(crate) fn full_name(&self) -> &str {
        match &self.owned {
            Some(owned) => owned.get().map_or(self.name, String::as_str),
            None => self.name,
        }
    }
}

/// Renders argument values for divergence reports, when their types allow.
pub struct Show<T: ?Sized> {
    actual: Option<fn(&T) -> String>,
    recorded: Option<DecodeShow>,
}

/// Decodes a recorded value from the front of its bytes and renders it.
type DecodeShow = fn(&[u8]) -> Option<String>;

impl<T: ?Sized> Clone for Show<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T: ?Sized> Copy for Show<T> {}

/// Picks the richest [`Show`] a type allows, by autoref specialisation:
/// `(&&&&Probe::of(value)).show()` with the `Show*` traits in scope.
pub struct Probe<T: ?Sized>(PhantomData<T>);

impl<T: ?Sized> Probe<T> {
    /// A probe for the type of `value`.
    pub fn of(_value: &T) -> Self {
        Probe(PhantomData)
    }
}
impl<T: ?Sized> Clone for Probe<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T: ?Sized> Copy for Probe<T> {}

fn debug<T: Debug + ?Sized>(value: &T) -> String {
    format!("{value:?}")
}

fn decode_debug<T: DeserializeOwned + Debug>(bytes: &[u8]) -> Option<String> {
    postcard::take_from_bytes::<T>(bytes)
        .ok()
        .map(|(v, _)| format!("{v:?}"))
}

/// Sized values that decode and print: both sides are shown.
pub trait ShowOwned<T: ?Sized> {
    /// The renderers.
    fn show(self) -> Show<T>;
}
impl<T: DeserializeOwned + Debug> ShowOwned<T> for &&&Probe<T> {
    fn show(self) -> Show<T> {
        Show {
            actual: Some(debug::<T>),
            recorded: Some(decode_debug::<T>),
        }
    }
}

/// Borrowed values (`str`, slices) whose owned form decodes and prints.
pub trait ShowBorrowed<T: ?Sized> {
    /// The renderers.
    fn show(self) -> Show<T>;
}
impl<T: ?Sized + ToOwned + Debug> ShowBorrowed<T> for &&Probe<T>
where
    T::Owned: DeserializeOwned + Debug,
{
    fn show(self) -> Show<T> {
        Show {
            actual: Some(debug::<T>),
            recorded: Some(decode_debug::<T::Owned>),
        }
    }
}

/// Values that print but do not decode: the actual side is shown.
pub trait ShowActual<T: ?Sized> {
    /// The renderers.
    fn show(self) -> Show<T>;
}
impl<T: ?Sized + Debug> ShowActual<T> for &Probe<T> {
    fn show(self) -> Show<T> {
        Show {
            actual: Some(debug::<T>),
            recorded: None,
        }
    }
}

/// Anything else: reports show encoded bytes.
pub trait ShowBytes<T: ?Sized> {
    /// The renderers.
    fn show(self) -> Show<T>;
}
impl<T: ?Sized> ShowBytes<T> for Probe<T> {
    fn show(self) -> Show<T> {
        Show {
            actual: None,
            recorded: None,
        }
    }
}

/// One input argument of a call, borrowed for recording or checking.
pub struct Arg<'a, T: ?Sized> {
    value: &'a T,
    show: Show<T>,
}

impl<'a, T: ?Sized + Serialize> Arg<'a, T> {
    /// Borrows `value`, with the renderers a [`Probe`] chose for its type.
    #[inline]
    pub fn new(value: &'a T, show: Show<T>) -> Self {
        Arg { value, show }
    }
}

pub use crate::recording::encode::EncodeError;
pub(crate) use crate::recording::encode::encode;

/// An argument seen without its type, for the cold paths.
pub(crate) trait ErasedArg {
    fn encode(&self, buf: &mut Vec<u8>) -> Result<(), EncodeError>;
    fn show_actual(&self) -> Option<String>;
    fn show_recorded(&self, bytes: &[u8]) -> Option<String>;
}

impl<T: ?Sized + Serialize> ErasedArg for Arg<'_, T> {
    fn encode(&self, buf: &mut Vec<u8>) -> Result<(), EncodeError> {
        encode(self.value, buf)
    }
    fn show_actual(&self) -> Option<String> {
        self.show.actual.map(|f| f(self.value))
    }
    fn show_recorded(&self, bytes: &[u8]) -> Option<String> {
        self.show.recorded.and_then(|f| f(bytes))
    }
}

/// The input arguments of a call: a tuple of [`Arg`]s.
pub trait Args {
    /// How many there are.
    const COUNT: usize;
    /// Appends every argument's encoding, in order.
    fn encode(&self, buf: &mut Vec<u8>) -> Result<(), EncodeError>;
    #[doc(hidden)]
    #[allow(private_interfaces)]
    fn get(&self, index: usize) -> &dyn ErasedArg;
}

/// One out-parameter: written by the real call, recorded, written back on replay.
pub trait Out {
    /// Appends the value the real call left.
    fn encode(&self, buf: &mut Vec<u8>) -> Result<(), EncodeError>;
    /// Writes the recorded value back; an error says why it does not fit.
    fn decode(&mut self, bytes: &mut &[u8]) -> Result<(), String>;
}

/// The out-parameters of a call: a tuple of [`Out`]s.
pub trait Outs {
    /// Appends every out-parameter's encoding, in order.
    fn encode(&self, buf: &mut Vec<u8>) -> Result<(), EncodeError>;
    /// Writes every recorded value back, in order.
    fn decode(&mut self, bytes: &mut &[u8]) -> Result<(), String>;
}

macro_rules! tuples {
    ($count:expr; $($name:ident $index:tt),*) => {
        impl<$($name: ?Sized + Serialize),*> Args for ($(Arg<'_, $name>,)*) {
            const COUNT: usize = $count;
            #[inline]
            #[allow(unused_variables)]
            fn encode(&self, buf: &mut Vec<u8>) -> Result<(), EncodeError> {
                // One serializer for all: a tuple encodes as its elements in turn.
                encode(&($(self.$index.value,)*), buf)
            }
            #[allow(private_interfaces)]
            fn get(&self, index: usize) -> &dyn ErasedArg {
                match index {
                    $($index => &self.$index,)*
                    _ => panic!("argument {index} out of range"),
                }
            }
        }

        impl<$($name: Out),*> Outs for ($($name,)*) {
            #[inline]
            #[allow(unused_variables)]
            fn encode(&self, buf: &mut Vec<u8>) -> Result<(), EncodeError> {
                $(self.$index.encode(buf)?;)*
                Ok(())
            }
            #[allow(unused_variables)]
            fn decode(&mut self, bytes: &mut &[u8]) -> Result<(), String> {
                $(self.$index.decode(bytes)?;)*
                Ok(())
            }
        }
    };
}

tuples!(0;);
tuples!(1; A 0);
tuples!(2; A 0, B 1);
tuples!(3; A 0, B 1, C 2);
tuples!(4; A 0, B 1, C 2, D 3);
tuples!(5; A 0, B 1, C 2, D 3, E 4);
tuples!(6; A 0, B 1, C 2, D 3, E 4, F 5);
tuples!(7; A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuples!(8; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
tuples!(9; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);
tuples!(10; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);
tuples!(11; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10);
tuples!(12; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11);

/// A `&mut T` out-parameter.
pub struct OutRef<'a, T>(pub &'a mut T);

impl<T: Serialize + DeserializeOwned> Out for OutRef<'_, T> {
    fn encode(&self, buf: &mut Vec<u8>) -> Result<(), EncodeError> {
        encode(&*self.0, buf)
    }
    fn decode(&mut self, bytes: &mut &[u8]) -> Result<(), String> {
        let (value, rest) = postcard::take_from_bytes::<T>(bytes).map_err(|e| {
            format!(
                "the recorded value cannot be read as `{}`: {e}",
                std::any::type_name::<T>()
            )
        })?;
        *self.0 = value;
        *bytes = rest;
        Ok(())
    }
}

/// A `&mut [T]` out-parameter.
pub struct OutSlice<'a, T>(pub &'a mut [T]);

impl<T: Serialize + DeserializeOwned> Out for OutSlice<'_, T> {
    fn encode(&self, buf: &mut Vec<u8>) -> Result<(), EncodeError> {
        encode(&*self.0, buf)
    }
    fn decode(&mut self, bytes: &mut &[u8]) -> Result<(), String> {
        let (values, rest) = postcard::take_from_bytes::<Vec<T>>(bytes).map_err(|e| {
            format!(
                "the recorded slice cannot be read as `[{}]`: {e}",
                std::any::type_name::<T>()
            )
        })?;
        if values.len() != self.0.len() {
            return Err(format!(
                "the recorded slice has {} elements but the slice passed now has {}",
                values.len(),
                self.0.len()
            ));
        }
        for (slot, value) in self.0.iter_mut().zip(values) {
            *slot = value;
        }
        *bytes = rest;
        Ok(())
    }
}

/// A raw output buffer of an extern function: `#[out(len = ...)]`.
pub struct OutRaw {
    ptr: *mut u8,
    capacity: usize,
    written: usize,
}

impl OutRaw {
    /// A buffer of `capacity` bytes of which the call wrote the first
    /// `written`. A null pointer is an empty buffer.
    ///
    /// # Safety
    ///
    /// As for the foreign function: unless null, `ptr` is valid for writes
    /// of `capacity` bytes.
    #[inline]
    pub unsafe fn new<T>(ptr: *mut T, capacity: usize, written: usize) -> Self {
        let capacity = if ptr.is_null() { 0 } else { capacity };
        OutRaw {
            ptr: ptr.cast(),
            capacity,
            written: written.min(capacity),
        }
    }
}

/// The byte length of `count` elements of the pointee of `_ptr`.
#[inline]
pub fn byte_len<T>(_ptr: *const T, count: usize) -> usize {
    count.saturating_mul(std::mem::size_of::<T>())
}

/// An output buffer's element count from its length parameter (`len = n`);
/// a negative count is an empty buffer.
#[inline]
pub fn count<T: TryInto<usize>>(n: T) -> usize {
    n.try_into().unwrap_or(0)
}

/// How many bytes a call reports writing through its return value
/// (`written = return`): negative or unrepresentable means none.
#[inline]
pub fn written<T: Copy + TryInto<usize>>(ret: &T, element: usize) -> usize {
    (*ret).try_into().unwrap_or(0).saturating_mul(element)
}

impl Out for OutRaw {
    fn encode(&self, buf: &mut Vec<u8>) -> Result<(), EncodeError> {
        let bytes: &[u8] = if self.written == 0 {
            &[]
        } else {
            // SAFETY: `new`'s contract: valid for `capacity >= written` bytes.
            unsafe { std::slice::from_raw_parts(self.ptr, self.written) }
        };
        encode(&Bytes(bytes), buf)
    }
    fn decode(&mut self, bytes: &mut &[u8]) -> Result<(), String> {
        let data = format::take_blob(bytes).ok_or("the recorded buffer is cut short")?;
        if data.len() > self.capacity {
            return Err(format!(
                "the recorded buffer holds {} bytes but the buffer passed now holds {}",
                data.len(),
                self.capacity
            ));
        }
        // SAFETY: `new`'s contract, and `data.len() <= capacity` just above.
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), self.ptr, data.len()) };
        Ok(())
    }
}

/// Serializes a byte slice as postcard bytes (a length, then the bytes),
/// not as a sequence of `u8`s.
struct Bytes<'a>(&'a [u8]);

impl Serialize for Bytes<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0)
    }
}

/// Encodes `args` as a call event's argument blob, digesting large ones.
/// Returns whether they were digested. `buf` gets a length then the blob.
#[inline]
fn put_args<A: Args>(buf: &mut Vec<u8>, args: &A) -> Result<bool, EncodeError> {
    let at = buf.len();
    buf.push(0);
    args.encode(buf)?;
    if buf.len() - at - 1 <= INLINE_ARGS {
        format::patch_len(buf, at);
        return Ok(false);
    }
    digest_args(buf, args, at)?;
    Ok(true)
}

#[cold]
fn digest_args<A: Args>(buf: &mut Vec<u8>, args: &A, at: usize) -> Result<(), EncodeError> {
    buf.truncate(at + 1);
    let mut one = Vec::new();
    for i in 0..A::COUNT {
        one.clear();
        args.get(i).encode(&mut one)?;
        buf.extend_from_slice(&format::digest(&one).to_le_bytes());
    }
    format::patch_len(buf, at);
    Ok(())
}

#[cold]
#[track_caller]
fn cannot_encode(site: &Site, what: &str, e: EncodeError) -> ! {
    panic!(
        "replay cannot record {what} of `{}` at {}: {e} (postcard needs sequences of known \
         length and no `serialize_any`-style types)",
        site.full_name(),
        Location::caller()
    )
}

/// The thread's mode, for the generated `match`: one thread-local load.
#[inline(always)]
pub fn mode() -> ThreadMode {
    session::thread_mode()
}

/// An open call event in record mode; [`RecordGuard::end`] completes it.
/// Dropped without `end` (the real call panicked), it discards the event.
#[must_use]
pub struct RecordGuard {
    site: &'static Site,
    start: usize,
}

/// Starts recording a call: defines the site if new, encodes the arguments,
/// and suspends recording while the real function runs (its own boundary
/// calls are part of this one).
#[inline]
pub fn record_begin<A: Args>(site: &'static Site, args: &A) -> RecordGuard {
    // Off from here on: what `Serialize` impls do is part of this call.
    session::set_thread_mode(ThreadMode::Off);
    session::set_handle_phase(Phase::Args);
    let start = session::with_writer(|w| {
        let number = w.site_number(site);
        let event = Partial::new(&mut w.buf);
        format::put_varint(event.buf, number << 2 | KIND_CALL);
        let digested = put_args(event.buf, args)?;
        if digested {
            // The head's low bits are the kind; rewrite them in place.
            event.buf[event.start] = (event.buf[event.start] & !3) | KIND_CALL_DIGESTED as u8;
        }
        Ok(event.keep())
    });
    session::set_handle_phase(Phase::Idle);
    let start = match start {
        Some(Ok(start)) => start,
        Some(Err(e)) => {
            session::set_thread_mode(ThreadMode::Record);
            cannot_encode(site, "its arguments", e)
        }
        None => usize::MAX,
    };
    RecordGuard { site, start }
}

impl RecordGuard {
    /// Completes the event with the return value and the out-parameters.
    #[inline]
    pub fn end<R: Serialize + ?Sized, O: Outs>(self, ret: &R, outs: &O) {
        let site = self.site;
        let start = self.start;
        std::mem::forget(self);
        if start == usize::MAX {
            session::set_thread_mode(ThreadMode::Record);
            return;
        }
        session::set_handle_phase(Phase::Results);
        let encoded = session::with_writer(|w| {
            let event = Partial::from(&mut w.buf, start);
            let at = event.buf.len();
            event.buf.push(0);
            encode(ret, event.buf)?;
            outs.encode(event.buf)?;
            format::patch_len(event.buf, at);
            event.keep();
            w.event_done();
            Ok(())
        });
        session::set_handle_phase(Phase::Idle);
        session::set_thread_mode(ThreadMode::Record);
        if let Some(Err(e)) = encoded {
            cannot_encode(site, "the results", e);
        }
    }
}

/// An event being written: unless kept, it is cut off again when dropped,
/// on an encoding error or a panic in a user's `Serialize` alike, so a
/// recording never holds half an event.
struct Partial<'a> {
    buf: &'a mut Vec<u8>,
    start: usize,
}

impl<'a> Partial<'a> {
    #[inline]
    fn new(buf: &'a mut Vec<u8>) -> Self {
        let start = buf.len();
        Partial { buf, start }
    }

    #[inline]
    fn from(buf: &'a mut Vec<u8>, start: usize) -> Self {
        Partial { buf, start }
    }

    /// Keeps the event; returns where it starts.
    #[inline]
    fn keep(self) -> usize {
        let start = self.start;
        std::mem::forget(self);
        start
    }
}

impl Drop for Partial<'_> {
    #[cold]
    fn drop(&mut self) {
        self.buf.truncate(self.start);
        session::set_handle_phase(Phase::Idle);
        session::set_thread_mode(ThreadMode::Record);
    }
}

/// Sets the thread's mode back when dropped, panics included, unless a
/// divergence changed it meanwhile.
struct Restore(ThreadMode);

impl Drop for Restore {
    #[inline]
    fn drop(&mut self) {
        if session::thread_mode() == ThreadMode::Off {
            session::set_thread_mode(self.0);
        }
    }
}

/// Off until the returned guard drops: what `Serialize` and `Deserialize`
/// impls do while a call is checked or decoded is part of that call.
#[inline]
fn quiet() -> Restore {
    let previous = session::thread_mode();
    session::set_thread_mode(ThreadMode::Off);
    Restore(previous)
}

impl Drop for RecordGuard {
    fn drop(&mut self) {
        session::set_thread_mode(ThreadMode::Record);
        if self.start != usize::MAX {
            let start = self.start;
            session::with_writer(|w| w.buf.truncate(start));
        }
    }
}

/// How a replayed call goes on once [`replay_check`] has matched it.
#[must_use]
pub enum Checked {
    /// From the recording: [`replay_finish`] returns the recorded results.
    Recorded,
    /// For real (a live file, a live handle, a stand-in): the wrapper calls
    /// the function, then [`replay_bind`] binds the handles it returns.
    Live(Vec<u8>),
}

/// Why a replayed call runs for real instead of from the recording.
#[derive(Clone, Copy)]
pub enum Live<'a> {
    /// Only if its arguments hold a handle bound to a live value.
    IfHandles,
    /// Also if this path matches the session's live-file patterns.
    IfPath(&'a std::path::Path),
    /// Always: `#[deterministic(replay_with = ..)]` calls its stand-in.
    Always,
}

/// Replays a call, first half: checks it against the next recorded one
/// (panicking with a report beginning `replay diverged` when it does not
/// match) and says whether it runs for real.
#[inline]
pub fn replay_check<A: Args>(
    site: &'static Site,
    location: &'static Location<'static>,
    args: &A,
    live: Live<'_>,
) -> Checked {
    let result = session::with_replayer(|r| -> Result<Checked, Divergence> {
        let _quiet = quiet();
        // Encoded before the recorded call is taken: a `Serialize` that
        // panics here panicked when recording too, before its event.
        r.scratch.clear();
        // Forget what an earlier call, cut short by a panic, may have noted.
        let _ = handles::take_argument_findings();
        session::set_handle_phase(Phase::Args);
        let mine_digested = put_args(&mut r.scratch, args);
        session::set_handle_phase(Phase::Idle);
        let digested = r.next_call(site, location)?;
        let findings = handles::take_argument_findings();
        if let Some(why) = findings.error {
            let summary = format!(
                "a handle passed to `{}` is not valid here: {why}",
                site.full_name()
            );
            return Err(r.diverged_at(site, location, summary));
        }
        let mine_digested = match mine_digested {
            Ok(digested) => digested,
            Err(e) => {
                let summary = format!(
                    "the arguments of `{}` cannot be encoded: {e}",
                    site.full_name()
                );
                return Err(r.diverged_at(site, location, summary));
            }
        };
        let mut mine = &r.scratch[..];
        let mine = format::take_blob(&mut mine).unwrap_or_default();
        if digested != mine_digested || mine != r.recorded_args.as_slice() {
            session::set_handle_phase(Phase::Display);
            let report = compare_args(args, digested, &r.recorded_args);
            session::set_handle_phase(Phase::Idle);
            return Err(r.diverged_on_args(site, location, report));
        }
        // A placeholder argument has no live value to give a real call.
        let live = match live {
            Live::IfHandles => findings.live && !findings.placeholder,
            Live::IfPath(path) => {
                (findings.live || session::is_live_path(path)) && !findings.placeholder
            }
            Live::Always => true,
        };
        if live {
            r.call_done();
            return Ok(Checked::Live(r.recorded_rest.clone()));
        }
        Ok(Checked::Recorded)
    });
    match result {
        Ok(checked) => checked,
        Err(divergence) => divergence::raise(divergence),
    }
}

/// Replays a call, second half: returns the recorded result and writes
/// the recorded out-parameters back.
#[inline]
pub fn replay_finish<R: DeserializeOwned, O: Outs>(
    site: &'static Site,
    location: &'static Location<'static>,
    outs: &mut O,
) -> R {
    let result = session::with_replayer(|r| -> Result<R, Divergence> {
        let _quiet = quiet();
        session::set_handle_phase(Phase::Results);
        let decoded = decode_results::<R, O>(&r.recorded_rest, outs);
        session::set_handle_phase(Phase::Idle);
        match decoded {
            Ok(ret) => {
                r.call_done();
                Ok(ret)
            }
            Err(why) => Err(r.diverged_at(site, location, results_do_not_fit(site, &why))),
        }
    });
    match result {
        Ok(ret) => ret,
        Err(divergence) => divergence::raise(divergence),
    }
}

/// After a replayed call ran for real: binds each handle in its live result
/// to the handle the recorded result holds in the same place, so that later
/// calls on it resolve to the live value.
pub fn replay_bind<R: Serialize + DeserializeOwned>(
    site: &'static Site,
    location: &'static Location<'static>,
    recorded: &[u8],
    live: &R,
) {
    handles::start_collecting();
    session::set_handle_phase(Phase::Collect);
    // Decoded only to note its handles; dropping it frees nothing.
    let noted = postcard::take_from_bytes::<R>(recorded).map(drop);
    session::set_handle_phase(Phase::Bind);
    let mut scratch = Vec::new();
    let bound = encode(live, &mut scratch);
    session::set_handle_phase(Phase::Idle);
    let why = match (noted, bound) {
        (Ok(()), Ok(())) => return,
        (Err(e), _) => format!(
            "the recorded result cannot be read as `{}`: {e}",
            std::any::type_name::<R>()
        ),
        (_, Err(e)) => format!("the live result's handles do not match the recorded ones: {e}"),
    };
    let divergence = session::with_replayer(|r| {
        Err::<(), _>(r.diverged_at(site, location, results_do_not_fit(site, &why)))
    });
    if let Err(divergence) = divergence {
        divergence::raise(divergence);
    }
}

fn results_do_not_fit(site: &Site, why: &str) -> String {
    format!("the results of `{}` do not fit: {why}", site.full_name())
}

/// Decodes a recorded call's result and writes its out-parameters back.
#[inline]
fn decode_results<R: DeserializeOwned, O: Outs>(
    recorded: &[u8],
    outs: &mut O,
) -> Result<R, String> {
    let (ret, mut rest) = postcard::take_from_bytes::<R>(recorded).map_err(|e| {
        format!(
            "the recorded result cannot be read as `{}`: {e}",
            std::any::type_name::<R>()
        )
    })?;
    outs.decode(&mut rest)?;
    Ok(ret)
}

/// Finds which argument differs from the recorded blob.
#[cold]
fn compare_args<A: Args>(args: &A, digested: bool, recorded: &[u8]) -> ArgReport {
    let mut one = Vec::new();
    let mut rest = recorded;
    for i in 0..A::COUNT {
        let arg = args.get(i);
        one.clear();
        if arg.encode(&mut one).is_err() {
            return ArgReport::Unknown;
        }
        if digested {
            let Some((theirs, tail)) = rest.split_first_chunk::<8>() else {
                return ArgReport::Count {
                    recorded: recorded.len() / 8,
                    actual: A::COUNT,
                };
            };
            rest = tail;
            if u64::from_le_bytes(*theirs) != format::digest(&one) {
                return ArgReport::Differs {
                    index: i,
                    recorded: None,
                    actual: arg.show_actual(),
                };
            }
        } else if rest.starts_with(&one) {
            rest = &rest[one.len()..];
        } else {
            return ArgReport::Differs {
                index: i,
                recorded: Some(
                    arg.show_recorded(rest)
                        .unwrap_or_else(|| divergence::hex(rest)),
                ),
                actual: Some(arg.show_actual().unwrap_or_else(|| divergence::hex(&one))),
            };
        }
    }
    if rest.is_empty() {
        ArgReport::Unknown
    } else {
        ArgReport::Extra
    }
}

/// For a wrapper called after this thread's replay diverged: see
/// `divergence::spent`.
#[cold]
pub fn after_divergence(site: &'static Site, location: &'static Location<'static>) -> ! {
    divergence::spent(&format!("`{}`", site.full_name()), location)
}

/// Runs `f` out of line: a wrapper's record and replay paths, kept apart so
/// that its off path is small enough to inline into the caller.
#[inline(never)]
#[cold]
pub fn outlined<R>(f: impl FnOnce() -> R) -> R {
    f()
}

/// Runs the rest of the scope unrecorded: for `#[assume_deterministic]`,
/// whose calls run for real in every mode.
#[inline]
pub fn suspend() -> Suspended {
    let previous = session::thread_mode();
    session::set_thread_mode(ThreadMode::Off);
    Suspended { previous }
}

/// Restores the thread's mode when dropped; see [`suspend`].
pub struct Suspended {
    previous: ThreadMode,
}

impl Drop for Suspended {
    fn drop(&mut self) {
        session::set_thread_mode(self.previous);
    }
}
