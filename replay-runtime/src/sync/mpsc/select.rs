//! [`select()`]: receives from whichever of several channels has a message
//! first, recording which won.

use std::panic::Location;
use std::time::Duration;

use super::channel::{Envelope, Receiver, RecvError, Wait};
use crate::context::{self, ThreadMode};
use crate::divergence;
use crate::recording::format::{NoMessage, ThreadEvent};

/// Receives from whichever of `receivers` has a message first, and
/// records which won: replay picks the same branch (and the same sender's
/// message) whatever arrives first. Returns the winning index and what it
/// received; `(0, Err(RecvError))` once every channel is disconnected.
#[track_caller]
pub fn select<T>(receivers: &[&Receiver<T>]) -> (usize, Result<T, RecvError>) {
    let location = Location::caller();
    match context::mode() {
        ThreadMode::Replay => {
            let branch = context::replay(location, |cursor| {
                cursor.thread_event("a select", location, |event| match event {
                    ThreadEvent::Select { branch } => Some(branch),
                    _ => None,
                })
            });
            match usize::try_from(branch)
                .ok()
                .and_then(|b| receivers.get(b).map(|rx| (b, rx)))
            {
                Some((b, rx)) => (b, rx.recv()),
                None if branch == u64::MAX => (0, Err(RecvError)),
                None => context::replay(location, |cursor| {
                    Err(cursor.diverged(
                        "the select has fewer branches than when recording".to_owned(),
                        format!("a select won by branch {branch}"),
                        format!("a select of {} branches", receivers.len()),
                        Vec::new(),
                        location,
                    ))
                }),
            }
        }
        ThreadMode::Diverged => divergence::spent("the select", location),
        mode => {
            let got = poll(receivers);
            if mode == ThreadMode::Record {
                let branch = got.as_ref().map_or(u64::MAX, |(b, _)| *b as u64);
                context::record_thread_event(ThreadEvent::Select { branch });
                if let Some((_, envelope)) = &got {
                    context::record_thread_event(ThreadEvent::Recv {
                        sender: envelope.sender,
                        count: 1,
                        sent: envelope.sent,
                    });
                }
            }
            match got {
                Some((b, envelope)) => (b, Ok(envelope.value)),
                None => (0, Err(RecvError)),
            }
        }
    }
}

/// Polls the receivers in turn until one has a message; `None` once all
/// are disconnected. Sleeps briefly between rounds.
fn poll<T>(receivers: &[&Receiver<T>]) -> Option<(usize, Envelope<T>)> {
    let mut pause = Duration::from_micros(10);
    loop {
        let mut open = false;
        for (b, rx) in receivers.iter().enumerate() {
            match rx.take(Wait::Never) {
                Ok(envelope) => return Some((b, envelope)),
                Err(NoMessage::Disconnected) => {}
                Err(_) => open = true,
            }
        }
        if !open {
            return None;
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(1));
    }
}
