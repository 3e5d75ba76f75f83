//! The panic hook: keeps each panic's message for the recorded call it
//! ends (the call is recorded as panicked, see `call/record.rs`), and saves
//! the recording before the previous hook runs, which may end the process
//! (`panic = "abort"`, or a hook that aborts or exits).

use std::cell::RefCell;

use crate::context;
use crate::recording::sink;

thread_local! {
    /// The message of the panic this thread raised last.
    static MESSAGE: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// The message of the panic under way on this thread, for the recorded
/// call it ends.
pub(crate) fn take_message() -> String {
    MESSAGE
        .try_with(|m| m.try_borrow_mut().ok().and_then(|mut m| m.take()))
        .ok()
        .flatten()
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
            } else {
                // The panic may yet be caught, inside the call under way
                // too: that call stays staged (its guard records it as
                // panicked if the panic leaves it). What is complete is
                // written, in case the previous hook ends the process.
                context::with_writer(|w| w.flush());
                let _ = MESSAGE.try_with(|m| {
                    if let Ok(mut m) = m.try_borrow_mut() {
                        *m = Some(message);
                    }
                });
            }
            sink::publish_all();
            previous(info);
        }));
    });
}
