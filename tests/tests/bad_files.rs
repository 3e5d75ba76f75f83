//! Every kind of bad recording is an `Error` from `Session::replay` whose
//! message names the file and says what is wrong: never a panic, a hang, or
//! an allocation sized by a number read from the file.
//!
//! The tests build bad files by hand from the layout in `docs/format.md`,
//! with `replay_tests::recording_files`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::fs;
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;
use std::time::{Duration, Instant};

use replay_runtime::{Error, Mode, Session, deterministic};
use replay_tests::recording_files::{
    CHUNK_HEADER, END, FileLayout, HEADER_FIXED, MAGIC, VERSION, call, chunk, define, header,
    header_with,
};
use replay_tests::{TempDir, assert_contains, panic_message, write_file};

// ---------------------------------------------------------------------------
// The largest allocation made on the current thread, so tests can check that
// a length read from a file is never trusted for an allocation.

struct Tracking;

thread_local! {
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

fn note(size: usize) {
    let _ = LARGEST.try_with(|l| l.set(l.get().max(size)));
}

// SAFETY: every call is forwarded to `System` unchanged.
unsafe impl GlobalAlloc for Tracking {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Tracking = Tracking;

/// Runs `f`, returning its result, the largest single allocation it made on
/// this thread, and how long it took.
fn measured<T>(f: impl FnOnce() -> T) -> (T, usize, Duration) {
    LARGEST.with(|l| l.set(0));
    let start = Instant::now();
    let out = f();
    let elapsed = start.elapsed();
    (out, LARGEST.with(Cell::get), elapsed)
}

#[test]
fn allocation_tracking_sees_large_allocations() {
    let (v, largest, _) = measured(|| vec![1u8; 3 << 20]);
    assert_eq!(v.len(), 3 << 20);
    assert!(largest >= 3 << 20, "the tracker saw only {largest} bytes");
}

// ---------------------------------------------------------------------------
// Helpers.

/// `Session::replay`, which must return (not panic) for any file.
fn replay(path: &Path) -> Result<Session, Error> {
    panic::catch_unwind(AssertUnwindSafe(|| Session::replay(path)))
        .unwrap_or_else(|_| panic!("Session::replay panicked on {}", path.display()))
}

/// The error `Session::replay` gives for `path`, checking that its message
/// names the file and contains every one of `words`.
fn replay_error(path: &Path, words: &[&str]) -> Error {
    let error = match replay(path) {
        Ok(session) => {
            let _ = session.finish();
            panic!("{} was accepted for replay", path.display());
        }
        Err(e) => e,
    };
    let message = error.to_string();
    assert_contains!(
        message,
        path.display().to_string(),
        "the message does not name the file"
    );
    for word in words {
        assert_contains!(message, word, "the message does not say {word:?}");
    }
    error
}

/// Deterministic pseudo-random bytes (xorshift64*).
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8
        })
        .collect()
}

// ---------------------------------------------------------------------------
// The functions recorded.

/// A block of pseudo-random bytes: large results fill chunks quickly.
#[deterministic]
fn block(seed: u64, len: u32) -> Vec<u8> {
    noise(seed, len as usize)
}

#[deterministic]
fn add(a: u32, b: u32) -> u32 {
    a.wrapping_add(b)
}

/// The calls of the small recording (one chunk); returns what they returned.
fn small_calls() -> (u32, Vec<u8>, u32) {
    (add(1, 2), block(7, 16), add(40, 2))
}

/// Records the small recording at `path` and returns its bytes.
fn record_small(path: &Path) -> Vec<u8> {
    let session = Session::record(path).expect("start recording");
    small_calls();
    session.finish().expect("finish recording");
    let bytes = fs::read(path).expect("read the recording");
    assert_eq!(FileLayout::of(&bytes).chunks.len(), 1);
    bytes
}

const LARGE_CALLS: u64 = 200;

fn large_calls(out: &mut Vec<Vec<u8>>) {
    for i in 0..LARGE_CALLS {
        out.push(block(i, 1000));
    }
}

/// Records about 200 KB (several chunks) at `path`; returns its bytes and
/// the values recorded.
fn record_large(path: &Path) -> (Vec<u8>, Vec<Vec<u8>>) {
    let session = Session::record(path).expect("start recording");
    let mut values = Vec::new();
    large_calls(&mut values);
    session.finish().expect("finish recording");
    let bytes = fs::read(path).expect("read the recording");
    assert!(FileLayout::of(&bytes).chunks.len() >= 3);
    (bytes, values)
}

// ---------------------------------------------------------------------------
// The tests.

#[test]
fn intact_recordings_replay() {
    let dir = TempDir::new("intact_recordings_replay");
    let path = dir.join("small.replay");
    let session = Session::record(&path).unwrap();
    let recorded = small_calls();
    session.finish().unwrap();
    let session = replay(&path).expect("an intact recording replays");
    assert_eq!(small_calls(), recorded);
    assert_eq!(session.finish().unwrap().calls, 3);
}

#[test]
fn missing_file_is_an_open_error_naming_the_path() {
    let dir = TempDir::new("missing_file_is_an_open_error_naming_the_path");
    let path = dir.join("never-written.replay");
    let error = replay_error(&path, &["cannot open recording"]);
    assert!(
        matches!(&error, Error::Io { action: "open", path: p, source }
            if p == &path && source.kind() == std::io::ErrorKind::NotFound),
        "{error:?}"
    );
}

#[test]
fn directory_is_an_error_naming_the_path() {
    let dir = TempDir::new("directory_is_an_error_naming_the_path");
    let path = dir.join("a-directory.replay");
    fs::create_dir(&path).unwrap();
    let error = replay_error(&path, &["is not a regular file"]);
    assert!(matches!(error, Error::NotAFile { .. }), "{error:?}");
}

#[test]
fn fifo_is_refused_without_blocking() {
    let dir = TempDir::new("fifo_is_refused_without_blocking");
    let path = dir.join("a-fifo.replay");
    let made = std::process::Command::new("mkfifo").arg(&path).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("mkfifo is not available; skipping");
        return;
    }
    // Opening a FIFO with no writer would block forever.
    let error = replay_error(&path, &["is not a regular file"]);
    assert!(matches!(error, Error::NotAFile { .. }), "{error:?}");
}

#[test]
fn empty_file_is_reported_as_empty() {
    let dir = TempDir::new("empty_file_is_reported_as_empty");
    let path = write_file(&dir, "empty.replay", b"");
    let error = replay_error(&path, &["is empty", "0 bytes", "REPLAY_MODE=record"]);
    assert!(
        matches!(&error, Error::Empty { path: p } if p == &path),
        "{error:?}"
    );
}

#[test]
fn truncated_header_is_reported_at_every_cut() {
    let dir = TempDir::new("truncated_header_is_reported_at_every_cut");
    let full = record_small(&dir.join("full.replay"));
    let header_len = FileLayout::of(&full).header_len;
    for cut in 1..header_len {
        let path = write_file(&dir, "cut.replay", &full[..cut]);
        let error = replay_error(
            &path,
            &[
                "is truncated",
                "the header at byte 0 is cut short",
                &format!("ends at byte {cut}"),
            ],
        );
        assert!(
            matches!(error, Error::Truncated { what: "the header", offset: 0, len, .. }
                if len == cut as u64),
            "cut at {cut}: {error:?}"
        );
    }
}

#[test]
fn truncated_chunk_is_reported_not_replayed() {
    let dir = TempDir::new("truncated_chunk_is_reported_not_replayed");
    let (full, _) = record_large(&dir.join("full.replay"));
    let layout = FileLayout::of(&full);
    let boundaries = layout.boundaries();

    // Cuts around every chunk's header and inside its payload, and a stride
    // through the whole file.
    let mut cuts: Vec<usize> = (layout.header_len + 1..full.len()).step_by(4099).collect();
    for &(at, len) in &layout.chunks {
        let end = at + CHUNK_HEADER + len;
        cuts.extend([1, 4, 8, 11, 12, 13].map(|d| at + d));
        cuts.extend([at + CHUNK_HEADER + len / 2, end - 1]);
    }
    cuts.retain(|c| !boundaries.contains(c));
    cuts.sort_unstable();
    cuts.dedup();

    for cut in cuts {
        let path = write_file(&dir, "cut.replay", &full[..cut]);
        // The chunk the cut falls in.
        let &(at, _) = layout
            .chunks
            .iter()
            .rfind(|&&(at, _)| at < cut)
            .expect("cuts are after the header");
        let what = if cut - at < CHUNK_HEADER {
            "a chunk header"
        } else {
            "a chunk"
        };
        let error = replay_error(
            &path,
            &[
                "is truncated",
                &format!("{what} at byte {at} is cut short"),
                &format!("ends at byte {cut}"),
                "killed while writing",
            ],
        );
        assert!(
            matches!(error, Error::Truncated { what: w, offset, len, .. }
                if w == what && offset == at as u64 && len == cut as u64),
            "cut at {cut}: {error:?}"
        );
    }
}

/// A file cut exactly between chunks is well formed as far as the reader can
/// tell: it replays until the recording is exhausted, and then diverges.
#[test]
fn cut_at_a_chunk_boundary_replays_until_exhausted() {
    let dir = TempDir::new("cut_at_a_chunk_boundary_replays_until_exhausted");
    let (full, recorded) = record_large(&dir.join("full.replay"));
    let layout = FileLayout::of(&full);
    let mut replayed_before = 0;
    for (i, &cut) in layout.boundaries().iter().enumerate() {
        let path = write_file(&dir, "cut.replay", &full[..cut]);
        let session = replay(&path).expect("a file cut between chunks opens");
        let mut replayed = 0;
        let mut divergence = None;
        for (j, expected) in recorded.iter().enumerate() {
            match panic::catch_unwind(|| block(j as u64, 1000)) {
                Ok(value) => {
                    assert_eq!(&value, expected, "call {j}");
                    replayed += 1;
                }
                Err(payload) => {
                    assert!(payload.is::<String>(), "divergences panic with a String");
                    divergence = Some(panic_message(&*payload));
                    break;
                }
            }
        }
        let finished = session.finish();
        if cut == full.len() {
            assert_eq!(replayed, recorded.len());
            assert!(divergence.is_none());
            assert!(finished.is_ok(), "{finished:?}");
            continue;
        }
        let divergence = divergence.expect("the cut recording runs out");
        assert!(divergence.starts_with("replay diverged"), "{divergence}");
        assert_contains!(divergence, "the recording is exhausted");
        assert_contains!(divergence, "the recording has no end marker");
        assert_contains!(divergence, path.display().to_string());
        if i == 0 {
            assert_eq!(replayed, 0, "no chunks, no calls");
        } else {
            assert!(replayed > replayed_before, "each chunk holds calls");
        }
        replayed_before = replayed;
        let error = finished.expect_err("finish reports the divergence");
        assert!(
            matches!(&error, Error::Diverged { message } if *message == divergence),
            "{error:?}"
        );
    }
}

#[test]
fn random_bytes_are_not_a_recording() {
    let dir = TempDir::new("random_bytes_are_not_a_recording");
    for seed in 1..=32u64 {
        for len in [1, 7, 8, 13, 14, 100, 4096] {
            let mut bytes = noise(seed, len);
            if bytes[0] == MAGIC[0] {
                bytes[0] = 0;
            }
            let path = write_file(&dir, "random.replay", &bytes);
            let error = replay_error(
                &path,
                &[
                    "is not a replay recording",
                    "does not start with the replay magic number",
                ],
            );
            assert!(
                matches!(&error, Error::NotARecording { path: p, .. } if p == &path),
                "{error:?}"
            );
        }
    }
}

#[test]
fn random_bytes_after_a_valid_header_are_corrupt_or_truncated() {
    let dir = TempDir::new("random_bytes_after_a_valid_header_are_corrupt_or_truncated");
    for seed in 1..=64u64 {
        for len in [1, 11, 12, 13, 40, 1000, 70_000] {
            let mut bytes = header();
            bytes.extend(noise(seed, len));
            let path = write_file(&dir, "garbage.replay", &bytes);
            let ((result, message), largest, _) = measured(|| {
                let e = replay(&path).expect_err("random chunks are rejected");
                let m = e.to_string();
                (e, m)
            });
            assert!(
                matches!(result, Error::Truncated { .. } | Error::Corrupt { .. }),
                "{result:?}"
            );
            assert_contains!(message, path.display().to_string());
            assert!(
                largest <= 2 * bytes.len() + 64 * 1024,
                "allocated {largest} bytes for a {}-byte file",
                bytes.len()
            );
        }
    }
}

#[test]
fn other_formats_are_named() {
    let dir = TempDir::new("other_formats_are_named");
    let elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x03\0\x3e\0\x01\0\0\0".as_slice();
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0".as_slice();
    let cases: [(&str, &[u8], &str); 9] = [
        ("elf", elf, "an ELF executable"),
        ("png", png, "a PNG image"),
        ("json", br#"{"calls": [1, 2, 3]}"#, "JSON or other text"),
        ("json-array", b"[1, 2, 3]\n", "JSON or other text"),
        ("gzip", b"\x1f\x8b\x08\0\0\0\0\0\0\x03", "a gzip archive"),
        ("zip", b"PK\x03\x04\x14\0\0\0\x08\0", "a zip archive"),
        ("pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "a PDF document"),
        (
            "zstd",
            b"\x28\xb5\x2f\xfd\x24\x05\x29\0\0",
            "a zstd archive",
        ),
        ("text", b"hello, replay\nsecond line\n", "a text file"),
    ];
    for (name, bytes, looks_like) in cases {
        let path = write_file(&dir, format!("{name}.replay"), bytes);
        let error = replay_error(
            &path,
            &[
                "is not a replay recording",
                &format!("it looks like {looks_like}"),
            ],
        );
        assert!(
            matches!(&error, Error::NotARecording { found: Some(f), .. } if f == looks_like),
            "{name}: {error:?}"
        );
    }
}

#[test]
fn other_version_asks_to_re_record() {
    let dir = TempDir::new("other_version_asks_to_re_record");
    let full = record_small(&dir.join("full.replay"));
    for version in [0u16, VERSION + 1, 0x0100, u16::MAX] {
        let mut bytes = full.clone();
        bytes[8..10].copy_from_slice(&version.to_le_bytes());
        let path = write_file(&dir, "version.replay", &bytes);
        let error = replay_error(
            &path,
            &[
                &format!("uses format version {version}"),
                &format!("reads versions up to {VERSION}"),
                "re-record it with REPLAY_MODE=record",
            ],
        );
        assert!(
            matches!(error, Error::UnsupportedVersion { found, supported: VERSION, .. }
                if found == version),
            "{error:?}"
        );
    }
    // Only the fixed header need be present to tell the version.
    let mut bytes = full[..HEADER_FIXED].to_vec();
    bytes[8] = VERSION as u8 + 1;
    let path = write_file(&dir, "version-only.replay", &bytes);
    let error = replay_error(&path, &[&format!("uses format version {}", VERSION + 1)]);
    assert!(
        matches!(error, Error::UnsupportedVersion { found, .. } if found == VERSION + 1),
        "{error:?}"
    );
}

#[test]
fn flipped_payload_byte_fails_the_checksum() {
    let dir = TempDir::new("flipped_payload_byte_fails_the_checksum");
    let full = record_small(&dir.join("full.replay"));
    let layout = FileLayout::of(&full);
    let (at, len) = layout.chunks[0];
    // Every byte of the checksum, the stream number and the payload.
    for i in at + 4..at + CHUNK_HEADER + len {
        for mask in [0x01, 0x80, 0xff] {
            let mut bytes = full.clone();
            bytes[i] ^= mask;
            let path = write_file(&dir, "flipped.replay", &bytes);
            let error = replay_error(
                &path,
                &[
                    &format!("is corrupt at byte {at}"),
                    "a chunk's checksum does not match",
                ],
            );
            assert!(
                matches!(&error, Error::Corrupt { offset, reason, .. }
                    if *offset == at as u64 && reason == "a chunk's checksum does not match"),
                "byte {i} ^ {mask:#x}: {error:?}"
            );
        }
    }
}

/// Whatever single byte of a recording is damaged, it is not replayed, and
/// the error fits where the damage is.
#[test]
fn every_flipped_byte_is_rejected() {
    let dir = TempDir::new("every_flipped_byte_is_rejected");
    let full = record_small(&dir.join("full.replay"));
    let layout = FileLayout::of(&full);
    let (chunk_at, _) = layout.chunks[0];
    for i in 0..full.len() {
        for mask in [0x01, 0x10, 0x80] {
            let mut bytes = full.clone();
            bytes[i] ^= mask;
            let path = write_file(&dir, "flipped.replay", &bytes);
            let error = replay_error(&path, &[]);
            let ok = match i {
                0..8 => matches!(error, Error::NotARecording { .. }),
                // Another supported version fails the metadata checksum,
                // which covers the version from version 3 on.
                8..10 => matches!(
                    &error,
                    Error::UnsupportedVersion { .. } | Error::Corrupt { offset: 14, .. }
                ),
                // The metadata length: too long is truncation (or over the
                // limit), too short moves the checksum.
                10..14 => matches!(error, Error::Truncated { .. } | Error::Corrupt { .. }),
                _ if i < layout.header_len => matches!(&error,
                    Error::Corrupt { offset: 14, reason, .. }
                        if reason == "the metadata checksum does not match"),
                // The chunk length: too long is truncation, too short fails
                // the checksum (or leaves a truncated chunk header behind).
                _ if i < chunk_at + 4 => {
                    matches!(error, Error::Truncated { .. } | Error::Corrupt { .. })
                }
                _ => matches!(&error, Error::Corrupt { offset, reason, .. }
                    if *offset == chunk_at as u64
                        && reason == "a chunk's checksum does not match"),
            };
            assert!(ok, "byte {i} (of {}) ^ {mask:#x}: {error:?}", full.len());
        }
    }
}

#[test]
fn huge_chunk_claim_fails_fast_without_allocating() {
    let dir = TempDir::new("huge_chunk_claim_fails_fast_without_allocating");
    let header = header();
    let at = header.len();
    for (claim, tail) in [(64u32 << 20, 5usize), ((64 << 20) - 1, 0), (1 << 20, 100)] {
        let mut bytes = header.clone();
        bytes.extend_from_slice(&claim.to_le_bytes());
        bytes.extend_from_slice(&0u32.to_le_bytes());
        bytes.extend_from_slice(&0u32.to_le_bytes());
        bytes.extend(noise(u64::from(claim), tail));
        let path = write_file(&dir, "huge.replay", &bytes);
        let (error, largest, elapsed) = measured(|| {
            replay_error(
                &path,
                &[
                    "is truncated",
                    &format!("a chunk at byte {at} is cut short"),
                ],
            )
        });
        assert!(
            matches!(error, Error::Truncated { what: "a chunk", offset, len, .. }
                if offset == at as u64 && len == bytes.len() as u64),
            "{error:?}"
        );
        assert!(
            largest < 64 * 1024,
            "allocated {largest} bytes for a claim of {claim}"
        );
        assert!(elapsed < Duration::from_secs(2), "took {elapsed:?}");
    }
    // Over the 64 MiB limit, and zero, are corruption whatever the file's size.
    for claim in [(64u32 << 20) + 1, u32::MAX, 0] {
        let mut bytes = header.clone();
        bytes.extend_from_slice(&claim.to_le_bytes());
        bytes.extend_from_slice(&[0; 8]);
        bytes.extend_from_slice(&[0; 16]);
        let path = write_file(&dir, "huge.replay", &bytes);
        let (error, largest, _) = measured(|| {
            replay_error(
                &path,
                &[
                    &format!("is corrupt at byte {at}"),
                    &format!("a chunk claims {claim} bytes"),
                ],
            )
        });
        assert!(
            matches!(error, Error::Corrupt { offset, .. } if offset == at as u64),
            "{error:?}"
        );
        assert!(
            largest < 64 * 1024,
            "allocated {largest} bytes for a claim of {claim}"
        );
    }
}

#[test]
fn metadata_length_over_the_limit_is_corrupt() {
    let dir = TempDir::new("metadata_length_over_the_limit_is_corrupt");
    let full = record_small(&dir.join("full.replay"));
    for claim in [64 * 1024 + 1, 1 << 30, u32::MAX] {
        let mut bytes = full.clone();
        bytes[10..14].copy_from_slice(&claim.to_le_bytes());
        let path = write_file(&dir, "meta.replay", &bytes);
        let (error, largest, _) = measured(|| {
            replay_error(
                &path,
                &[
                    "is corrupt at byte 10",
                    &format!("the metadata claims {claim} bytes"),
                ],
            )
        });
        assert!(
            matches!(error, Error::Corrupt { offset: 10, .. }),
            "{error:?}"
        );
        assert!(
            largest < 64 * 1024,
            "allocated {largest} bytes for a claim of {claim}"
        );
    }
    // At the limit, but longer than the file: truncated, not allocated.
    let mut bytes = full[..HEADER_FIXED].to_vec();
    bytes[10..14].copy_from_slice(&(64u32 * 1024).to_le_bytes());
    bytes.extend_from_slice(&[0; 100]);
    let path = write_file(&dir, "meta.replay", &bytes);
    let (error, largest, _) = measured(|| {
        replay_error(
            &path,
            &["is truncated", "the header at byte 0 is cut short"],
        )
    });
    assert!(
        matches!(
            error,
            Error::Truncated {
                what: "the header",
                ..
            }
        ),
        "{error:?}"
    );
    assert!(largest < 64 * 1024, "allocated {largest} bytes");
}

#[test]
fn undecodable_metadata_is_corrupt() {
    let dir = TempDir::new("undecodable_metadata_is_corrupt");
    // Checksums match, but the bytes are no `Metadata`.
    for meta in [
        &b""[..],
        b"\x05ab",
        b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff",
    ] {
        let path = write_file(&dir, "meta.replay", header_with(VERSION, meta));
        let error = replay_error(
            &path,
            &["is corrupt at byte 14", "the metadata cannot be decoded"],
        );
        assert!(
            matches!(error, Error::Corrupt { offset: 14, .. }),
            "{error:?}"
        );
    }
}

/// Chunks whose checksums match but whose events break the format's rules.
#[test]
fn malformed_events_are_corrupt() {
    let dir = TempDir::new("malformed_events_are_corrupt");
    // A function `f` (or `g`) of signature `fn`, and a call to it.
    let define = |site: u64, name: &[u8]| define(site, name, "fn");
    let call = |site: u64| call(site, &[7], &[9]);
    let end = [END];
    let cat = |parts: &[&[u8]]| parts.concat();

    let header = header();
    let at = header.len() as u64;
    let first = at + CHUNK_HEADER as u64;
    let d0 = define(0, b"f");
    let cases: Vec<(&str, Vec<Vec<u8>>, u64, &str)> = vec![
        (
            "undefined",
            vec![call(0)],
            first,
            "an event names undefined function #0",
        ),
        (
            "out-of-order",
            vec![define(1, b"g")],
            first,
            "function #1 is defined out of order",
        ),
        (
            "redefined",
            vec![cat(&[&d0, &define(0, b"g")])],
            first + d0.len() as u64,
            "function #0 is defined out of order",
        ),
        (
            "unknown-meta",
            vec![vec![31 << 2 | 3]],
            first,
            "an event has an unknown kind",
        ),
        (
            "cut-head",
            vec![vec![0x80]],
            first,
            "an event header is cut short",
        ),
        (
            "cut-args",
            vec![cat(&[&d0, &[0, 5, 1]])],
            first + d0.len() as u64,
            "a call's arguments are cut short",
        ),
        (
            "cut-results",
            vec![cat(&[&d0, &[0, 0, 3, 1]])],
            first + d0.len() as u64,
            "a call's results are cut short",
        ),
        (
            "cut-name",
            vec![vec![2, 9, b'f']],
            first,
            "a function name is cut short",
        ),
        (
            "cut-signature",
            vec![vec![2, 1, b'f', 4, b'f']],
            first,
            "a function signature is cut short",
        ),
        (
            "bad-name",
            vec![define(0, b"\xff\xfe")],
            first,
            "a function name is not UTF-8",
        ),
        (
            "after-end-in-chunk",
            vec![cat(&[&d0, &end, &call(0)])],
            first + d0.len() as u64,
            "stream 0 continues after its end",
        ),
        (
            "after-end-next-chunk",
            vec![cat(&[&d0, &end]), call(0)],
            at + (CHUNK_HEADER + d0.len() + 1) as u64,
            "stream 0 continues after its end",
        ),
    ];
    for (name, payloads, offset, reason) in cases {
        let mut bytes = header.clone();
        for payload in &payloads {
            bytes.extend(chunk(0, payload));
        }
        let path = write_file(&dir, format!("{name}.replay"), &bytes);
        let error = replay_error(&path, &[&format!("is corrupt at byte {offset}"), reason]);
        assert!(
            matches!(&error, Error::Corrupt { offset: o, reason: r, .. }
                if *o == offset && r == reason),
            "{name}: {error:?}"
        );
    }

    // Each stream keeps its own site numbers and end; a stream ended does
    // not end another.
    let mut bytes = header.clone();
    bytes.extend(chunk(0, &cat(&[&d0, &end])));
    bytes.extend(chunk(7, &cat(&[&d0, &call(0), &end])));
    let path = write_file(&dir, "two-streams.replay", &bytes);
    let session = replay(&path).expect("two well-formed streams");
    assert!(session.finish().is_ok());
}

#[test]
fn wrong_mode_environment_is_reported() {
    const MODE: &str = "REPLAY_MODE";
    const PATH: &str = "REPLAY_PATH";
    let dir = TempDir::new("wrong_mode_environment_is_reported");
    let saved = (std::env::var_os(MODE), std::env::var_os(PATH));
    let set = |name: &str, value: Option<&std::ffi::OsStr>| match value {
        // SAFETY: this is the only test in this binary that reads or writes
        // the environment, and the runtime reads it only in `from_env`.
        Some(value) => unsafe { std::env::set_var(name, value) },
        None => unsafe { std::env::remove_var(name) },
    };

    let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
        set(PATH, None);
        for bogus in ["bogus", "Replay", "on", "record please"] {
            set(MODE, Some(bogus.as_ref()));
            let error = Session::from_env().expect_err("an unknown mode is refused");
            let message = error.to_string();
            assert!(
                matches!(&error, Error::InvalidMode { variable: MODE, value } if value == bogus),
                "{error:?}"
            );
            for word in [
                MODE,
                &format!("{bogus:?}"),
                "\"off\"",
                "\"record\"",
                "\"replay\"",
            ] {
                assert_contains!(message, word);
            }
        }

        for mode in ["replay", "record"] {
            set(MODE, Some(mode.as_ref()));
            for path in [None, Some("")] {
                set(PATH, path.map(AsRef::as_ref));
                let error = Session::from_env().expect_err("a mode without a path is refused");
                let message = error.to_string();
                assert!(
                    matches!(error, Error::MissingPath { variable: PATH, mode_variable: MODE, mode: m }
                        if m == mode),
                    "{error:?}"
                );
                assert_contains!(message, format!("{MODE}={mode}"));
                assert_contains!(message, PATH);
            }
        }

        for off in ["", "off", " off "] {
            set(MODE, Some(off.as_ref()));
            let session = Session::from_env().expect("off");
            assert_eq!(session.mode(), Mode::Off);
            assert!(session.path().is_none());
        }
        set(MODE, None);
        assert_eq!(Session::from_env().unwrap().mode(), Mode::Off);

        // The modes reach the file: bad files give the same errors as
        // `Session::replay`, and good ones work.
        set(MODE, Some("replay".as_ref()));
        let empty = write_file(&dir, "empty.replay", b"");
        set(PATH, Some(empty.as_os_str()));
        let error = Session::from_env().expect_err("an empty recording is refused");
        assert!(matches!(error, Error::Empty { .. }), "{error:?}");
        assert_contains!(error.to_string(), empty.display().to_string());

        let good = dir.join("good.replay");
        set(MODE, Some("record".as_ref()));
        set(PATH, Some(good.as_os_str()));
        let session = Session::from_env().expect("record from the environment");
        assert_eq!(session.mode(), Mode::Record);
        let recorded = small_calls();
        session.finish().unwrap();
        set(MODE, Some("replay".as_ref()));
        let session = Session::from_env().expect("replay from the environment");
        assert_eq!(session.mode(), Mode::Replay);
        assert_eq!(small_calls(), recorded);
        session.finish().unwrap();
    }));

    set(MODE, saved.0.as_deref());
    set(PATH, saved.1.as_deref());
    if let Err(panic) = outcome {
        panic::resume_unwind(panic);
    }
}

/// A compressed chunk of a few KiB whose zstd frame really holds 64 MiB of
/// sound events (a "zip bomb" within the chunk limit): refused before
/// anything is allocated for it or decompressed, since it claims more
/// than 1024 times its stored bytes (format version 4).
#[test]
fn a_compressed_chunk_claiming_too_much_is_refused_before_it_is_unpacked() {
    const COMPRESSED: u32 = replay_tests::recording_files::COMPRESSED;
    let dir = TempDir::new("a_compressed_chunk_claiming_too_much");
    let raw = 64usize << 20;
    let mut events = define(0, "bomb::f", "fn()");
    events.resize(raw, 0);
    let frame = zstd::bulk::compress(&events, 19).expect("compressed");
    let mut stored = (raw as u32).to_le_bytes().to_vec();
    stored.extend_from_slice(&frame);
    let mut bytes = header();
    let at = bytes.len();
    // Stream 0, marked compressed.
    bytes.extend_from_slice(&chunk(COMPRESSED, &stored));
    let path = write_file(&dir, "bomb.replay", &bytes);
    assert!(bytes.len() < 64 * 1024, "{} bytes", bytes.len());
    let (error, largest, elapsed) = measured(|| {
        replay_error(
            &path,
            &[&format!("is corrupt at byte {at}"), "times as many"],
        )
    });
    assert!(matches!(error, Error::Corrupt { .. }), "{error:?}");
    assert!(largest < 1 << 20, "allocated {largest} bytes");
    assert!(elapsed < Duration::from_secs(2), "took {elapsed:?}");
}
