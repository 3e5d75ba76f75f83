//! Identities and contexts made in `#[assume_deterministic]` functions
//! (which run in every mode) and in calls that run for real in replay.

use std::cell::{Cell, RefCell};

use replay_runtime::identity::Identity;
use replay_runtime::{Context, ContextPtr, Session, assume_deterministic, deterministic};
use replay_tests::{record_then_replay, scratch_dir};

thread_local! {
    static STORED_ID: Cell<Option<Identity>> = const { Cell::new(None) };
    static STORED_CTX: RefCell<Option<Context<u32>>> = const { RefCell::new(None) };
}

/// Runs for real in every mode: what it numbers is the same in both runs.
#[assume_deterministic]
fn register(name: &str) {
    let _ = name;
    STORED_ID.with(|s| s.set(Some(Identity::next())));
}

#[deterministic]
fn use_id(id: Identity) -> u32 {
    id.get() as u32
}

#[test]
fn an_identity_made_in_an_assumed_call_is_the_same_in_replay() {
    let recording = scratch_dir("identities-id-assumed").join("a.replay");
    record_then_replay(&recording, |mode| {
        register("x");
        let id = STORED_ID.with(|s| s.get()).unwrap();
        eprintln!("{mode:?}: id made in the assumed call = {id:?}");
        use_id(id)
    });
}

/// A context set up by an assumed call (as a logging callback's state is).
#[assume_deterministic]
fn setup(level: u32) {
    STORED_CTX.with(|s| *s.borrow_mut() = Some(Context::new(level)));
}

#[deterministic]
fn takes_context(p: ContextPtr) -> u32 {
    let _ = p;
    7
}

#[test]
fn a_context_made_in_an_assumed_call_can_be_passed_to_a_recorded_call() {
    let recording = scratch_dir("identities-ctx-assumed").join("c.replay");
    record_then_replay(&recording, |_| {
        setup(3);
        let p = STORED_CTX.with(|s| s.borrow().as_ref().unwrap().ptr());
        let r = takes_context(p);
        STORED_CTX.with(|s| s.borrow_mut().take());
        r
    });
}

// ---- cross-process: a recorded in-call identity meets a live one ----

#[deterministic]
fn make_id() -> Identity {
    Identity::next()
}

#[deterministic(secret(return))]
fn fresh_id() -> Identity {
    Identity::next()
}

fn phase_body(phase: &str, path: &std::path::Path) {
    let session = match phase {
        "record" => Session::record(path).unwrap(),
        _ => Session::replay(path).unwrap(),
    };
    let a = make_id();
    let b = fresh_id();
    println!("PHASE {phase}: a = {a:?}, b = {b:?}, a == b: {}", a == b);
    session.finish().unwrap();
}

#[test]
fn identities_from_a_recorded_call_and_a_live_call_never_collide_across_processes() {
    if let Ok(phase) = std::env::var("REPLAY_TEST_PHASE") {
        let path = std::path::PathBuf::from(std::env::var("REPLAY_TEST_PATH").unwrap());
        phase_body(&phase, &path);
        return;
    }
    let path = scratch_dir("identities-id-cross").join("x.replay");
    let mut equal = Vec::new();
    for phase in ["record", "replay"] {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "identities_from_a_recorded_call_and_a_live_call_never_collide_across_processes",
                "--nocapture",
            ])
            .env("REPLAY_TEST_PHASE", phase)
            .env("REPLAY_TEST_PATH", &path)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let line = stdout
            .lines()
            .find(|l| l.starts_with("PHASE"))
            .unwrap_or("")
            .to_owned();
        eprintln!("{line}");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        equal.push(line.ends_with("true"));
    }
    assert_eq!(
        equal[0], equal[1],
        "a == b must be the same in record and replay"
    );
}
