//! `#[replay_runtime::test]`: tests whose boundary calls are recorded once,
//! to a file committed beside the tests, and replayed by every later
//! `cargo test`.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::path::{Path, PathBuf};

use std::io::Write as _;

use crate::session::{Session, patch_list};

/// The variable choosing how recorded tests run.
const MODE_VAR: &str = "REPLAY_MODE";

/// How a recorded test runs, from `REPLAY_MODE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TestMode {
    /// Replay if the recording exists, record if not (never under `CI`).
    Auto,
    Record,
    Replay,
    Off,
}

/// Whether the `CI` environment variable says this is a CI run.
fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

/// A recorded test's session, with what its failure messages need.
#[doc(hidden)]
pub struct TestSession {
    session: Option<Session>,
    name: &'static str,
    path: PathBuf,
}

impl TestSession {
    fn hint(&self) -> String {
        format!(
            "to re-record it: REPLAY_MODE=record cargo test {} (the recording is {})",
            self.name,
            self.path.display()
        )
    }
}

/// Where a test's recording lives: `tests/recordings/<module path>/<test
/// name>.replay` under the crate (a raw identifier's `r#` left out), or
/// `path` (relative to the crate).
fn recording_path(manifest_dir: &str, module: &str, name: &str, path: Option<&str>) -> PathBuf {
    let crate_dir = Path::new(manifest_dir);
    match path {
        Some(path) => crate_dir.join(path),
        None => {
            let mut dir = crate_dir.join("tests").join("recordings");
            for part in module.split("::") {
                dir.push(part.trim_start_matches("r#"));
            }
            dir.join(format!("{}.replay", name.trim_start_matches("r#")))
        }
    }
}

/// What decides how recorded tests run: `REPLAY_MODE` and `CI`.
#[doc(hidden)]
#[derive(Clone, Debug, Default)]
pub struct TestSettings {
    /// `REPLAY_MODE`'s value.
    pub mode: String,
    /// Whether `CI` is set.
    pub ci: bool,
}

impl TestSettings {
    /// The settings of this process's environment.
    pub fn from_env() -> Self {
        TestSettings {
            mode: std::env::var(MODE_VAR).unwrap_or_default(),
            ci: in_ci(),
        }
    }
}

/// Starts a recorded test's session, as `REPLAY_MODE` asks: `auto` (the
/// default), `record`, `replay` or `off`.
#[doc(hidden)]
pub fn test_session(
    manifest_dir: &str,
    module: &str,
    bin: Option<&str>,
    name: &'static str,
    path: Option<&str>,
) -> TestSession {
    // A package's binaries share its library's crate name: their tests'
    // recordings live apart, under `bin/<binary>/`.
    let module = match bin {
        Some(bin) => format!("bin::{bin}::{module}"),
        None => module.to_owned(),
    };
    session_for(&TestSettings::from_env(), manifest_dir, &module, name, path)
}

/// [`test_session`] with explicit settings.
#[doc(hidden)]
pub fn session_for(
    settings: &TestSettings,
    manifest_dir: &str,
    module: &str,
    name: &'static str,
    path: Option<&str>,
) -> TestSession {
    let path = recording_path(manifest_dir, module, name, path);
    let mode = match settings.mode.trim() {
        "" | "auto" => TestMode::Auto,
        "record" => TestMode::Record,
        "replay" => TestMode::Replay,
        "off" => TestMode::Off,
        other => panic!(
            "environment variable {MODE_VAR} is {other:?}; recorded tests accept \"auto\" \
             (the default), \"record\", \"replay\" and \"off\""
        ),
    };
    let mut test = TestSession {
        session: None,
        name,
        path,
    };
    let mode = match mode {
        TestMode::Auto if test.path.exists() => TestMode::Replay,
        TestMode::Auto if settings.ci => panic!(
            "recorded test `{name}` has no recording at {}, and runs under CI, where \
             recordings are never made; create it with: REPLAY_MODE=record cargo test {name} \
             and commit it",
            test.path.display()
        ),
        TestMode::Auto => TestMode::Record,
        other => other,
    };
    test.session = match mode {
        TestMode::Record => Some(
            Session::record(&test.path).unwrap_or_else(|e| panic!("recorded test `{name}`: {e}")),
        ),
        TestMode::Replay => Some(Session::replay(&test.path).unwrap_or_else(|e| {
            panic!(
                "recorded test `{name}` cannot replay: {e}\n  {}",
                test.hint()
            )
        })),
        TestMode::Off | TestMode::Auto => None,
    };
    test
}

fn message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("")
}

/// Runs a recorded test's body in its session; a replay that fails says
/// how to re-record.
#[doc(hidden)]
pub fn run_test<R>(mut test: TestSession, body: impl FnOnce() -> R) -> R {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(result) => {
            test.finish();
            result
        }
        Err(payload) => {
            if message(&*payload).starts_with("replay diverged") {
                eprintln!(
                    "recorded test `{}` diverged from its recording\n  {}",
                    test.name,
                    test.hint()
                );
            }
            // Dropping the session writes what a recording run recorded:
            // replaying it reaches the same panic.
            drop(test);
            resume_unwind(payload)
        }
    }
}

/// Runs a recorded `#[should_panic]` test: its body must panic, with
/// `expected` in the message if given; but a divergence, or a replay
/// that fails otherwise, fails the test whatever the expectation, as a
/// session that could not start does (before the body runs).
#[doc(hidden)]
pub fn run_panicking_test(mut test: TestSession, expected: Option<&str>, body: impl FnOnce()) {
    let payload = match catch_unwind(AssertUnwindSafe(body)) {
        Ok(()) => {
            test.finish();
            panic!("recorded test `{}` did not panic as expected", test.name);
        }
        Err(payload) => payload,
    };
    let text = message(&*payload);
    if text.starts_with("replay diverged") {
        panic!(
            "recorded test `{}` expects a panic, but its replay diverged instead:\n{text}\n  {}",
            test.name,
            test.hint()
        );
    }
    test.finish();
    if let Some(expected) = expected
        && !text.contains(expected)
    {
        panic!(
            "recorded test `{}` panicked with {text:?}, which does not contain the \
             expected {expected:?}",
            test.name
        );
    }
}

impl TestSession {
    /// Ends the session; a failure fails the test, with the hint.
    fn finish(&mut self) {
        let Some(session) = self.session.take() else {
            return;
        };
        match session.finish() {
            Err(e) => panic!("recorded test `{}`: {e}\n  {}", self.name, self.hint()),
            Ok(summary) if !summary.predates.is_empty() => {
                // Past the test harness's capture of `eprintln!`: shown
                // even when the test passes, so that old recordings are
                // found without failing anything.
                let _ = writeln!(
                    std::io::stderr(),
                    "note: recorded test `{}` passed on a recording that predates {}; \
                     re-record it at leisure: REPLAY_MODE=record cargo test {} ({})",
                    self.name,
                    patch_list(&summary.predates),
                    self.name,
                    self.path.display()
                );
            }
            Ok(_) => {}
        }
    }
}
