//! A real C library, SQLite (compiled from source by `libsqlite3-sys`'s
//! `bundled` feature), recorded and replayed through its functions
//! declared as `sqlite3.h` declares them, with no hand-written wrapper:
//! `sqlite3 **` and `sqlite3_stmt **` handle out-parameters, handles passed
//! by pointer and given back by value, SQL text in, `pzTail` pointing back
//! into it, borrowed C strings out, and `sqlite3_exec` calling a row
//! callback. The data comes from SQLite itself (`random()`,
//! `datetime('now')`), and a replay runs without the database file.

use std::cell::RefCell;
use std::ffi::{CStr, CString, c_char, c_int};
use std::mem::MaybeUninit;
use std::path::Path;
use std::process::{Command, Output};

use libsqlite3_sys as _; // Links the SQLite it builds; its bindings are unused.
use replay_runtime::{Context, ContextPtr, Mode, Session, deterministic, mapped};
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
    fn sqlite3_prepare_v2(
        db: &Db,
        zSql: *const c_char,
        nByte: c_int,
        #[out(len = 1)] ppStmt: *mut Stmt,
        #[out(len = 1, points_into = zSql)] pzTail: *mut *const c_char,
    ) -> c_int;
    fn sqlite3_step(stmt: &Stmt) -> c_int;
    fn sqlite3_column_text(stmt: &Stmt, iCol: c_int) -> *const c_char;
    fn sqlite3_column_int64(stmt: &Stmt, iCol: c_int) -> i64;
    fn sqlite3_finalize(stmt: Stmt) -> c_int;
    fn sqlite3_close(db: Db) -> c_int;
    fn sqlite3_errmsg(db: &Db) -> *const c_char;
    fn sqlite3_exec(
        db: &Db,
        sql: *const c_char,
        callback: Option<
            unsafe extern "C" fn(ContextPtr, c_int, *mut *mut c_char, *mut *mut c_char) -> c_int,
        >,
        arg: ContextPtr,
        #[out(len = 1)] errmsg: *mut *mut c_char,
    ) -> c_int;
}

/// `sqlite3_exec`'s row callback: prints the row, and makes a recorded
/// call of its own (SQLite's clock, through `sqlite3_exec`'s sibling
/// `prepare`/`step` would do as well; a recorded C call is what matters).
#[deterministic(callback)]
extern "C" fn print_row(
    lines: ContextPtr,
    n: c_int,
    #[input(len = n)] values: *mut *mut c_char,
    #[input(len = n)] names: *mut *mut c_char,
) -> c_int {
    let text = |p: *mut c_char| match p.is_null() {
        true => "NULL".to_owned(),
        // SAFETY: SQLite passes NUL-terminated column values and names.
        false => unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned(),
    };
    let mut row = Vec::new();
    for i in 0..usize::try_from(n).unwrap_or(0) {
        // SAFETY: `n` values and `n` names.
        let (value, name) = unsafe { (*values.add(i), *names.add(i)) };
        row.push(format!("{}={}", text(name), text(value)));
    }
    // A recorded call inside the callback: replayed when replay invokes it.
    let greeting = replay_tests::greet(&row.join(","));
    // SAFETY: `lines` is the `Context` the program passed to `sqlite3_exec`.
    let lines = unsafe { lines.as_ref::<RefCell<Vec<String>>>() };
    lines.borrow_mut().push(format!("exec {greeting}"));
    0
}

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
    // A script of several statements, walked with `pzTail`.
    let script = CString::new(
        "CREATE TABLE t (n INTEGER, at TEXT); \
         INSERT INTO t VALUES (random(), datetime('now')); \
         INSERT INTO t VALUES (random(), datetime('now', '+1 day')); \
         INSERT INTO t VALUES (random() % 1000, 'today');",
    )
    .expect("no NUL");
    let owned: Vec<CString> = [query, "SELECT no_such_column FROM t"]
        .into_iter()
        .map(|sql| CString::new(sql).expect("no NUL"))
        .collect();
    let mut statements = vec![script.as_ptr()];
    statements.extend(owned.iter().map(|sql| sql.as_ptr()));
    for first in statements {
        let mut sql = first;
        // SAFETY: `sql` points into a live C string (its tail).
        while unsafe { *sql } != 0 {
            let mut stmt = MaybeUninit::<Stmt>::uninit();
            let mut tail = std::ptr::null();
            // SAFETY: a live connection, a C string, room for one handle and
            // one tail. On an error SQLite writes a null handle.
            let (rc, stmt) = unsafe {
                let rc = sqlite3_prepare_v2(&db, sql, -1, stmt.as_mut_ptr(), &mut tail);
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
            if rc != SQLITE_OK || tail.is_null() {
                break;
            }
            sql = tail;
        }
    }
    // The same rows through `sqlite3_exec` and its row callback.
    let exec_lines = Context::new(RefCell::new(Vec::new()));
    let exec = CString::new("SELECT n, at FROM t WHERE rowid > 1").expect("no NUL");
    // SAFETY: a live connection, a C string, a callback of the C type, a
    // context that outlives the call, and no error message wanted.
    let rc = unsafe {
        sqlite3_exec(
            &db,
            exec.as_ptr(),
            Some(print_row),
            exec_lines.ptr(),
            std::ptr::null_mut(),
        )
    };
    assert_eq!(rc, SQLITE_OK);
    lines.extend(exec_lines.borrow().iter().cloned());
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
    assert_eq!(lines.len(), 6, "{lines:?}");
    assert_contains!(lines[0], "row 1: n=");
    assert_contains!(lines[2], "at=today");
    assert_contains!(lines[3], "no such column: no_such_column");
    // The row callback ran in replay, with the rows and its own recorded call.
    assert_contains!(lines[4], "exec hello, n=");
    assert_contains!(lines[5], "at=today");
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
    assert_eq!(printed(&recorded).len(), 6, "{}", stdout(&recorded));

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
