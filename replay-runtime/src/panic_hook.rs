//! The panic hook: keeps each panic's message for the recorded call it
//! ends (the call is recorded as panicked, see `call/record.rs`), and
//! writes what is complete before the previous hook runs, which may end
//! the process (a hook that aborts or exits): it is then in the session's
//! `.partial` file, for `replay salvage`. Under `panic = "abort"`, where
//! the process surely ends, it also closes the call that panicked and
//! publishes the recording.

use std::cell::RefCell;

use crate::context;
use crate::recording::sink;

thread_local! {
    /// The message of the panic this thread raised last, and the number
    /// of the recorded call under way then (calls recorded before it).
    static MESSAGE: RefCell<Option<(String, Option<u64>)>> = const { RefCell::new(None) };
}

/// The message of the panic under way on this thread, for the recorded
/// call numbered `call` that it ends (a message kept for another call is
/// an earlier panic's).
pub(crate) fn take_message(call: u64) -> String {
    MESSAGE
        .try_with(|m| m.try_borrow_mut().ok().and_then(|mut m| m.take()))
        .ok()
        .flatten()
        // Unknown when the writer was busy (a `Serialize` panicked).
        .filter(|(_, during)| during.is_none_or(|during| during == call))
        .map(|(message, _)| message)
        .unwrap_or_else(|| {
            "(a panic whose message replay did not see: another panic hook replaced \
             replay's without calling it)"
                .to_owned()
        })
}

/// A panic's message, as the default hook prints it.
fn message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "Box<dyn Any>".to_owned()
    }
}

/// Installs the hook, once per process (it calls the hook it replaces).
pub(crate) fn install() {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let message = message(info.payload());
            if cfg!(panic = "abort") {
                // Nothing unwinds: no guard will close the call that
                // panicked, nor end the session. Close it here, write this
                // thread's stream, and publish every recording as it is.
                context::with_writer(|w| w.crash(&message));
                sink::publish_all();
            } else {
                // The panic may yet be caught, inside the call under way
                // too: that call stays staged (its guard records it as
                // panicked if the panic leaves it), and nothing is
                // published (the session goes on). What is complete is
                // written (the background writer is waited for), in case
                // the previous hook ends the process.
                // Kept only while a recorded call is open (the writer is
                // busy when a `Serialize` of the call's panics): a panic
                // outside any call ends none, and its message must not be
                // taken for a later call's.
                let during = match context::with_writer(|w| {
                    w.flush();
                    w.sink().drain();
                    w.call_open().then(|| w.calls())
                }) {
                    Some(None) => None,
                    Some(Some(call)) => Some(Some(call)),
                    None => Some(None),
                };
                let _ = MESSAGE.try_with(|m| {
                    if let Ok(mut m) = m.try_borrow_mut() {
                        *m = during.map(|call| (message, call));
                    }
                });
            }
            previous(info);
        }));
    });
}
