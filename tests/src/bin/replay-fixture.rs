//! A program for the cross-process tests: makes real foreign calls under the
//! session the environment asks for (`REPLAY_MODE`, `REPLAY_PATH`) and
//! prints what it got, one `key=value` per line.
//!
//! `replay-fixture [diverge]`: with `diverge`, the program calls C with
//! another argument than a recorded run did.

use std::process::ExitCode;

use replay_runtime::Session;
use replay_tests::{Point, c_calls, greet, libc_calls, rt_now_nanos, rt_point_jitter};

fn main() -> ExitCode {
    let session = match Session::from_env() {
        Ok(session) => session,
        Err(e) => {
            eprintln!("replay-fixture: {e}");
            return ExitCode::from(2);
        }
    };
    let diverge = std::env::args().nth(1).as_deref() == Some("diverge");
    let before = c_calls();
    println!("mode={}", session.mode());
    println!("now={}", rt_now_nanos());
    println!("pid={}", libc_calls::getpid());
    let spread = if diverge { 7 } else { 1000 };
    let p = rt_point_jitter(Point { x: 0, y: 0 }, spread);
    println!("point={},{}", p.x, p.y);
    println!("greeting={}", greet("fixture"));
    println!("c_calls={}", c_calls() - before);
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
