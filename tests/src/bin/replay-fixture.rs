//! A program for the cross-process tests: makes real foreign calls under the
//! session the environment asks for (`REPLAY_MODE`, `REPLAY_PATH`) and
//! prints what it got, one `key=value` per line.
//!
//! `replay-fixture [diverge|crash]`: with `diverge`, the program calls C with
//! another argument than a recorded run did; with `crash`, it panics at the
//! end and aborts in the panic hook, as a `panic = "abort"` build does:
//! nothing is unwound or dropped.

use std::process::ExitCode;

use replay_runtime::Session;
use replay_tests::{Point, c_calls, greet, libc_calls, rt_now_nanos, rt_point_jitter};

fn main() -> ExitCode {
    let variant = std::env::args().nth(1).unwrap_or_default();
    if variant == "crash" {
        std::panic::set_hook(Box::new(|info| {
            eprintln!("{info}");
            std::process::abort();
        }));
    }
    let session = match Session::from_env() {
        Ok(session) => session,
        Err(e) => {
            eprintln!("replay-fixture: {e}");
            return ExitCode::from(2);
        }
    };
    let diverge = variant == "diverge";
    let before = c_calls();
    println!("mode={}", session.mode());
    println!("now={}", rt_now_nanos());
    println!("pid={}", libc_calls::getpid());
    let spread = if diverge { 7 } else { 1000 };
    let p = rt_point_jitter(Point { x: 0, y: 0 }, spread);
    println!("point={},{}", p.x, p.y);
    println!("greeting={}", greet("fixture"));
    println!("c_calls={}", c_calls() - before);
    if variant == "crash" {
        panic!("replay-fixture crashed on purpose");
    }
    match session.finish() {
        Ok(summary) => {
            eprintln!("replay-fixture: {summary}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("replay-fixture: {e}");
            ExitCode::from(3)
        }
    }
}
