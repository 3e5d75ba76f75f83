//! Records a run full of nondeterminism (the clock, the process id, random
//! numbers, an environment variable), replays it in a fresh process, and
//! shows that both runs saw exactly the same world.
//!
//! ```text
//! cargo run --example quickstart
//! ```
//!
//! Run by hand, the program underneath is an ordinary binary whose session
//! comes from the environment:
//!
//! ```text
//! REPLAY_MODE=record REPLAY_PATH=/tmp/q.replay target/debug/examples/quickstart
//! REPLAY_MODE=replay REPLAY_PATH=/tmp/q.replay target/debug/examples/quickstart
//! ```

use std::error::Error;
use std::ffi::c_int;
use std::hash::{BuildHasher, Hasher, RandomState};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use replay_runtime::{Session, deterministic};

/// Microseconds since the epoch: different on every run.
#[deterministic]
fn now_micros() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros())
}

/// A random number, from the random keys std gives every process.
#[deterministic]
fn random_u64() -> u64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(0);
    hasher.finish()
}

/// An environment variable: input from outside the program.
#[deterministic]
fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

// libc, straight through an extern block.
#[deterministic]
unsafe extern "C" {
    safe fn getpid() -> c_int;
}

/// The program under test: it decides something from its inputs.
fn program() -> String {
    let started = now_micros();
    let pid = getpid();
    let dice: Vec<u64> = (0..3).map(|_| random_u64() % 6 + 1).collect();
    let user = env_var("QUICKSTART_USER").unwrap_or_else(|| "nobody".into());
    let verdict = if dice.iter().sum::<u64>() > 10 {
        "wins"
    } else {
        "loses"
    };
    format!(
        "started at {started} us in process {pid}\n\
         {user} rolls {dice:?} and {verdict}\n"
    )
}

fn main() -> Result<(), Box<dyn Error>> {
    // As a child: run the program under the session the environment names.
    if std::env::var_os("REPLAY_MODE").is_some() {
        let session = Session::from_env()?;
        print!("{}", program());
        eprintln!("{}", session.finish()?);
        return Ok(());
    }

    let path = std::env::temp_dir().join(format!("quickstart-{}.replay", std::process::id()));
    let run = |mode: &str, user: &str| -> Result<String, Box<dyn Error>> {
        let output = Command::new(std::env::current_exe()?)
            .env("REPLAY_MODE", mode)
            .env("REPLAY_PATH", &path)
            .env("QUICKSTART_USER", user)
            .output()?;
        if !output.status.success() {
            return Err(String::from_utf8_lossy(&output.stderr).into_owned().into());
        }
        let stdout = String::from_utf8(output.stdout)?;
        Ok(format!(
            "{stdout}({})\n",
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    };

    println!("A normal run:\n{}", program());
    let recorded = run("record", "alice")?;
    println!("Recorded in a child process (QUICKSTART_USER=alice):\n{recorded}");
    let replayed = run("replay", "bob")?;
    println!("Replayed in another process (QUICKSTART_USER=bob):\n{replayed}");
    std::fs::remove_file(&path)?;

    let program_output = |run: &str| run.lines().take(2).collect::<Vec<_>>().join("\n");
    if program_output(&replayed) != program_output(&recorded) {
        return Err("the replay differs from the recording".into());
    }
    println!("The replay matches the recording: same time, pid, dice and user.");
    Ok(())
}
