//! Properties of the recording format, checked with proptest:
//!
//! * any sequence of calls, of any of the supported parameter and return
//!   types, replays to exactly what was recorded, without running the real
//!   functions;
//! * a damaged recording is refused by `Session::replay`, or replays calls
//!   that either match or panic with `replay diverged`; nothing else panics,
//!   and `finish` never does.

use std::cell::Cell;
use std::fs;
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;
use std::sync::Once;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestRunner};
use replay_runtime::{Error, Session, deterministic};
use replay_tests::recording_files::{fix_checksums, unpack};
use replay_tests::{TempDir, panic_message};
use serde::{Deserialize, Serialize};

// ---------------------------------------------------------------------------
// The functions recorded. Each counts its real executions: replay must not
// run any of them.

thread_local! {
    static REAL_CALLS: Cell<u64> = const { Cell::new(0) };
    static TICKS: Cell<u64> = const { Cell::new(0) };
}

fn ran() {
    REAL_CALLS.with(|c| c.set(c.get() + 1));
}

fn real_calls() -> u64 {
    REAL_CALLS.with(Cell::get)
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct Reading {
    id: u32,
    name: String,
    values: Vec<i64>,
    flag: Option<bool>,
}

#[deterministic]
fn mix(a: u64, b: i32) -> u64 {
    ran();
    a.rotate_left(b as u32 & 63) ^ (i64::from(b) as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

#[deterministic]
fn label(n: i32, prefix: String) -> String {
    ran();
    format!("{prefix}#{n}")
}

/// Large arguments (over 1 KiB encoded) are recorded as digests.
#[deterministic]
fn scramble(data: Vec<u8>) -> Vec<u8> {
    ran();
    data.iter()
        .rev()
        .map(|b| b.wrapping_mul(31) ^ 0x5a)
        .collect()
}

#[deterministic]
fn lookup(key: Option<String>, table: &[u8]) -> Option<u32> {
    ran();
    let key = key?;
    let hash = key
        .bytes()
        .chain(table.iter().copied())
        .fold(0x811c_9dc5u32, |h, b| {
            (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
        });
    (hash % 3 != 0).then_some(hash)
}

#[deterministic]
fn summarize(reading: Reading) -> Reading {
    ran();
    let mut values = reading.values;
    values.sort_unstable();
    Reading {
        id: reading.id.wrapping_add(1),
        name: reading.name.to_uppercase(),
        values,
        flag: reading.flag.map(|f| !f),
    }
}

/// An out-parameter slice: written by the call, written back on replay.
#[deterministic]
fn fill(seed: u64, out: &mut [u8]) -> usize {
    ran();
    let mut x = seed | 1;
    for b in out.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    out.len()
}

/// An out-parameter reference.
#[deterministic]
fn reset(reading: &mut Reading, id: u32, name: &str) {
    ran();
    *reading = Reading {
        id,
        name: name.to_owned(),
        values: vec![i64::from(id); (id % 5) as usize],
        flag: Some(id % 2 == 0),
    };
}

/// Not pure: a counter, so replay visibly returns recorded values.
#[deterministic]
fn tick() -> u64 {
    ran();
    TICKS.with(|t| {
        t.set(t.get() + 1);
        t.get()
    })
}

/// Calls other wrapped functions: only the outer call is recorded.
#[deterministic]
fn twice(x: u64) -> (u64, u64) {
    ran();
    (mix(x, 1), mix(x, 2))
}

#[derive(Clone, Debug)]
enum Call {
    Mix(u64, i32),
    Label(i32, String),
    Scramble(Vec<u8>),
    Lookup(Option<String>, Vec<u8>),
    Summarize(Reading),
    Fill(u64, usize),
    Reset(u32, String),
    Tick,
    Twice(u64),
}

#[derive(Debug, PartialEq)]
enum Output {
    U64(u64),
    Str(String),
    Bytes(Vec<u8>),
    OptU32(Option<u32>),
    Reading(Reading),
    Filled(usize, Vec<u8>),
    Pair(u64, u64),
}

fn run(call: &Call) -> Output {
    match call {
        Call::Mix(a, b) => Output::U64(mix(*a, *b)),
        Call::Label(n, prefix) => Output::Str(label(*n, prefix.clone())),
        Call::Scramble(data) => Output::Bytes(scramble(data.clone())),
        Call::Lookup(key, table) => Output::OptU32(lookup(key.clone(), table)),
        Call::Summarize(r) => Output::Reading(summarize(r.clone())),
        Call::Fill(seed, len) => {
            let mut buf = vec![0u8; *len];
            let n = fill(*seed, &mut buf);
            Output::Filled(n, buf)
        }
        Call::Reset(id, name) => {
            let mut r = Reading::default();
            reset(&mut r, *id, name);
            Output::Reading(r)
        }
        Call::Tick => Output::U64(tick()),
        Call::Twice(x) => {
            let (a, b) = twice(*x);
            Output::Pair(a, b)
        }
    }
}

// ---------------------------------------------------------------------------
// Strategies.

/// Small, around the 1024-byte digest threshold, and well over it.
fn bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => vec(any::<u8>(), 0..48),
        1 => vec(any::<u8>(), 1015..1030),
        1 => vec(any::<u8>(), 1030..6000),
    ]
}

fn reading() -> impl Strategy<Value = Reading> {
    (
        any::<u32>(),
        ".{0,12}",
        prop_oneof![3 => vec(any::<i64>(), 0..8), 1 => vec(any::<i64>(), 100..300)],
        any::<Option<bool>>(),
    )
        .prop_map(|(id, name, values, flag)| Reading {
            id,
            name,
            values,
            flag,
        })
}

fn call() -> impl Strategy<Value = Call> {
    prop_oneof![
        (any::<u64>(), any::<i32>()).prop_map(|(a, b)| Call::Mix(a, b)),
        (any::<i32>(), ".{0,20}").prop_map(|(n, s)| Call::Label(n, s)),
        bytes().prop_map(Call::Scramble),
        (proptest::option::of(".{0,12}"), bytes()).prop_map(|(k, t)| Call::Lookup(k, t)),
        reading().prop_map(Call::Summarize),
        (any::<u64>(), prop_oneof![0..16usize, 1000..3000usize])
            .prop_map(|(s, n)| Call::Fill(s, n)),
        (any::<u32>(), ".{0,12}").prop_map(|(id, s)| Call::Reset(id, s)),
        Just(Call::Tick),
        any::<u64>().prop_map(Call::Twice),
    ]
}

fn config(cases: u32) -> Config {
    Config {
        cases,
        // Failures print their minimal input; nothing is written to the tree.
        failure_persistence: None,
        ..Config::default()
    }
}

// ---------------------------------------------------------------------------
// Helpers.

/// Records `calls` to `path`; returns what they returned.
fn record(path: &Path, calls: &[Call]) -> Vec<Output> {
    let session = Session::record(path).expect("start recording");
    let outputs = calls.iter().map(run).collect();
    let summary = session.finish().expect("finish recording");
    assert_eq!(summary.calls, calls.len() as u64);
    outputs
}

/// Divergences are expected by the damage property: keep them off stderr,
/// and let every other panic through to the default hook.
fn quiet_divergences() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !panic_message(info.payload()).starts_with("replay diverged") {
                default(info);
            }
        }));
    });
}

#[derive(Clone, Debug)]
enum Mutation {
    Xor(Index, u8),
    Set(Index, u8),
    Truncate(Index),
    Insert(Index, Vec<u8>),
    Delete(Index, usize),
    Duplicate(Index, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<Index>(), 1..=255u8).prop_map(|(i, x)| Mutation::Xor(i, x)),
        2 => (any::<Index>(), any::<u8>()).prop_map(|(i, v)| Mutation::Set(i, v)),
        1 => any::<Index>().prop_map(Mutation::Truncate),
        1 => (any::<Index>(), vec(any::<u8>(), 1..16)).prop_map(|(i, b)| Mutation::Insert(i, b)),
        1 => (any::<Index>(), 1..16usize).prop_map(|(i, n)| Mutation::Delete(i, n)),
        1 => (any::<Index>(), 1..64usize).prop_map(|(i, n)| Mutation::Duplicate(i, n)),
    ]
}

fn apply(bytes: &mut Vec<u8>, mutation: &Mutation) {
    if bytes.is_empty() {
        return;
    }
    let len = bytes.len();
    match mutation {
        Mutation::Xor(i, x) => bytes[i.index(len)] ^= x,
        Mutation::Set(i, v) => bytes[i.index(len)] = *v,
        Mutation::Truncate(i) => bytes.truncate(i.index(len)),
        Mutation::Insert(i, new) => {
            let at = i.index(len + 1);
            bytes.splice(at..at, new.iter().copied());
        }
        Mutation::Delete(i, n) => {
            let at = i.index(len);
            bytes.drain(at..(at + n).min(len));
        }
        Mutation::Duplicate(i, n) => {
            let at = i.index(len);
            let copy = bytes[at..(at + n).min(len)].to_vec();
            bytes.splice(at..at, copy);
        }
    }
}

/// The calls of the recording the damage property damages: every kind of
/// call, one with digested arguments, in one chunk of about 2 KB.
fn base_calls() -> Vec<Call> {
    vec![
        Call::Mix(7, -3),
        Call::Label(42, "answer".into()),
        Call::Tick,
        Call::Scramble((0..1200u32).map(|i| (i * 7) as u8).collect()),
        Call::Lookup(Some("key".into()), vec![1, 2, 3]),
        Call::Lookup(None, vec![]),
        Call::Summarize(Reading {
            id: 9,
            name: "rÉading".into(),
            values: vec![3, -1, 2],
            flag: Some(true),
        }),
        Call::Fill(5, 24),
        Call::Reset(12, "reset".into()),
        Call::Twice(11),
        Call::Mix(7, -3),
        Call::Tick,
    ]
}

// ---------------------------------------------------------------------------
// The properties.

#[test]
fn any_call_sequence_replays_exactly() {
    let dir = TempDir::new("any_call_sequence_replays_exactly");
    let path = dir.join("round-trip.replay");
    let mut runner = TestRunner::new(config(64));
    let result = runner.run(&vec(call(), 0..40), |calls| {
        let before = real_calls();
        let recorded = record(&path, &calls);
        prop_assert!(real_calls() - before >= calls.len() as u64);

        let before = real_calls();
        let session = Session::replay(&path).expect("replay what was just recorded");
        let replayed: Vec<Output> = calls.iter().map(run).collect();
        prop_assert_eq!(real_calls(), before, "replay ran a real function");
        prop_assert_eq!(&replayed, &recorded);
        let summary = session
            .finish()
            .expect("a faithful replay finishes cleanly");
        prop_assert_eq!(summary.calls, calls.len() as u64);
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

#[test]
fn damaged_recordings_are_refused_or_diverge() {
    quiet_divergences();
    let dir = TempDir::new("damaged_recordings_are_refused_or_diverge");
    let path = dir.join("damaged.replay");
    let calls = base_calls();
    let expected = record(&path, &calls);
    let base = fs::read(&path).unwrap();
    let shown = path.display().to_string();

    let mut runner = TestRunner::new(config(256));
    let strategy = (vec(mutation(), 1..4), any::<bool>());
    let result = runner.run(&strategy, |(mutations, fix)| {
        let mut bytes = base.clone();
        for m in &mutations {
            apply(&mut bytes, m);
        }
        if fix {
            fix_checksums(&mut bytes);
        }
        fs::write(&path, &bytes).unwrap();

        let session = match panic::catch_unwind(|| Session::replay(&path)) {
            Err(p) => {
                return Err(TestCaseError::fail(format!(
                    "Session::replay panicked: {}",
                    panic_message(&*p)
                )));
            }
            Ok(Err(e)) => {
                let message = e.to_string();
                prop_assert!(message.contains(&shown), "{}", message);
                prop_assert!(
                    matches!(
                        e,
                        Error::Empty { .. }
                            | Error::NotARecording { .. }
                            | Error::UnsupportedVersion { .. }
                            | Error::Truncated { .. }
                            | Error::Corrupt { .. }
                    ),
                    "{:?}",
                    e
                );
                return Ok(());
            }
            Ok(Ok(session)) => session,
        };

        let mut diverged = false;
        let mut all_match = true;
        for (call, expected) in calls.iter().zip(&expected) {
            match panic::catch_unwind(AssertUnwindSafe(|| run(call))) {
                Ok(output) => {
                    // Without repaired checksums, damage that gets past the
                    // reader cannot change a recorded value.
                    if !fix {
                        prop_assert_eq!(&output, expected);
                    }
                    all_match &= output == *expected;
                }
                Err(p) => {
                    let message = panic_message(&*p);
                    prop_assert!(
                        message.starts_with("replay diverged"),
                        "a replayed call panicked otherwise: {}",
                        message
                    );
                    diverged = true;
                }
            }
        }
        let finished = match panic::catch_unwind(AssertUnwindSafe(|| session.finish())) {
            Ok(finished) => finished,
            Err(p) => {
                return Err(TestCaseError::fail(format!(
                    "finish panicked: {}",
                    panic_message(&*p)
                )));
            }
        };
        if diverged {
            prop_assert!(
                matches!(&finished, Err(Error::Diverged { message })
                    if message.starts_with("replay diverged")),
                "{:?}",
                finished
            );
        } else if !fix && all_match {
            prop_assert!(finished.is_ok(), "{:?}", finished);
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// The damage property would prove little if the base recording did not
/// replay, or if damage were never repaired well enough to be replayed.
#[test]
fn the_damaged_recording_replays_when_intact() {
    let dir = TempDir::new("the_damaged_recording_replays_when_intact");
    let path = dir.join("base.replay");
    let calls = base_calls();
    let expected = record(&path, &calls);
    // Stored uncompressed, so that the events' bytes are in view.
    let mut bytes = unpack(&fs::read(&path).unwrap());
    fs::write(&path, &bytes).unwrap();
    let session = Session::replay(&path).unwrap();
    assert_eq!(calls.iter().map(run).collect::<Vec<_>>(), expected);
    session.finish().unwrap();

    // The `Tick` results are the last event bytes before the end marker:
    // change the last one, repair the checksum, and the replay returns the
    // changed value (checksums, not the format, are what detect damage).
    let last_tick_at = bytes.len() - 2;
    let Output::U64(tick) = expected[expected.len() - 1] else {
        unreachable!()
    };
    assert_eq!(u64::from(bytes[last_tick_at]), tick);
    bytes[last_tick_at] += 1;
    fix_checksums(&mut bytes);
    fs::write(&path, &bytes).unwrap();
    let session = Session::replay(&path).unwrap();
    let replayed: Vec<_> = calls.iter().map(run).collect();
    assert_eq!(replayed[..calls.len() - 1], expected[..calls.len() - 1]);
    assert_eq!(replayed[calls.len() - 1], Output::U64(tick + 1));
    session.finish().unwrap();
}
