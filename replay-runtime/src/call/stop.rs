//! `REPLAY_BREAK`: a replay stopped right before a recorded call. It says
//! where it is, then hands over to a debugger: at once with `SIGTRAP` when
//! one is attached, or, when none is, once one attaches (it waits, naming
//! the process to attach to).

use std::io::Write as _;
use std::panic::Location;
use std::time::Duration;

use super::args::Args;
use crate::breaks::BREAK_VAR;
use crate::context::{Phase, Scope, ThreadMode};
use crate::site::Site;

/// How often a stopped replay looks for a debugger.
const POLL: Duration = Duration::from_millis(100);

/// Stops before call `call` of thread `thread`, a call to `site` with
/// `args` at `location`. Returns when a debugger goes on.
#[cold]
#[inline(never)]
pub(crate) fn stop<A: Args + ?Sized>(
    site: &Site,
    location: &Location<'_>,
    thread: u32,
    call: u64,
    args: &A,
) {
    // As reports render values: a `Debug` that makes a boundary call
    // makes it for real, unreplayed, as when recording.
    let display = Scope::enter(ThreadMode::InCall, Phase::Display);
    let shown: Vec<String> = (0..A::COUNT)
        .map(|i| {
            let value = args
                .get(i)
                .show_actual()
                .unwrap_or_else(|| "(a value without `Debug`)".to_owned());
            match site.params.get(i) {
                Some((_, name)) => format!("{name} = {value}"),
                None => value,
            }
        })
        .collect();
    drop(display);
    let head = format!(
        "replay: stopped before call {thread}:{call} ({BREAK_VAR}), the program calling \
         `{}`({})\n  at {location}",
        site.full_name(),
        shown.join(", ")
    );
    // Straight to the process's standard error: the test harness's
    // capture of `eprintln!` would hide it.
    let mut err = std::io::stderr();
    if debugger_attached() {
        let _ = writeln!(err, "{head}\n{}", trap_message());
        trap();
        return;
    }
    let pid = std::process::id();
    let _ = writeln!(
        err,
        "{head}\nreplay: waiting for a debugger: attach one with `rust-gdb -p {pid}` (or \
         `gdb -p {pid}`, `lldb -p {pid}`), then `continue`; or start the program under it, \
         e.g. `rust-gdb --args env {BREAK_VAR}={thread}:{call} REPLAY_MODE=replay \
         REPLAY_PATH=... PROGRAM`"
    );
    loop {
        std::thread::sleep(POLL);
        if debugger_attached() {
            let _ = writeln!(err, "replay: a debugger attached\n{}", trap_message());
            trap();
            return;
        }
    }
}

fn trap_message() -> &'static str {
    "replay: raising SIGTRAP for the debugger: `bt` shows the program's stack (its own \
     frames are below the runtime's), `frame N` goes to one; `continue` replays on"
}

/// Whether a debugger traces this process: Linux's `TracerPid`.
fn debugger_attached() -> bool {
    cfg!(target_os = "linux")
        && std::fs::read_to_string("/proc/self/status").is_ok_and(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("TracerPid:"))
                .is_some_and(|pid| pid.trim() != "0")
        })
}

/// Hands over to the debugger, which sees the thread stopped here.
fn trap() {
    #[cfg(unix)]
    // SAFETY: `raise` has no preconditions; a traced process stops and
    // its debugger decides what the signal does.
    unsafe {
        libc::raise(libc::SIGTRAP);
    }
}
