//! Not a fuzz target: reproduces, deterministically, the one finding of the
//! fuzzers (`README.md`, "Findings"): a recording that changes on disk after
//! `Session::replay` validated it made a replaying thread panic with
//! `index out of bounds` at `replay-runtime/src/cursor/mod.rs` (in
//! `Cursor::next_call`), rather than report an `Error` or a divergence.
//! Since issue 10 it prints the divergence that says the file changed, and
//! `finish` returns it.
//!
//! It records one call, starts replaying the file, then rewrites the file
//! in place with the call's definition event replaced by end markers
//! (same length, so the chunk offsets found by the validation still hold),
//! and makes the call. Each thread's stream reader used to open the file by
//! path and read its chunks only when the thread got to them, trusting the
//! validation; that is what the fuzzer hit, through a thread that outlived
//! its session while the harness wrote the next input to the same path.
//!
//! ```text
//! cargo +nightly run --manifest-path fuzz/Cargo.toml --bin changed_file
//! ```

use replay_runtime::Session;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::temp_dir().join(format!("replay-changed-{}.replay", std::process::id()));
    let session = Session::record(&path)?;
    replay_fuzz::entropy(1);
    session.finish().map_err(|e| e.to_string())?;

    let mut bytes = std::fs::read(&path)?;
    // Header: magic[8] version[2] meta_len[4] meta meta_crc[4]; then the
    // first chunk: len[4] crc[4] stream[4], whose first event defines the
    // function: head 0x02, name and signature as (short) strings.
    let meta_len = u32::from_le_bytes(bytes[10..14].try_into()?) as usize;
    let define = 14 + meta_len + 4 + 12;
    if bytes[define] != 0x02 {
        return Err("the first event is not a definition".into());
    }
    let name_len = bytes[define + 1] as usize;
    let signature_len = bytes[define + 2 + name_len] as usize;
    let end = define + 3 + name_len + signature_len;
    bytes[define..end].fill(0x03); // each byte an end-of-stream marker, which replay skips

    let session = Session::replay(&path)?; // validates the file as recorded
    std::fs::write(&path, &bytes)?; // then it changes, in place
    std::panic::set_hook(Box::new(|info| {
        if let Some(at) = info.location() {
            println!("panicked at {at}");
        }
    }));
    let outcome = std::panic::catch_unwind(|| replay_fuzz::entropy(1));
    let _ = std::panic::take_hook();
    let message = match &outcome {
        Ok(value) => format!("no panic: returned {value}"),
        Err(payload) => payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_default(),
    };
    println!("the call made after the file changed: {message}");
    let finished = session.finish();
    println!(
        "finish: {:?}",
        finished.map(|_| ()).map_err(|e| e.to_string())
    );
    std::fs::remove_file(&path).ok();
    Ok(())
}
