//! A real C library, SQLite (compiled from source by `libsqlite3-sys`'s
//! `bundled` feature), recorded and replayed through its functions
//! declared as `sqlite3.h` declares them, with no hand-written wrapper:
//! `sqlite3 **` and `sqlite3_stmt **` handle out-parameters, handles passed
//! by pointer and given back by value, SQL text in, borrowed C strings out.
//! The data comes from SQLite itself (`random()`, `datetime('now')`), and
//! a replay runs without the database file.

use std::ffi::{CStr, CString, c_char, c_int};
use std::mem::MaybeUninit;
use std::path::Path;
use std::process::{Command, Output};

use libsqlite3_sys as _; // Links the SQLite it builds; its bindings are unused.
use replay_runtime::{ContextPtr, Mode, Session, deterministic, mapped};
use replay_tests::{
    assert_contains, assert_success, expect_panic, path_str, record_then_replay, scratch_dir,
    stdout,
};

/// A `sqlite3 *`: a database connection.
#[mapped]
pub struct Db(*mut libsqlite3_sys::sqlite3);

/// A `sqlite3_stmt *`: a prepared statement.
#[mapped]
pub struct Stmt(*mut libsqlite3_sys::sqlite3_stmt);

const SQLITE_OK: c_int = 0;
const SQLITE_ROW: c_int = 100;

#[deterministic]
unsafe extern "C" {
    fn sqlite3_open(filename: *const c_char, #[out(len = 1)] ppDb: *mut Db) -> c_int;
    // `pzTail` is a `const char **` that SQLite points into `zSql`: an
    // address, which no annotation can record (`#[out(len = 1)] pzTail:
    // *mut *const c_char` is refused: `*const i8` is not plain data). This
    // program never asks for the tail, so it passes null, through the one
    // pointer-sized type that records null: `ContextPtr::null()`.
    fn sqlite3_prepare_v2(
        db: &Db,
        zSql: *const c_char,
        nByte: c_int,
        #[out(len = 1)] ppStmt: *mut Stmt,
        pzTail: ContextPtr,
    ) -> c_int;
    fn sqlite3_step(stmt: &Stmt) -> c_int;
    fn sqlite3_column_text(stmt: &Stmt, iCol: c_int) -> *const c_char;
    fn sqlite3_column_int64(stmt: &Stmt, iCol: c_int) -> i64;
    fn sqlite3_finalize(stmt: Stmt) -> c_int;
    fn sqlite3_close(db: Db) -> c_int;
    fn sqlite3_errmsg(db: &Db) -> *const c_char;
}

// TODO(callbacks): sqlite3_exec with a row callback, once extern blocks
// accept callbacks: `sqlite3_exec(db: &Db, sql: *const c_char, callback:
// extern "C" fn(..) -> c_int, arg: ContextPtr, errmsg: ..)`, recorded
// and replayed with the rows the callback saw.

/// The query the program runs over what it inserted.
const SELECT: &str = "SELECT rowid, n, at FROM t ORDER BY rowid";

/// Opens `dir/test.db`, fills a table with values SQLite makes up, and
/// returns the lines the program prints: the rows, read back with `query`,
/// and the error of a statement that does not compile.
fn program(dir: &Path, query: &str) -> Vec<String> {
    let filename = CString::new(path_str(&dir.join("test.db"))).expect("no NUL");
    let mut db = MaybeUninit::<Db>::uninit();
    // SAFETY: a C string, and room for one handle.
    let rc = unsafe { sqlite3_open(filename.as_ptr(), db.as_mut_ptr()) };
    // SAFETY: `sqlite3_open` always writes the handle.
    let db = unsafe { db.assume_init() };
    assert_eq!(rc, SQLITE_OK);

    let mut lines = Vec::new();
    for sql in [
        "CREATE TABLE t (n INTEGER, at TEXT)",
        "INSERT INTO t VALUES (random(), datetime('now'))",
        "INSERT INTO t VALUES (random(), datetime('now', '+1 day'))",
        "INSERT INTO t VALUES (random() % 1000, 'today')",
        query,
        "SELECT no_such_column FROM t",
    ] {
        let sql = CString::new(sql).expect("no NUL");
        let mut stmt = MaybeUninit::<Stmt>::uninit();
        // SAFETY: a live connection, a C string, room for one handle, and
        // no tail wanted. On an error SQLite writes a null handle.
        let (rc, stmt) = unsafe {
            let rc =
                sqlite3_prepare_v2(&db, sql.as_ptr(), -1, stmt.as_mut_ptr(), ContextPtr::null());
            (rc, stmt.assume_init())
        };
        if rc != SQLITE_OK {
            // SAFETY: a live connection; the message is copied at once.
            let message = unsafe { CStr::from_ptr(sqlite3_errmsg(&db)) };
            lines.push(format!("error {rc}: {}", message.to_string_lossy()));
        }
        // SAFETY: a live statement (a null one, after an error, is done).
        while rc == SQLITE_OK && unsafe { sqlite3_step(&stmt) } == SQLITE_ROW {
            // SAFETY: a statement on a row of three columns; the text is
            // copied before the next call.
            let line = unsafe {
                let rowid = sqlite3_column_int64(&stmt, 0);
                let n = sqlite3_column_int64(&stmt, 1);
                let at = CStr::from_ptr(sqlite3_column_text(&stmt, 2));
                format!("row {rowid}: n={n} at={}", at.to_string_lossy())
            };
            lines.push(line);
        }
        // SAFETY: finalized once; finalizing null is a no-op.
        assert_eq!(unsafe { sqlite3_finalize(stmt) }, SQLITE_OK);
    }
    // SAFETY: every statement is finalized.
    assert_eq!(unsafe { sqlite3_close(db) }, SQLITE_OK);
    lines
}

#[test]
fn queries_replay_in_process_without_the_database() {
    let dir = scratch_dir("sqlite-in-process");
    let recording = dir.join("sqlite.replay");
    let database = dir.join("test.db");
    let lines = record_then_replay(&recording, |mode| {
        if mode == Mode::Replay {
            std::fs::remove_file(&database).expect("the recording made the database");
        }
        program(&dir, SELECT)
    });
    assert!(!database.exists(), "replay never opened the database");
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert_contains!(lines[0], "row 1: n=");
    assert_contains!(lines[2], "at=today");
    assert_contains!(lines[3], "no such column: no_such_column");
}

/// Runs this test binary's `test` in a child process, with `phase` and
/// `dir` in its environment; returns its output.
fn run_child(test: &str, phase: &str, dir: &Path) -> Output {
    Command::new(std::env::current_exe().expect("the test binary"))
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env("SQLITE_TEST_PHASE", phase)
        .env("SQLITE_TEST_DIR", dir)
        .output()
        .expect("run the test binary")
}

/// The lines the child printed: libtest may have begun the first with
/// `test NAME ... `.
fn printed(output: &Output) -> Vec<String> {
    stdout(output)
        .lines()
        .filter_map(|l| l.find("PRINT ").map(|at| l[at + 6..].to_owned()))
        .collect()
}

#[test]
fn a_recording_replays_in_another_process_without_the_database() {
    const NAME: &str = "a_recording_replays_in_another_process_without_the_database";
    if let Ok(phase) = std::env::var("SQLITE_TEST_PHASE") {
        let dir = std::env::var_os("SQLITE_TEST_DIR").expect("SQLITE_TEST_DIR");
        let dir = Path::new(&dir);
        let recording = dir.join("sqlite.replay");
        let session = match phase.as_str() {
            "record" => Session::record(&recording).expect("record"),
            "replay" => Session::replay(&recording).expect("replay"),
            _ => Session::off(),
        };
        for line in program(dir, SELECT) {
            println!("PRINT {line}");
        }
        session.finish().expect("finish");
        return;
    }
    let dir = scratch_dir("sqlite-cross-process");
    let database = dir.join("test.db");

    let recorded = run_child(NAME, "record", &dir);
    assert_success(&recorded);
    std::fs::remove_file(&database).expect("the recording made the database");
    let replayed = run_child(NAME, "replay", &dir);
    assert_success(&replayed);
    assert!(!database.exists(), "replay never opened the database");
    assert_eq!(printed(&replayed), printed(&recorded));
    assert_eq!(printed(&recorded).len(), 4, "{}", stdout(&recorded));

    // Without a session, SQLite makes up other numbers.
    let normal = run_child(NAME, "off", &dir);
    assert_success(&normal);
    assert_ne!(printed(&normal), printed(&recorded));
}

#[test]
fn other_sql_diverges_naming_z_sql() {
    let dir = scratch_dir("sqlite-other-sql");
    let recording = dir.join("sqlite.replay");
    let session = Session::record(&recording).expect("record");
    program(&dir, SELECT);
    session.finish().expect("finish");

    let session = Session::replay(&recording).expect("replay");
    let message = expect_panic("other SQL diverges", || {
        program(&dir, "SELECT rowid, n, at FROM t ORDER BY n")
    });
    assert_contains!(
        message,
        "argument 2 (`zSql`) of `sqlite::sqlite3_prepare_v2` differs"
    );
    assert_contains!(message, "ORDER BY rowid");
    assert_contains!(message, "ORDER BY n");
    assert!(session.finish().is_err(), "the session is spent");
}
