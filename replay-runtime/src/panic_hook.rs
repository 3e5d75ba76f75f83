//! The panic hook: writes the panicking thread's staged events before the
//! previous hook runs, so that a recording survives `panic = "abort"` too
//! (with unwinding, dropping the session writes them anyway).

use crate::context::{self, ThreadMode};

/// Installs the hook, once per process. A panic inside a recorded call
/// leaves that call's event unfinished; the thread is then inside the call
/// and nothing is written here, so the event is discarded as it unwinds.
pub(crate) fn install() {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if context::mode() == ThreadMode::Record {
                context::with_writer(|w| {
                    w.flush();
                    // The process may abort next: publish what there is.
                    let _ = w.sink().publish();
                });
            }
            previous(info);
        }));
    });
}
