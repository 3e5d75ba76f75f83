//! Redaction: secret arguments and results never reach the recording, and
//! replay still works.

use replay_runtime::{Session, deterministic};
use replay_tests::{assert_contains, expect_panic, file_contains, greet, scratch_dir};

/// Logs in with a password: the password must never be recorded.
#[deterministic(secret(password))]
fn log_in(user: &str, password: &str) -> String {
    assert!(!password.is_empty());
    greet(user)
}

/// Fetches a token: the token must never be recorded. In replay the
/// stand-in mints a fake one instead.
#[deterministic(secret(return), replay_with = fake_token)]
fn fetch_token(user: &str) -> String {
    format!("tok-{}-{}", user, greet("vault").len())
}

fn fake_token(user: &str) -> String {
    format!("fake-token-for-{user}")
}

#[test]
fn secret_arguments_are_neither_recorded_nor_checked() {
    let dir = scratch_dir("secret-argument");
    let recording = dir.join("login.replay");
    let session = Session::record(&recording).expect("start recording");
    let recorded = log_in("alice", "hunter2-correct-horse");
    session.finish().expect("finish recording");
    assert!(
        !file_contains(&recording, "hunter2-correct-horse"),
        "the password is not in the file"
    );
    assert!(
        file_contains(&recording, "alice"),
        "the rest of the call is"
    );

    // Another password replays alike: the secret is not checked.
    let session = Session::replay(&recording).expect("start replaying");
    assert_eq!(log_in("alice", "another password"), recorded);
    session.finish().expect("replay consumed everything");
}

#[test]
fn secret_results_are_not_recorded_and_replay_calls_the_stand_in() {
    let dir = scratch_dir("secret-result");
    let recording = dir.join("token.replay");
    let session = Session::record(&recording).expect("start recording");
    let token = fetch_token("bob");
    session.finish().expect("finish recording");
    assert!(token.starts_with("tok-bob-"), "{token}");
    assert!(
        !file_contains(&recording, &token),
        "the token is not in the file"
    );

    let session = Session::replay(&recording).expect("start replaying");
    assert_eq!(fetch_token("bob"), "fake-token-for-bob");
    session.finish().expect("replay consumed everything");
    // The call is still checked.
    let session = Session::replay(&recording).expect("start replaying");
    let caught = std::panic::catch_unwind(|| fetch_token("mallory"));
    assert!(caught.is_err(), "another user diverges");
    assert!(session.finish().is_err());
}

#[deterministic(secret(password))]
fn log_in_counting(user: &str, password: &str, tries: u32) -> String {
    let _ = (password, tries);
    greet(user)
}

#[test]
fn reports_count_arguments_as_written_around_secrets() {
    let dir = scratch_dir("secret-positions");
    let recording = dir.join("tries.replay");
    let session = Session::record(&recording).expect("start recording");
    log_in_counting("carol", "pw", 1);
    session.finish().expect("finish recording");
    let session = Session::replay(&recording).expect("start replaying");
    let message = expect_panic("tries differ", || log_in_counting("carol", "pw", 2));
    assert_contains!(message, "argument 3 (`tries`)");
    assert!(session.finish().is_err());
}

/// Writes a secret through an out-parameter: a result too.
#[deterministic(secret(return))]
fn fetch_token_into(user: &str, token: &mut String) -> bool {
    *token = format!("SECRET-OUT-{user}-{}", greet("vault").len());
    true
}

#[test]
fn a_secret_result_keeps_its_out_parameters_out_of_the_file_too() {
    let dir = scratch_dir("secret-out");
    let recording = dir.join("out.replay");
    let session = Session::record(&recording).expect("start recording");
    let mut token = String::new();
    assert!(fetch_token_into("dave", &mut token));
    session.finish().expect("finish recording");
    assert!(
        !file_contains(&recording, "SECRET-OUT"),
        "the out-parameter is not in the file"
    );

    // Without a stand-in, replay makes the call for real.
    let session = Session::replay(&recording).expect("start replaying");
    let mut replayed = String::new();
    assert!(fetch_token_into("dave", &mut replayed));
    assert!(replayed.starts_with("SECRET-OUT-dave-"), "{replayed}");
    session.finish().expect("replay consumed everything");
}
