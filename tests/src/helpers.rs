//! What the integration tests share: scratch directories and files, caught
//! panics, processes' output, and `assert_contains!`.

use std::any::Any;
use std::cell::RefCell;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::Output;

/// A fresh directory for one test's recordings, kept after the test for a
/// look at what it wrote.
pub fn scratch_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("replay-tests-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    dir
}

/// A [`scratch_dir`] removed when dropped, for tests that write many files
/// or large ones. It derefs to its path.
pub struct TempDir(PathBuf);

impl TempDir {
    /// A fresh directory for the test `test`.
    pub fn new(test: &str) -> TempDir {
        TempDir(scratch_dir(test))
    }
}

impl std::ops::Deref for TempDir {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The environment variable that tells a test it runs as [`child`]: it
/// holds the parent's scratch directory.
pub const CHILD_VAR: &str = "REPLAY_TESTS_CHILD";

/// When this test runs as a [`child`]: the parent's scratch directory.
pub fn child_dir() -> Option<PathBuf> {
    std::env::var_os(CHILD_VAR).map(PathBuf::from)
}

/// Runs the test `test` of this test binary again in a child process, with
/// [`CHILD_VAR`] set to `dir` and `envs` set; its output. The test, seeing
/// [`child_dir`], does the child's part (what must happen in a process of
/// its own: a crash, a limit, an abort) and returns.
pub fn child(test: &str, dir: &Path, envs: &[(&str, &str)]) -> Output {
    std::process::Command::new(std::env::current_exe().expect("this test binary"))
        .args(["--exact", test, "--nocapture", "--test-threads", "1"])
        .env(CHILD_VAR, dir)
        .env("RUST_BACKTRACE", "0")
        .envs(envs.iter().copied())
        .output()
        .expect("run the child")
}

/// Greets `n` names that do not compress (pseudo-random hex): fills a
/// recording quickly, whatever the background writer's compression does.
pub fn greet_noise(n: usize) {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        crate::greet(&format!("{x:016x}{:016x}", x.rotate_left(29)));
    }
}

/// Makes every write of this process past `bytes` into a file fail (with
/// `EFBIG`, as a full disk would with `ENOSPC`): for a [`child`], since the
/// limit holds for the whole process.
pub fn limit_file_size(bytes: u64) {
    // SAFETY: plain libc calls on this process.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
        let limit = libc::rlimit {
            rlim_cur: bytes,
            rlim_max: libc::RLIM_INFINITY,
        };
        assert_eq!(libc::setrlimit(libc::RLIMIT_FSIZE, &limit), 0);
    }
}

/// The names of the files in `dir` whose names start with `prefix` and end
/// with `.partial`: what recorders left aside.
pub fn partial_files(dir: &Path, prefix: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| {
            e.expect("a directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.starts_with(prefix) && name.ends_with(".partial"))
        .collect();
    names.sort();
    names
}

/// Writes `contents` to the file `name` in `dir`, and returns its path.
pub fn write_file(dir: &Path, name: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, contents)
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    path
}

/// `path` as a `&str`, for the code under test that takes one: the tests'
/// paths are UTF-8.
pub fn path_str(path: &Path) -> &str {
    path.to_str()
        .unwrap_or_else(|| panic!("{} is not UTF-8", path.display()))
}

/// Whether the file at `path` holds the bytes of `needle` anywhere: what a
/// recording keeps, or must not.
pub fn file_contains(path: &Path, needle: impl AsRef<[u8]>) -> bool {
    let needle = needle.as_ref();
    let bytes =
        std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    needle.is_empty() || bytes.windows(needle.len()).any(|w| w == needle)
}

/// The message of a caught panic: empty if it is not a string.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default()
}

/// Runs `f`, which must panic (`why` says why it should, for the failure
/// if it does not), and returns the panic's message.
pub fn expect_panic<R>(why: &str, f: impl FnOnce() -> R) -> String {
    match panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(_) => panic!("expected a panic: {why}"),
        Err(payload) => panic_message(&*payload),
    }
}

std::thread_local! {
    /// Where this thread's last panic was raised, for [`catch_panic`].
    static PANICKED_AT: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Runs `f`, which must panic, and returns its message and the location
/// the panic reports (`file:line:column`), as a person would see it.
pub fn catch_panic<R>(f: impl FnOnce() -> R) -> (String, String) {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let at = info.location().map(ToString::to_string);
            PANICKED_AT.with(|p| *p.borrow_mut() = at);
            previous(info);
        }));
    });
    PANICKED_AT.with(|p| p.borrow_mut().take());
    let message = expect_panic("the call must panic", f);
    let at = PANICKED_AT
        .with(|p| p.borrow_mut().take())
        .unwrap_or_default();
    (message, at)
}

/// The values the fixture program (`replay-fixture`) got, one `key=value`
/// a line: what it printed but its mode and its count of C calls made for
/// real, which legitimately differ between recording and replay.
pub fn fixture_values(output: &Output) -> Vec<String> {
    stdout(output)
        .lines()
        .filter(|l| !l.starts_with("mode=") && !l.starts_with("c_calls="))
        .map(str::to_owned)
        .collect()
}

/// Reads a running `child`'s standard error (piped), on a thread of its
/// own, up to the first line holding `marker` or its end: what it read,
/// or `None` when `timeout` passed first (a child that never says it must
/// fail the test, not hang it).
pub fn stderr_until(
    child: &mut std::process::Child,
    marker: &'static str,
    timeout: std::time::Duration,
) -> Option<String> {
    use std::io::BufRead as _;
    let err = child
        .stderr
        .take()
        .expect("the child's standard error, piped");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut seen = String::new();
        for line in std::io::BufReader::new(err).lines() {
            let Ok(line) = line else { break };
            seen.push_str(&line);
            seen.push('\n');
            if line.contains(marker) {
                break;
            }
        }
        let _ = tx.send(seen);
    });
    rx.recv_timeout(timeout).ok()
}

/// What a finished process wrote to its standard output.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// What a finished process wrote to its standard error.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts that a finished process succeeded, showing its standard error
/// if it did not.
#[track_caller]
pub fn assert_success(output: &Output) {
    assert!(
        output.status.success(),
        "the process failed ({}): {}",
        output.status,
        stderr(output)
    );
}

/// Records `run(Mode::Record)` to `recording`, then replays it with
/// `run(Mode::Replay)`: both sessions must finish cleanly and the replay
/// must return what the recording did, which is returned.
pub fn record_then_replay<T: PartialEq + std::fmt::Debug>(
    recording: &Path,
    mut run: impl FnMut(replay_runtime::Mode) -> T,
) -> T {
    use replay_runtime::{Mode, Session};
    let session = Session::record(recording).expect("start recording");
    let recorded = run(Mode::Record);
    session.finish().expect("finish recording");
    let session = Session::replay(recording).expect("start replaying");
    let replayed = run(Mode::Replay);
    session.finish().expect("the replay consumes everything");
    assert_eq!(
        replayed, recorded,
        "the replay returns what the recording did"
    );
    recorded
}

/// Asserts that `haystack` contains `needle` (both `AsRef<str>`), showing
/// both if it does not; further arguments are a `format!` of context.
///
/// ```
/// use replay_tests::assert_contains;
///
/// let message = String::from("replay diverged at call #2 on thread 0");
/// assert_contains!(message, "call #2");
/// assert_contains!(message, "thread 0", "the report names the thread");
/// ```
#[macro_export]
macro_rules! assert_contains {
    ($haystack:expr, $needle:expr $(,)?) => {
        $crate::__assert_contains(
            ::core::convert::AsRef::as_ref(&$haystack),
            ::core::convert::AsRef::as_ref(&$needle),
            ::core::option::Option::None,
        )
    };
    ($haystack:expr, $needle:expr, $($context:tt)+) => {
        $crate::__assert_contains(
            ::core::convert::AsRef::as_ref(&$haystack),
            ::core::convert::AsRef::as_ref(&$needle),
            ::core::option::Option::Some(::core::format_args!($($context)+)),
        )
    };
}

/// The check behind [`assert_contains!`], out of the macro's expansion.
#[doc(hidden)]
#[track_caller]
pub fn __assert_contains(haystack: &str, needle: &str, context: Option<std::fmt::Arguments<'_>>) {
    if !haystack.contains(needle) {
        let context = context.map(|c| format!(": {c}")).unwrap_or_default();
        panic!(
            "assertion `haystack.contains(needle)` failed{context}\n  needle: {needle:?}\nhaystack: {haystack}"
        );
    }
}
