//! Channels: the senders, the receiver, and how a receive is recorded
//! and replayed.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::panic::Location;
use std::time::Duration;

pub use std::sync::mpsc::{RecvError, RecvTimeoutError, SendError, TryRecvError, TrySendError};

use crate::context::{self, NO_STREAM, ThreadMode};
use crate::divergence;
use crate::recording::format::{NoMessage, ThreadEvent};
use crate::sync::blame::On;
use crate::sync::stall::Waiting;

/// A message, the thread that sent it and, recording, how many calls
/// that thread had recorded then: where on its stream the message left.
pub(super) struct Envelope<T> {
    pub(super) sender: u32,
    pub(super) sent: u64,
    pub(super) value: T,
}

/// Creates an unbounded channel, as [`std::sync::mpsc::channel`].
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let (tx, rx) = std::sync::mpsc::channel();
    (Sender { inner: tx }, Receiver::new(rx))
}

/// Creates a bounded channel, as [`std::sync::mpsc::sync_channel`].
///
/// In replay the bound is not enforced: sends are not ordered by the
/// recording, so an early send could fill the channel and block a sender
/// the receiver waits for. `try_send` returns what it returned when
/// recording instead.
pub fn sync_channel<T>(bound: usize) -> (SyncSender<T>, Receiver<T>) {
    if context::mode() == ThreadMode::Replay {
        let (tx, rx) = std::sync::mpsc::channel();
        return (
            SyncSender {
                inner: Bounded::Replay(tx),
            },
            Receiver::new(rx),
        );
    }
    let (tx, rx) = std::sync::mpsc::sync_channel(bound);
    (
        SyncSender {
            inner: Bounded::Std(tx),
        },
        Receiver::new(rx),
    )
}

/// The sending half of [`channel`], as [`std::sync::mpsc::Sender`].
pub struct Sender<T> {
    inner: std::sync::mpsc::Sender<Envelope<T>>,
}

/// The sending half of [`sync_channel`], as [`std::sync::mpsc::SyncSender`].
pub struct SyncSender<T> {
    inner: Bounded<T>,
}

/// A bounded channel's sender: std's, or, when created in replay, an
/// unbounded one.
enum Bounded<T> {
    Std(std::sync::mpsc::SyncSender<Envelope<T>>),
    Replay(std::sync::mpsc::Sender<Envelope<T>>),
}

impl<T> Clone for Bounded<T> {
    fn clone(&self) -> Self {
        match self {
            Bounded::Std(tx) => Bounded::Std(tx.clone()),
            Bounded::Replay(tx) => Bounded::Replay(tx.clone()),
        }
    }
}

fn envelope<T>(value: T) -> Envelope<T> {
    Envelope {
        sender: context::thread_stream(),
        // Only a recorded receive writes it down; 0 (the stream's start)
        // where the count is not at hand (inside a `Serialize`): still true.
        sent: match context::mode() {
            ThreadMode::Record | ThreadMode::InCall => context::call_index().unwrap_or(0),
            _ => 0,
        },
        value,
    }
}

impl<T> Sender<T> {
    /// Sends a message; fails if the receiver is gone.
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        self.inner
            .send(envelope(value))
            .map_err(|SendError(e)| SendError(e.value))
    }
}

impl<T> SyncSender<T> {
    /// Sends a message, blocking while the channel is full.
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        let sent = match &self.inner {
            Bounded::Std(tx) => tx.send(envelope(value)),
            Bounded::Replay(tx) => tx.send(envelope(value)),
        };
        sent.map_err(|SendError(e)| SendError(e.value))
    }

    /// Sends a message if there is room; in replay, what the recorded run
    /// got.
    #[track_caller]
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        let location = Location::caller();
        let mode = context::mode();
        if mode == ThreadMode::Diverged {
            divergence::spent("the try_send", location);
        }
        let outcome = match (&self.inner, mode) {
            (Bounded::Replay(tx), ThreadMode::Replay) => {
                let recorded = context::replay(location, |cursor| {
                    cursor.thread_event("a try_send", location, |event| match event {
                        ThreadEvent::TrySend { outcome } => Some(outcome),
                        _ => None,
                    })
                });
                return match recorded {
                    0 => tx
                        .send(envelope(value))
                        .map_err(|SendError(e)| TrySendError::Disconnected(e.value)),
                    1 => Err(TrySendError::Full(value)),
                    _ => Err(TrySendError::Disconnected(value)),
                };
            }
            (Bounded::Replay(tx), _) => tx
                .send(envelope(value))
                .map_err(|SendError(e)| TrySendError::Disconnected(e)),
            (Bounded::Std(tx), _) => tx.try_send(envelope(value)),
        };
        if mode == ThreadMode::Record {
            let outcome = match &outcome {
                Ok(()) => 0,
                Err(TrySendError::Full(_)) => 1,
                Err(TrySendError::Disconnected(_)) => 2,
            };
            context::record_thread_event(ThreadEvent::TrySend { outcome });
        }
        outcome.map_err(|e| match e {
            TrySendError::Full(e) => TrySendError::Full(e.value),
            TrySendError::Disconnected(e) => TrySendError::Disconnected(e.value),
        })
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        Sender {
            inner: self.inner.clone(),
        }
    }
}

impl<T> Clone for SyncSender<T> {
    fn clone(&self) -> Self {
        SyncSender {
            inner: self.inner.clone(),
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sender { .. }")
    }
}

impl<T> fmt::Debug for SyncSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SyncSender { .. }")
    }
}

/// The receiving half of a channel, as [`std::sync::mpsc::Receiver`].
pub struct Receiver<T> {
    inner: std::sync::mpsc::Receiver<Envelope<T>>,
    /// Replay: messages that arrived before their turn, by sender, each
    /// sender's in the order sent.
    held: RefCell<HashMap<u32, VecDeque<T>, BuildHasherDefault<SenderHash>>>,
    /// How many messages `held` holds: while none, a receive does not
    /// look there.
    held_count: Cell<usize>,
}

/// Hashes a sender, a small stream number: one multiply spreads it over
/// the bits the table uses (SipHash's defence against chosen keys is not
/// needed for numbers the session hands out).
#[derive(Default)]
struct SenderHash(u64);

/// 2^64 over the golden ratio, odd: multiplying by it is a bijection.
const SPREAD: u64 = 0x9e37_79b9_7f4a_7c15;

impl Hasher for SenderHash {
    /// Not used by `u32` keys; here for completeness.
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(byte)).wrapping_mul(SPREAD);
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.0 = u64::from(n).wrapping_mul(SPREAD);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Receiver { .. }")
    }
}

/// How a receive waits, when there is nothing yet.
#[derive(Clone, Copy)]
pub(super) enum Wait {
    /// `try_recv`: not at all.
    Never,
    /// `recv_timeout`: at most this long.
    For(Duration),
    /// `recv`: until a message or disconnection.
    Forever,
}

impl Wait {
    fn doing(self) -> &'static str {
        match self {
            Wait::Never => "a try_recv",
            Wait::For(_) => "a recv_timeout",
            Wait::Forever => "a recv",
        }
    }
}

/// Whether a receive that waits so can come back without a message for
/// that reason.
fn fits(why: NoMessage, wait: Wait) -> bool {
    matches!(
        (why, wait),
        (NoMessage::Disconnected, _)
            | (NoMessage::Empty, Wait::Never)
            | (NoMessage::Timeout, Wait::For(_))
    )
}

/// What a receive got, before it is recorded or returned.
pub(super) type Got<T> = Result<Envelope<T>, NoMessage>;

impl<T> Receiver<T> {
    fn new(inner: std::sync::mpsc::Receiver<Envelope<T>>) -> Self {
        Receiver {
            inner,
            held: RefCell::new(HashMap::default()),
            held_count: Cell::new(0),
        }
    }

    /// Blocks until a message arrives; fails once every sender is gone.
    #[track_caller]
    pub fn recv(&self) -> Result<T, RecvError> {
        match self.receive(Wait::Forever, Location::caller()) {
            Ok(value) => Ok(value),
            Err(_) => Err(RecvError),
        }
    }

    /// A message if one is there; in replay, exactly when the recorded run
    /// found one.
    #[track_caller]
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        match self.receive(Wait::Never, Location::caller()) {
            Ok(value) => Ok(value),
            Err(NoMessage::Disconnected) => Err(TryRecvError::Disconnected),
            Err(_) => Err(TryRecvError::Empty),
        }
    }

    /// Blocks at most `timeout` for a message; in replay, times out exactly
    /// when the recorded run did, without waiting.
    #[track_caller]
    pub fn recv_timeout(&self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        match self.receive(Wait::For(timeout), Location::caller()) {
            Ok(value) => Ok(value),
            Err(NoMessage::Disconnected) => Err(RecvTimeoutError::Disconnected),
            Err(_) => Err(RecvTimeoutError::Timeout),
        }
    }

    /// A receive, reported at `location`. The panic itself is raised at
    /// the caller's caller (`#[track_caller]`).
    #[track_caller]
    pub(super) fn receive(
        &self,
        wait: Wait,
        location: &'static Location<'static>,
    ) -> Result<T, NoMessage> {
        match context::mode() {
            ThreadMode::Off | ThreadMode::Assumed | ThreadMode::InCall => {
                self.take(wait).map(|e| e.value)
            }
            ThreadMode::Record => {
                let got = self.take(wait);
                context::record_thread_event(match &got {
                    Ok(envelope) => ThreadEvent::Recv {
                        sender: envelope.sender,
                        count: 1,
                        sent: envelope.sent,
                    },
                    Err(why) => ThreadEvent::RecvNone(*why),
                });
                got.map(|e| e.value)
            }
            ThreadMode::Replay => {
                // Only a receive that can come back so may.
                let planned = context::replay(location, |cursor| {
                    cursor.next_receive(wait.doing(), location, |why| fits(why, wait))
                });
                // A `match`, not `map`: a closure would lose the caller's
                // location for the panics `take_from` raises.
                match planned {
                    Ok(sender) => Ok(self.take_from(sender, location)),
                    Err(why) => Err(why),
                }
            }
            ThreadMode::Diverged => divergence::spent("the receive", location),
        }
    }

    /// As std would: the next message, or why there is none.
    pub(super) fn take(&self, wait: Wait) -> Got<T> {
        match wait {
            Wait::Never => self.inner.try_recv().map_err(|e| match e {
                TryRecvError::Empty => NoMessage::Empty,
                TryRecvError::Disconnected => NoMessage::Disconnected,
            }),
            Wait::For(timeout) => self.inner.recv_timeout(timeout).map_err(|e| match e {
                RecvTimeoutError::Timeout => NoMessage::Timeout,
                RecvTimeoutError::Disconnected => NoMessage::Disconnected,
            }),
            Wait::Forever => self.inner.recv().map_err(|_| NoMessage::Disconnected),
        }
    }

    /// Replay: the next message `sender` sent, holding back the others.
    #[track_caller]
    fn take_from(&self, sender: u32, location: &'static Location<'static>) -> T {
        if self.held_count.get() > 0 {
            let value = self
                .held
                .borrow_mut()
                .get_mut(&sender)
                .and_then(VecDeque::pop_front);
            if let Some(value) = value {
                self.held_count.set(self.held_count.get() - 1);
                return value;
            }
        }
        // What has arrived already, without registering a wait for the
        // stall report (a clock read, a lock and an allocation each).
        while let Ok(envelope) = self.inner.try_recv() {
            if envelope.sender == sender {
                return envelope.value;
            }
            self.hold(envelope);
        }
        let waiting = Waiting::start(
            format!("a message from thread {}", describe_sender(sender)),
            On::Message { sender },
            location,
        );
        loop {
            match self.inner.recv_timeout(Waiting::SLICE) {
                Ok(envelope) if envelope.sender == sender => return envelope.value,
                Ok(other) => self.hold(other),
                Err(RecvTimeoutError::Timeout) => {
                    if let Some(Err(stalled)) = waiting.as_ref().map(Waiting::check) {
                        drop(waiting);
                        (*stalled).raise();
                    }
                }
                Err(RecvTimeoutError::Disconnected) => {
                    // Senders that a reported stall stopped are gone too.
                    if let Some(stalled) = waiting.as_ref().and_then(Waiting::stopped_by_another) {
                        drop(waiting);
                        (*stalled).raise();
                    }
                    drop(waiting);
                    context::replay(location, |cursor| {
                        Err::<(), _>(cursor.diverged(
                            "every sender of the channel is gone".to_owned(),
                            format!("a message from thread {}", describe_sender(sender)),
                            "a receive on a channel without senders".to_owned(),
                            Vec::new(),
                            location,
                        ))
                    });
                    unreachable!("a divergence is raised")
                }
            }
        }
    }
}

impl<T> Receiver<T> {
    /// Replay: holds back a message that came before its turn.
    fn hold(&self, envelope: Envelope<T>) {
        self.held
            .borrow_mut()
            .entry(envelope.sender)
            .or_default()
            .push_back(envelope.value);
        self.held_count.set(self.held_count.get() + 1);
    }
}

fn describe_sender(sender: u32) -> String {
    if sender == NO_STREAM {
        "without a session".to_owned()
    } else {
        sender.to_string()
    }
}
