//! The shapes of function `#[deterministic]` accepts: generics, `?`,
//! patterns, trait methods, `Option`, `Result`, unit returns.

use replay_runtime::{Session, deterministic};
use replay_tests::{file_contains, record_then_replay, rt_now_nanos, scratch_dir};
use serde::{Serialize, de::DeserializeOwned};

#[deterministic]
fn stamp<T: Serialize + DeserializeOwned + Clone>(value: T) -> (T, u64) {
    (value, rt_now_nanos())
}

#[deterministic]
fn parse_with_clock(text: &str) -> Result<u64, String> {
    let n: u64 = text.trim().parse().map_err(|e| format!("{e}"))?;
    Ok(n + rt_now_nanos() % 10)
}

#[deterministic]
fn sum_pair((a, b): (u64, u64), mut scale: u64) -> Option<u64> {
    scale += rt_now_nanos() % 3;
    a.checked_add(b)?.checked_mul(scale)
}

#[deterministic]
fn touch(counter: &mut u64) {
    *counter += rt_now_nanos() % 100 + 1;
}

trait Source {
    fn sample(&mut self, n: u32) -> Vec<u64>;
}

struct Sensor;

impl Source for Sensor {
    #[deterministic]
    fn sample(&mut self, n: u32) -> Vec<u64> {
        (0..n).map(|_| rt_now_nanos()).collect()
    }
}

type Run = (
    (String, u64),
    (Vec<u8>, u64),
    Result<u64, String>,
    Result<u64, String>,
    Option<u64>,
    u64,
    Vec<u64>,
);

fn run() -> Run {
    let mut counter = 0;
    touch(&mut counter);
    (
        stamp("text".to_owned()),
        stamp(vec![1u8, 2, 3]),
        parse_with_clock("41"),
        parse_with_clock("forty-one"),
        sum_pair((2, 3), 4),
        counter,
        Sensor.sample(3),
    )
}

#[test]
fn generics_results_patterns_out_parameters_and_trait_methods_replay() {
    let dir = scratch_dir("signatures");
    let recording = dir.join("signatures.replay");
    let session = Session::record(&recording).expect("start recording");
    let recorded = run();
    session.finish().expect("finish recording");
    assert!(
        recorded
            .3
            .as_ref()
            .is_err_and(|e| e.contains("invalid digit"))
    );

    let session = Session::replay(&recording).expect("start replaying");
    let replayed = run();
    let summary = session.finish().expect("replay consumed everything");
    assert_eq!(summary.calls, 7);
    assert_eq!(replayed, recorded);
}

#[test]
fn methods_are_named_after_their_type() {
    let dir = scratch_dir("method-name");
    let recording = dir.join("r.replay");
    let session = Session::record(&recording).expect("start recording");
    Sensor.sample(1);
    session.finish().expect("finish recording");
    assert!(
        file_contains(&recording, "signatures::Sensor::sample"),
        "the recording names the type"
    );
}

#[test]
fn extern_blocks_work_inside_function_bodies() {
    use std::ffi::c_int;

    #[deterministic]
    unsafe extern "C" {
        safe fn getpid() -> c_int;
    }

    let dir = scratch_dir("local-extern");
    let recording = dir.join("local.replay");
    record_then_replay(&recording, |_| getpid());
}

/// A trait's provided method: one `static` site serves every implementor.
pub trait Reading {
    #[replay_runtime::deterministic]
    fn read_value(&self) -> u32 {
        7
    }
}

pub struct Thermometer;
pub struct Barometer;
impl Reading for Thermometer {}
impl Reading for Barometer {}

/// A blanket impl: the same, through a generic `Self`.
pub trait Probe {
    fn probe(&self) -> u32;
}

impl<T: Reading> Probe for T {
    #[replay_runtime::deterministic]
    fn probe(&self) -> u32 {
        self.read_value()
    }
}

/// The functions a recording's first thread calls, by name.
fn recorded_functions(path: &std::path::Path) -> Vec<String> {
    use replay_runtime::inspect::{Entry, Inspection};
    let recording = Inspection::open(path).expect("open the recording");
    recording
        .events(0)
        .expect("read thread 0")
        .into_iter()
        .filter_map(|entry| match entry {
            Entry::Call { function, .. } => Some(function.to_string()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_shared_method_is_named_after_the_type_that_calls_it() {
    let dir = scratch_dir("signatures-self");
    // The first `Self` to call the methods in this process...
    let session = Session::record(dir.join("thermometer.replay")).expect("start recording");
    Thermometer.read_value();
    Thermometer.probe();
    session.finish().expect("finish");
    // ...does not name another type's calls.
    let recording = dir.join("barometer.replay");
    let session = Session::record(&recording).expect("start recording");
    Barometer.read_value();
    Barometer.probe();
    session.finish().expect("finish");
    assert_eq!(
        recorded_functions(&recording),
        // `probe`'s own call to `read_value` is part of it.
        [
            "signatures::Barometer::read_value",
            "signatures::Barometer::probe"
        ]
    );
    // And the recording replays.
    let session = Session::replay(&recording).expect("start replaying");
    assert_eq!(Barometer.read_value(), 7);
    assert_eq!(Barometer.probe(), 7);
    session.finish().expect("the replay consumes everything");
}
