//! The threads example of `docs/threads.md`, recorded: four workers take
//! turns on a mutex-guarded log, ask the C library for a greeting, and
//! send their number to the main thread, which receives them in whatever
//! order they come. Its recording is the one `docs/timeline.png` pictures.
//!
//! ```text
//! cargo run -p replay-tests --example threads -- /tmp/threads.replay
//! cargo run -p replay-cli -- timeline /tmp/threads.replay -o timeline.html
//! ```

use std::error::Error;
use std::sync::Arc;

use replay_runtime::Session;
use replay_runtime::sync::{Mutex, mpsc};
use replay_runtime::thread;
use replay_tests::greet;

fn main() -> Result<(), Box<dyn Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: threads RECORDING (the file to record to)")?;
    let session = Session::record(&path)?;
    greet("main");
    let log = Arc::new(Mutex::new(Vec::new()));
    let (tx, rx) = mpsc::channel();
    let workers: Vec<_> = (0..4)
        .map(|t| {
            let (log, tx) = (log.clone(), tx.clone());
            thread::spawn(move || {
                for _ in 0..3 {
                    log.lock().unwrap_or_else(|e| e.into_inner()).push(t); // the order of opens is recorded
                }
                greet(&format!("worker {t}"));
                tx.send(t).ok(); // receives record the sender
            })
        })
        .collect();
    drop(tx);
    let order: Vec<_> = rx.iter().collect(); // replay: the recorded order
    for worker in workers {
        worker.join().map_err(|_| "a worker panicked")?;
    }
    greet(&format!("order {order:?}"));
    println!("{}", session.finish()?);
    Ok(())
}
