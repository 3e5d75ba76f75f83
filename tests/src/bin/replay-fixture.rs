//! A program for the cross-process tests: makes real foreign calls under the
//! session the environment asks for (`REPLAY_MODE`, `REPLAY_PATH`) and
//! prints what it got, one `key=value` per line.
//!
//! `replay-fixture [SCENARIO] [ARGS]`:
//! - no scenario: C calls (clock, pid, structs, strings);
//! - `diverge`: the same, calling C with another argument than a recorded
//!   run did;
//! - `crash`: the same, then a panic that aborts in the panic hook, as a
//!   `panic = "abort"` build does: nothing is unwound or dropped;
//! - `files DIR [EXTRA]`: opens, reads and closes files in DIR through
//!   `#[mapped]` descriptors, after opening EXTRA descriptors of its own;
//! - `stale DIR [bug]`: opens a, closes it, opens b and reads it; with
//!   `bug`, reads through a raw copy of a's handle instead;
//! - `log DIR`: opens DIR/log through `files::open_log`, whose replay
//!   stand-in opens `/dev/null`, and reads it;
//! - `context`: hands C the address of a Rust object and gets it back;
//! - `identity`: keys objects by deterministic identity and iterates;
//! - `locks [swap]`: two threads take a lock in turns, handing over by
//!   channel; with `swap`, the second takes another lock instead;
//! - `stress THREADS CALLS`: that many threads make that many boundary
//!   calls each, sending a message every 1000; prints a checksum and the
//!   peak memory;
//! - `unwind [diverge]`: calls C, and again from a value's `Drop`; with
//!   `diverge`, the first call diverges, so the second is made while the
//!   thread unwinds;
//! - `patch VERSION`: versioning; the program before a change (`old`: the
//!   clock, then `greet("fetch")`), after it (`new`: under
//!   `patched("fetch-with-retry")`, asked three times, a retry and a
//!   thread that asks too), the change without `patched` (`unguarded`),
//!   and once old recordings are gone (`deprecated`: the new path, with
//!   `deprecate_patch` on both threads);
//! - `panic-in-call`: calls C, then a `#[deterministic]` function whose body
//!   panics (built with `panic = "abort"` by `tests/cross_process.rs`, the
//!   process then aborts inside the recorded call).

use std::process::ExitCode;

use replay_runtime::identity::{Identified, IdentityMap};
use replay_runtime::{Context, Session};
use replay_tests::{Point, c_calls, files, greet, libc_calls, rt_now_nanos, rt_point_jitter};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let scenario = args.first().map(String::as_str).unwrap_or_default();
    if scenario == "crash" {
        std::panic::set_hook(Box::new(|info| {
            eprintln!("{info}");
            std::process::abort();
        }));
    }
    // Descriptors opened before the session shift every later number.
    let extra: usize = match scenario {
        "files" => args.get(2).and_then(|n| n.parse().ok()).unwrap_or(0),
        _ => 0,
    };
    let _held: Vec<_> = (0..extra)
        .map(|_| std::fs::File::open("/dev/null").expect("open /dev/null"))
        .collect();
    let session = match Session::from_env() {
        Ok(session) => session,
        Err(e) => {
            eprintln!("replay-fixture: {e}");
            return ExitCode::from(2);
        }
    };
    let before = c_calls();
    println!("mode={}", session.mode());
    match scenario {
        "files" => read_files(args.get(1).map_or(".", String::as_str)),
        "stale" => stale(
            args.get(1).map_or(".", String::as_str),
            args.get(2).is_some_and(|a| a == "bug"),
        ),
        "log" => log(args.get(1).map_or(".", String::as_str)),
        "context" => context(),
        "identity" => identity(),
        "unwind" => unwind(args.get(1).is_some_and(|a| a == "diverge")),
        "locks" => locks(args.get(1).is_some_and(|a| a == "swap")),
        "stress" => stress(
            args.get(1).and_then(|n| n.parse().ok()).unwrap_or(16),
            args.get(2).and_then(|n| n.parse().ok()).unwrap_or(100_000),
        ),
        "patch" => patch(args.get(1).map_or("old", String::as_str)),
        "panic-in-call" => {
            call_c(false);
            explode(rt_now_nanos());
        }
        _ => call_c(scenario == "diverge"),
    }
    println!("c_calls={}", c_calls() - before);
    if scenario == "crash" {
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

/// Panics inside the recorded call, with a message of what the clock said.
#[replay_runtime::deterministic]
fn explode(at: u64) -> u64 {
    panic!("exploded inside a recorded call at {}", at % 1000);
}

/// One version of a program whose boundary calls changed on purpose.
fn patch(version: &str) {
    println!("now={}", rt_now_nanos());
    let fetch = |retry: bool| {
        println!("greeting={}", greet("fetch"));
        if retry {
            println!("greeting={}", greet("retry"));
        }
    };
    // The new path's own new code: a thread that asks too (or, once the
    // patch is deprecated, retires it).
    let elsewhere = |deprecated: bool| {
        let thread = replay_runtime::thread::spawn(move || {
            let patched = match deprecated {
                true => {
                    replay_runtime::deprecate_patch("fetch-with-retry");
                    true
                }
                false => replay_runtime::patched("fetch-with-retry"),
            };
            (patched, rt_now_nanos())
        });
        let (on_thread, now) = thread.join().expect("the spawned thread");
        println!("patched on a thread={on_thread} now={now}");
    };
    match version {
        "old" => fetch(false),
        "new" => {
            let patched = replay_runtime::patched("fetch-with-retry");
            println!("patched={patched}");
            // Asked again, the thread gets the same answer.
            for _ in 0..2 {
                assert_eq!(replay_runtime::patched("fetch-with-retry"), patched);
            }
            fetch(patched);
            if patched {
                elsewhere(false);
            }
        }
        "unguarded" => fetch(true),
        "deprecated" => {
            replay_runtime::deprecate_patch("fetch-with-retry");
            println!("patched=true");
            fetch(true);
            elsewhere(true);
        }
        other => panic!("no version {other:?}"),
    }
}

fn call_c(diverge: bool) {
    println!("now={}", rt_now_nanos());
    println!("pid={}", libc_calls::getpid());
    let spread = if diverge { 7 } else { 1000 };
    let p = rt_point_jitter(Point { x: 0, y: 0 }, spread);
    println!("point={},{}", p.x, p.y);
    println!("greeting={}", greet("fixture"));
}

/// Opens a and b, closes a, opens c (which takes a's freed slot, and
/// usually a's descriptor number), and reads each.
fn read_files(dir: &str) {
    let open = |name: &str| files::open(&format!("{dir}/{name}")).expect("open");
    let a = open("a");
    let b = open("b");
    println!(
        "a={:?} {}",
        a,
        String::from_utf8_lossy(&files::read(&a, 64))
    );
    println!(
        "b={:?} {}",
        b,
        String::from_utf8_lossy(&files::read(&b, 64))
    );
    eprintln!("descriptors: a={} b={}", a.raw_fd(), b.raw_fd());
    files::close(a);
    let c = open("c");
    println!(
        "c={:?} {}",
        c,
        String::from_utf8_lossy(&files::read(&c, 64))
    );
    eprintln!("descriptors: c={}", c.raw_fd());
}

fn stale(dir: &str, bug: bool) {
    use replay_runtime::Mapped;
    let a = files::open(&format!("{dir}/a")).expect("open a");
    let kept = a.raw();
    files::close(a);
    let b = files::open(&format!("{dir}/b")).expect("open b");
    let text = if bug {
        // A raw copy kept past the close: a use-after-close bug.
        let stale = std::mem::ManuallyDrop::new(files::Fd::from_raw(kept));
        files::read(&stale, 64)
    } else {
        files::read(&b, 64)
    };
    println!("read={}", String::from_utf8_lossy(&text));
}

fn log(dir: &str) {
    let fd = files::open_log(&format!("{dir}/log")).expect("open the log");
    println!(
        "log={:?} {:?}",
        fd,
        String::from_utf8_lossy(&files::read(&fd, 64))
    );
}

fn locks(swap: bool) {
    use replay_runtime::sync::{Mutex, mpsc};
    use std::sync::Arc;
    let (a, b) = (Arc::new(Mutex::new(0)), Arc::new(Mutex::new(0)));
    let (to_second, from_first) = mpsc::channel();
    let (to_first, from_second) = mpsc::channel();
    let first = {
        let a = a.clone();
        replay_runtime::thread::spawn(move || {
            *a.lock().expect("lock") += 1;
            to_second.send(()).expect("send");
            from_second.recv().expect("recv");
            *a.lock().expect("lock") += 1;
        })
    };
    let second = {
        let a = a.clone();
        replay_runtime::thread::spawn(move || {
            from_first.recv().expect("recv");
            let lock = if swap { &b } else { &a };
            *lock.lock().expect("lock") += 1;
            to_first.send(()).expect("send");
        })
    };
    first.join().expect("the first thread");
    second.join().expect("the second thread");
    println!("a={}", a.lock().expect("lock"));
}

fn stress(threads: u64, calls: u64) {
    use replay_runtime::sync::mpsc;
    let (tx, rx) = mpsc::channel();
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            let tx = tx.clone();
            replay_runtime::thread::spawn(move || {
                let mut sum = 0u64;
                for i in 0..calls {
                    sum = sum.wrapping_add(rt_now_nanos() ^ (t << 32 | i));
                    if i % 1000 == 999 {
                        tx.send((t, i)).expect("send");
                    }
                }
                sum
            })
        })
        .collect();
    drop(tx);
    let order: u64 = rx.iter().fold(0, |h, (t, i)| {
        h.wrapping_mul(31).wrapping_add(t * 1_000_003 + i)
    });
    let sum = workers
        .into_iter()
        .map(|w| w.join().expect("join"))
        .fold(0u64, u64::wrapping_add);
    println!("sum={sum} order={order}");
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let peak = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .unwrap_or("VmHWM: 0 kB");
    eprintln!("peak {}", peak.trim_start_matches("VmHWM:").trim());
}

/// Calls C when dropped, as cleanup code does.
struct CallsOnDrop;

impl Drop for CallsOnDrop {
    fn drop(&mut self) {
        println!("greeting={}", greet("from drop"));
    }
}

fn unwind(diverge: bool) {
    let _cleanup = CallsOnDrop;
    let spread = if diverge { 7 } else { 1000 };
    let p = rt_point_jitter(Point { x: 0, y: 0 }, spread);
    println!("point={},{}", p.x, p.y);
}

/// The Rust object C keeps a pointer to.
struct Counter {
    name: &'static str,
}

fn context() {
    let counter = Context::new(Counter { name: "clicks" });
    // SAFETY: C keeps the pointer; `counter` outlives its use below.
    let back = unsafe {
        replay_tests::rt_set_context(counter.ptr());
        replay_tests::rt_get_context()
    };
    println!("same_object={}", back == counter.ptr());
    // SAFETY: `back` is `counter`'s address, and `counter` is alive.
    println!("name={}", unsafe { back.as_ref::<Counter>() }.name);
    println!("ptr={back:?}");
}

fn identity() {
    let nodes: Vec<_> = ["delta", "alpha", "charlie", "bravo"]
        .into_iter()
        .map(Identified::new)
        .collect();
    let mut weight = IdentityMap::default();
    // The weights come from the outside world (the C clock).
    for node in nodes.iter().rev() {
        weight.insert(node.id(), rt_now_nanos() % 1000);
    }
    for (id, w) in &weight {
        let node = nodes.iter().find(|n| n.id() == *id).expect("a node");
        println!("node={} id={} weight={w}", **node, id.get());
    }
}
