//! Not a fuzz target: records the program of the `replay_program` target
//! (`replay_fuzz::program`) a few times, each run a seed file for the
//! corpora (the threads race and the clock differs, so the recordings
//! differ), and checks that each replays to the same output.
//!
//! ```text
//! cargo +nightly run --manifest-path fuzz/Cargo.toml --bin seed -- fuzz/corpus/replay_program [runs]
//! ```

use std::path::PathBuf;

use replay_runtime::Session;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().ok_or("usage: seed <corpus directory> [runs]")?);
    let runs: usize = args.next().map_or(Ok(4), |n| n.parse())?;
    std::fs::create_dir_all(&dir)?;
    for run in 0..runs {
        let path = dir.join(format!("seed-program-{run}.replay"));
        let session = Session::record(&path)?;
        let recorded = replay_fuzz::program();
        session.finish().map_err(|e| e.to_string())?;

        let session = Session::replay(&path)?;
        let replayed = replay_fuzz::program();
        session.finish().map_err(|e| e.to_string())?;
        if replayed != recorded {
            return Err(format!(
                "{}: the replay differs from the recorded run",
                path.display()
            )
            .into());
        }
        println!(
            "{} ({} bytes)",
            path.display(),
            std::fs::metadata(&path)?.len()
        );
        // Beside it, the same recording stored uncompressed.
        let unpacked = replay_fuzz::unpack(&std::fs::read(&path)?).ok_or("a seed that unpacks")?;
        let plain = dir.join(format!("seed-program-{run}-unpacked.replay"));
        std::fs::write(&plain, unpacked)?;
        let session = Session::replay(&plain)?;
        let replayed = replay_fuzz::program();
        session.finish().map_err(|e| e.to_string())?;
        if replayed != recorded {
            return Err(
                format!("{}: the unpacked seed replays differently", plain.display()).into(),
            );
        }
    }
    Ok(())
}
