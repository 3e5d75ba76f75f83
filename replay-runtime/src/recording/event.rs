//! Events: their kinds, decoding and encoding. A stream is a sequence of
//! events (see `format.rs` for the file around them):
//!
//! ```text
//! event := head:varint body
//! ```
//!
//! The two low bits of `head` give the kind; the rest is the call site's
//! number in this stream (or a sub-kind for `KIND_META`). A call whose
//! foreign function called back into Rust is split in two meta events,
//! `OpenCall` (its arguments) and `CloseCall` (its results), around what
//! happened inside: each callback (`Callback`, its arguments), the calls
//! it made, and its return value (`Returned`). Format version 2 added
//! those four; version 1 has none. A call that panicked is reopened the
//! same way and closed by `Panicked` (its message) instead of its results,
//! which also closes the callbacks still open inside it (version 3).
//! Version 5 writes a lock's opens with the lock's number and a receive
//! run with where its last message was sent, as new kinds beside the old.

use super::format::{
    KIND_CALL, KIND_CALL_DIGESTED, KIND_DEFINE, KIND_META, NO_LOCK, NoMessage, SENT_UNKNOWN,
    ThreadEvent, put_varint, take_blob, take_varint, varint_len,
};
use super::varint::put_varints;

/// Sub-kind of `KIND_META`: the stream ended cleanly (`Session::finish`).
const META_END: u64 = 0;

/// Sub-kinds of `KIND_META` for what threads do with each other; see [`ThreadEvent`].
const META_SPAWN: u64 = 1;
const META_LOCK: u64 = 2;
const META_TRY_LOCK_FAILED: u64 = 3;
const META_RECV: u64 = 4;
const META_RECV_NONE: u64 = 5;
const META_SELECT: u64 = 6;
const META_READ_LOCK: u64 = 7;
const META_TRY_SEND: u64 = 8;
/// Sub-kinds of `KIND_META` for callbacks; see [`Event`].
const META_OPEN_CALL: u64 = 9;
const META_CLOSE_CALL: u64 = 10;
const META_CALLBACK: u64 = 11;
const META_RETURNED: u64 = 12;
/// Sub-kind of `KIND_META`: the innermost open call panicked (version 3).
const META_PANICKED: u64 = 13;
/// Sub-kinds of `KIND_META` from version 5 on: a lock's open and a receive
/// run as before, with which lock (its number in the session) and where
/// the sender was (its calls) added. Older files keep the older kinds.
const META_LOCK_OF: u64 = 14;
const META_READ_LOCK_OF: u64 = 15;
const META_RECV_SENT: u64 = 16;

/// The longest panic message kept, in bytes: the rest is cut off.
pub(crate) const MAX_PANIC_MESSAGE: usize = 4096;

/// A plain call whose head and two lengths take one byte each, as most
/// calls do: where its arguments and results lie in its chunk. Replay and
/// validation read these in place, without the general decoder.
pub(crate) struct PlainCall {
    pub(crate) site: usize,
    pub(crate) digested: bool,
    pub(crate) args: std::ops::Range<usize>,
    pub(crate) rest: std::ops::Range<usize>,
}

impl PlainCall {
    /// The event at `at` in `payload`, if it is a plain call to one of the
    /// first `sites` sites; `None` for anything else (the general decoder
    /// then reads it, and says what is wrong with it if anything is).
    #[inline(always)]
    pub(crate) fn at(payload: &[u8], at: usize, sites: usize) -> Option<PlainCall> {
        let &[head, args_len, ..] = payload.get(at..)? else {
            return None;
        };
        // Kinds 0 and 1 are calls (`KIND_CALL`, `KIND_CALL_DIGESTED`).
        if head >= 0x80 || head & 2 != 0 || usize::from(head >> 2) >= sites || args_len >= 0x80 {
            return None;
        }
        let rest_at = at + 2 + usize::from(args_len);
        let rest_len = *payload.get(rest_at)?;
        let end = rest_at + 1 + usize::from(rest_len);
        if rest_len >= 0x80 || end > payload.len() {
            return None;
        }
        Some(PlainCall {
            site: usize::from(head >> 2),
            digested: head & 1 != 0,
            args: at + 2..rest_at,
            rest: rest_at + 1..end,
        })
    }
}

/// The event at `at` in `payload`, if it is a lock's open (the thread
/// event every lock records), read without the general decoder: the
/// event and where the next one starts. `None` for anything else.
#[inline(always)]
pub(crate) fn lock_open_at(payload: &[u8], at: usize) -> Option<(ThreadEvent, usize)> {
    let mut bytes = payload.get(at..)?;
    let &head = bytes.first()?;
    // This version's kinds first: what replay reads most.
    let event = if u64::from(head) == META_LOCK_OF << 2 | KIND_META {
        bytes = &bytes[1..];
        let lock = take_varint(&mut bytes)?;
        let version = take_varint(&mut bytes)?;
        let reads = take_varint(&mut bytes)?;
        ThreadEvent::Lock {
            lock,
            version,
            reads,
        }
    } else if u64::from(head) == META_READ_LOCK_OF << 2 | KIND_META {
        bytes = &bytes[1..];
        let lock = take_varint(&mut bytes)?;
        let version = take_varint(&mut bytes)?;
        ThreadEvent::ReadLock { lock, version }
    } else if u64::from(head) == META_LOCK << 2 | KIND_META {
        bytes = &bytes[1..];
        let version = take_varint(&mut bytes)?;
        let reads = take_varint(&mut bytes)?;
        ThreadEvent::Lock {
            lock: NO_LOCK,
            version,
            reads,
        }
    } else if u64::from(head) == META_READ_LOCK << 2 | KIND_META {
        bytes = &bytes[1..];
        ThreadEvent::ReadLock {
            lock: NO_LOCK,
            version: take_varint(&mut bytes)?,
        }
    } else {
        return None;
    };
    Some((event, payload.len() - bytes.len()))
}

/// One decoded event, borrowing from its chunk.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Event<'a> {
    Define {
        site: u64,
        name: &'a str,
        signature: &'a str,
    },
    Call {
        site: u64,
        digested: bool,
        args: &'a [u8],
        rest: &'a [u8],
    },
    /// A call whose foreign function called back: its arguments; what
    /// happened inside follows, then [`Event::CloseCall`].
    OpenCall {
        site: u64,
        digested: bool,
        args: &'a [u8],
    },
    /// The results of the innermost open call.
    CloseCall {
        rest: &'a [u8],
    },
    /// Foreign code called the callback defined as `site` with `args`
    /// (always stored whole: replay passes them to the callback).
    Callback {
        site: u64,
        args: &'a [u8],
    },
    /// The innermost callback returned `ret`.
    Returned {
        ret: &'a [u8],
    },
    /// The innermost open call panicked with `message`: it ends with the
    /// callbacks still open inside it.
    Panicked {
        message: &'a str,
    },
    Thread(ThreadEvent),
    End,
}

/// Why an event could not be decoded.
pub(crate) type EventError = &'static str;

impl<'a> Event<'a> {
    /// Decodes the event at the front of `bytes`, advancing past it.
    pub(crate) fn take(bytes: &mut &'a [u8]) -> Result<Event<'a>, EventError> {
        let head = take_varint(bytes).ok_or("an event header is cut short")?;
        let tail = head >> 2;
        match head & 3 {
            KIND_CALL | KIND_CALL_DIGESTED => {
                let args = take_blob(bytes).ok_or("a call's arguments are cut short")?;
                let rest = take_blob(bytes).ok_or("a call's results are cut short")?;
                Ok(Event::Call {
                    site: tail,
                    digested: head & 3 == KIND_CALL_DIGESTED,
                    args,
                    rest,
                })
            }
            KIND_DEFINE => {
                let name = take_blob(bytes).ok_or("a function name is cut short")?;
                let signature = take_blob(bytes).ok_or("a function signature is cut short")?;
                Ok(Event::Define {
                    site: tail,
                    name: std::str::from_utf8(name).map_err(|_| "a function name is not UTF-8")?,
                    signature: std::str::from_utf8(signature)
                        .map_err(|_| "a function signature is not UTF-8")?,
                })
            }
            _ if (META_OPEN_CALL..=META_PANICKED).contains(&tail) => Self::take_nested(tail, bytes),
            _ => {
                let mut int = || take_varint(bytes).ok_or("a thread event is cut short");
                Ok(Event::Thread(match tail {
                    META_END => return Ok(Event::End),
                    META_SPAWN => ThreadEvent::Spawn {
                        stream: u32::try_from(int()?)
                            .map_err(|_| "a spawned stream is out of range")?,
                    },
                    META_LOCK => ThreadEvent::Lock {
                        lock: NO_LOCK,
                        version: int()?,
                        reads: int()?,
                    },
                    META_LOCK_OF => ThreadEvent::Lock {
                        lock: int()?,
                        version: int()?,
                        reads: int()?,
                    },
                    META_TRY_LOCK_FAILED => ThreadEvent::TryLockFailed,
                    META_RECV => ThreadEvent::Recv {
                        sender: u32::try_from(int()?).map_err(|_| "a sender is out of range")?,
                        count: int()?,
                        sent: SENT_UNKNOWN,
                    },
                    META_RECV_SENT => ThreadEvent::Recv {
                        sender: u32::try_from(int()?).map_err(|_| "a sender is out of range")?,
                        count: int()?,
                        sent: int()?,
                    },
                    META_RECV_NONE => ThreadEvent::RecvNone(match int()? {
                        0 => NoMessage::Empty,
                        1 => NoMessage::Timeout,
                        2 => NoMessage::Disconnected,
                        _ => return Err("a receive has an unknown outcome"),
                    }),
                    META_SELECT => ThreadEvent::Select { branch: int()? },
                    META_READ_LOCK => ThreadEvent::ReadLock {
                        lock: NO_LOCK,
                        version: int()?,
                    },
                    META_READ_LOCK_OF => ThreadEvent::ReadLock {
                        lock: int()?,
                        version: int()?,
                    },
                    META_TRY_SEND => ThreadEvent::TrySend { outcome: int()? },
                    _ => return Err("an event has an unknown kind"),
                }))
            }
        }
    }

    /// The format version that introduced this kind of event.
    pub(crate) fn since(&self) -> u16 {
        match self {
            Event::OpenCall { .. }
            | Event::CloseCall { .. }
            | Event::Callback { .. }
            | Event::Returned { .. } => 2,
            Event::Panicked { .. } => 3,
            Event::Thread(ThreadEvent::Lock { lock, .. } | ThreadEvent::ReadLock { lock, .. })
                if *lock != NO_LOCK =>
            {
                5
            }
            Event::Thread(ThreadEvent::Recv { sent, .. }) if *sent != SENT_UNKNOWN => 5,
            _ => 1,
        }
    }

    /// Decodes the rest of a callback's event, or of an open call's.
    fn take_nested(sub: u64, bytes: &mut &'a [u8]) -> Result<Event<'a>, EventError> {
        let blob = |bytes: &mut &'a [u8]| take_blob(bytes).ok_or("a callback's event is cut short");
        Ok(match sub {
            META_OPEN_CALL => {
                let site = take_varint(bytes).ok_or("an open call is cut short")?;
                let digested = match take_varint(bytes) {
                    Some(0) => false,
                    Some(1) => true,
                    _ => return Err("an open call is cut short or malformed"),
                };
                Event::OpenCall {
                    site,
                    digested,
                    args: blob(bytes)?,
                }
            }
            META_CLOSE_CALL => Event::CloseCall { rest: blob(bytes)? },
            META_CALLBACK => Event::Callback {
                site: take_varint(bytes).ok_or("a callback's event is cut short")?,
                args: blob(bytes)?,
            },
            META_RETURNED => Event::Returned { ret: blob(bytes)? },
            META_PANICKED => Event::Panicked {
                message: std::str::from_utf8(blob(bytes)?)
                    .map_err(|_| "a panic message is not UTF-8")?,
            },
            _ => return Err("an event has an unknown kind"),
        })
    }

    /// The head of an open call, for `site`, before its argument blob.
    pub(crate) fn put_open_call_head(buf: &mut Vec<u8>, site: u64, digested: bool) {
        put_varint(buf, META_OPEN_CALL << 2 | KIND_META);
        put_varint(buf, site);
        put_varint(buf, u64::from(digested));
    }

    /// The head of a close-call event, before its results' blob.
    pub(crate) fn put_close_call_head(buf: &mut Vec<u8>) {
        put_varint(buf, META_CLOSE_CALL << 2 | KIND_META);
    }

    /// The head of a callback's event, for `site`, before its argument blob.
    pub(crate) fn put_callback_head(buf: &mut Vec<u8>, site: u64) {
        put_varint(buf, META_CALLBACK << 2 | KIND_META);
        put_varint(buf, site);
    }

    /// Appends a panic event: the innermost open call panicked with
    /// `message` (cut to [`MAX_PANIC_MESSAGE`] bytes).
    pub(crate) fn put_panicked(buf: &mut Vec<u8>, message: &str) {
        let mut end = message.len().min(MAX_PANIC_MESSAGE);
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        put_varint(buf, META_PANICKED << 2 | KIND_META);
        put_varint(buf, end as u64);
        buf.extend_from_slice(&message.as_bytes()[..end]);
    }

    /// The head of a callback's return, before the return value's blob.
    pub(crate) fn put_returned_head(buf: &mut Vec<u8>) {
        put_varint(buf, META_RETURNED << 2 | KIND_META);
    }

    /// Appends the encoding of a define event.
    pub(crate) fn put_define(buf: &mut Vec<u8>, site: u64, name: &str, signature: &str) {
        put_varint(buf, site << 2 | KIND_DEFINE);
        put_varint(buf, name.len() as u64);
        buf.extend_from_slice(name.as_bytes());
        put_varint(buf, signature.len() as u64);
        buf.extend_from_slice(signature.as_bytes());
    }

    /// Appends the encoding of a thread event: its head, then its values,
    /// one varint each (written out per kind: a lock's open is recorded on
    /// every lock, so this is a hot path too).
    #[inline]
    pub(crate) fn put_thread(buf: &mut Vec<u8>, event: ThreadEvent) {
        let head = |sub: u64| sub << 2 | KIND_META;
        match event {
            ThreadEvent::Lock {
                lock,
                version,
                reads,
            } => put_varints(buf, [head(META_LOCK_OF), lock, version, reads]),
            ThreadEvent::ReadLock { lock, version } => {
                put_varints(buf, [head(META_READ_LOCK_OF), lock, version]);
            }
            ThreadEvent::Spawn { stream } => {
                put_varint(buf, head(META_SPAWN));
                put_varint(buf, u64::from(stream));
            }
            ThreadEvent::TryLockFailed => put_varint(buf, head(META_TRY_LOCK_FAILED)),
            ThreadEvent::Recv {
                sender,
                count,
                sent,
            } => put_varints(buf, [head(META_RECV_SENT), u64::from(sender), count, sent]),
            ThreadEvent::RecvNone(why) => {
                put_varint(buf, head(META_RECV_NONE));
                put_varint(buf, why as u64);
            }
            ThreadEvent::Select { branch } => {
                put_varint(buf, head(META_SELECT));
                put_varint(buf, branch);
            }
            ThreadEvent::TrySend { outcome } => {
                put_varint(buf, head(META_TRY_SEND));
                put_varint(buf, outcome);
            }
        }
    }

    /// The length of a receive run's encoding: its head (one byte), the
    /// sender, the count and where the last message was sent.
    pub(crate) fn recv_len(sender: u32, count: u64, sent: u64) -> usize {
        1 + varint_len(u64::from(sender)) + varint_len(count) + varint_len(sent)
    }

    /// Appends the encoding of the end-of-stream marker.
    pub(crate) fn put_end(buf: &mut Vec<u8>) {
        put_varint(buf, META_END << 2 | KIND_META);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_round_trip() {
        let mut buf = Vec::new();
        Event::put_define(&mut buf, 3, "crate::f", "fn(u8) -> u8");
        put_varint(&mut buf, 3 << 2 | KIND_CALL);
        buf.extend_from_slice(&[1, 42, 1, 43]);
        Event::put_end(&mut buf);
        let mut bytes = &buf[..];
        assert_eq!(
            Event::take(&mut bytes),
            Ok(Event::Define {
                site: 3,
                name: "crate::f",
                signature: "fn(u8) -> u8"
            })
        );
        assert_eq!(
            Event::take(&mut bytes),
            Ok(Event::Call {
                site: 3,
                digested: false,
                args: &[42],
                rest: &[43]
            })
        );
        assert_eq!(Event::take(&mut bytes), Ok(Event::End));
        assert!(bytes.is_empty());
    }
}
