//! Scale: records 16 threads making 100 million C calls in all (about 1.2
//! GB of events), replays them, and reports each phase's throughput and
//! peak resident memory (issue 11: under 64 MiB for both).
//!
//! ```text
//! cargo run --release -p replay-tests --example scale            # 16 x 6 250 000 calls
//! cargo run --release -p replay-tests --example scale -- 16 1000000
//! ```
//!
//! Each phase runs in a child process of its own (this executable with
//! `--child record|replay <path> <threads> <calls>`), so that its peak
//! resident memory (`getrusage`'s `ru_maxrss`) is its own. Every call is
//! `rt_now_nanos()`, a real C call whose result (a 9-byte varint) differs
//! every time; each thread sums what it got, and the replay must print the
//! sums the recording printed. The recording is written in a scratch
//! directory, removed at the end.

use std::process::{Command, ExitCode};
use std::time::Instant;

use replay_runtime::{Session, thread};
use replay_tests::rt_now_nanos;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--child") {
        return child(&args[1..]);
    }
    let threads: u64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(16);
    let calls: u64 = args
        .get(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(6_250_000);
    let dir = std::env::temp_dir().join(format!("replay-scale-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    let path = dir.join("scale.replay");
    let total = threads * calls;
    println!("{threads} threads x {calls} calls = {total} calls of rt_now_nanos()");

    let recorded = run("record", &path, threads, calls);
    let bytes = std::fs::metadata(&path).expect("the recording").len();
    let replayed = run("replay", &path, threads, calls);
    let _ = std::fs::remove_dir_all(&dir);
    let (Some(recorded), Some(replayed)) = (recorded, replayed) else {
        return ExitCode::FAILURE;
    };
    if recorded.sums != replayed.sums {
        eprintln!("the replay's sums differ from the recording's");
        return ExitCode::FAILURE;
    }
    let mb = bytes as f64 / 1e6;
    println!(
        "recording: {mb:.1} MB, {:.2} bytes/call",
        bytes as f64 / total as f64
    );
    for (phase, run) in [("record", &recorded), ("replay", &replayed)] {
        println!(
            "{phase}: {:.2} s, {:.1} M calls/s, {:.1} MB/s of file, peak RSS {:.1} MiB",
            run.seconds,
            total as f64 / run.seconds / 1e6,
            mb / run.seconds,
            run.peak_kib as f64 / 1024.0
        );
    }
    println!("the replay reproduced every thread's sum");
    ExitCode::SUCCESS
}

/// What a child phase reported.
struct Phase {
    seconds: f64,
    peak_kib: u64,
    sums: String,
}

/// Runs one phase in a child process.
fn run(mode: &str, path: &std::path::Path, threads: u64, calls: u64) -> Option<Phase> {
    let exe = std::env::current_exe().expect("this executable");
    let out = Command::new(exe)
        .args(["--child", mode])
        .arg(path)
        .args([threads.to_string(), calls.to_string()])
        .output()
        .expect("the child runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        eprintln!(
            "{mode} failed ({}):\n{stdout}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        return None;
    }
    let field = |name: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(str::to_owned)
    };
    Some(Phase {
        seconds: field("seconds ")?.parse().ok()?,
        peak_kib: field("peak_kib ")?.parse().ok()?,
        sums: field("sums ")?,
    })
}

/// One phase: the session, its threads and their calls; prints the time,
/// the peak resident memory and each thread's sum.
fn child(args: &[String]) -> ExitCode {
    let [mode, path, threads, calls] = args else {
        eprintln!("usage: scale --child record|replay PATH THREADS CALLS");
        return ExitCode::from(2);
    };
    let threads: u64 = threads.parse().expect("a thread count");
    let calls: u64 = calls.parse().expect("a call count");
    // Timed from the session's start (replay validates the whole file
    // then) to its end (record's last writes, synced and published).
    let started = Instant::now();
    let session = match mode.as_str() {
        "record" => Session::record(path),
        _ => Session::replay(path),
    }
    .expect("a session");
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            thread::spawn(move || (0..calls).fold(0u64, |sum, _| sum.wrapping_add(rt_now_nanos())))
        })
        .collect();
    let sums: Vec<String> = workers
        .into_iter()
        .map(|w| w.join().expect("a worker").to_string())
        .collect();
    let summary = session.finish().expect("the session finishes");
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(summary.calls, threads * calls);
    // SAFETY: getrusage fills the struct it is given.
    let peak_kib = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage.ru_maxrss as u64
    };
    println!("seconds {seconds}");
    println!("peak_kib {peak_kib}");
    println!("sums {}", sums.join(","));
    ExitCode::SUCCESS
}
