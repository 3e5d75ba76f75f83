//! SQLite, recorded and replayed with no wrapper code: its functions are
//! declared as `sqlite3.h` declares them, in a `#[deterministic]` extern
//! block, and the program calls them as it would call any C function.
//!
//! ```text
//! cargo run -p replay-tests --example sqlite    # records, then replays in another process
//! ```
//!
//! Or by hand (the database goes beside the recording, as `x.replay.db`):
//!
//! ```text
//! REPLAY_MODE=record REPLAY_PATH=/tmp/x.replay cargo run -p replay-tests --example sqlite
//! REPLAY_MODE=replay REPLAY_PATH=/tmp/x.replay cargo run -p replay-tests --example sqlite
//! ```

use std::error::Error;
use std::ffi::{CStr, CString, c_char, c_int};
use std::mem::MaybeUninit;
use std::process::Command;

use libsqlite3_sys as _; // Only to link the SQLite it compiles; its bindings would not be recorded.
use replay_runtime::{ContextPtr, Session, deterministic, mapped};

/// A `sqlite3 *`. `#[mapped]`: recorded as a stable slot, never as an address.
#[mapped]
pub struct Db(*mut libsqlite3_sys::sqlite3);

/// A `sqlite3_stmt *`.
#[mapped]
pub struct Stmt(*mut libsqlite3_sys::sqlite3_stmt);

// What sqlite3.h declares, with what C does with each pointer. Recording
// calls SQLite and saves what it returned and wrote; replay checks the
// arguments and hands the saved values back, without calling SQLite.
#[deterministic]
unsafe extern "C" {
    /// `int sqlite3_open(const char *filename, sqlite3 **ppDb)`: a C string
    /// in, a handle out.
    fn sqlite3_open(filename: *const c_char, #[out(len = 1)] ppDb: *mut Db) -> c_int;
    /// `pzTail` (`const char **`) points into `zSql`: recorded as an
    /// offset, and pointed into this run's `zSql` in replay.
    fn sqlite3_prepare_v2(
        db: &Db,
        zSql: *const c_char,
        nByte: c_int,
        #[out(len = 1)] ppStmt: *mut Stmt,
        #[out(len = 1, points_into = zSql)] pzTail: *mut *const c_char,
    ) -> c_int;
    fn sqlite3_step(stmt: &Stmt) -> c_int;
    /// A borrowed C string: replay returns a copy, valid for the session.
    fn sqlite3_column_text(stmt: &Stmt, iCol: c_int) -> *const c_char;
    fn sqlite3_column_int64(stmt: &Stmt, iCol: c_int) -> i64;
    /// Takes the handle by value: its slot is freed.
    fn sqlite3_finalize(stmt: Stmt) -> c_int;
    fn sqlite3_close(db: Db) -> c_int;
    /// Calls `callback` for each row: in replay, replay calls it, with the
    /// recorded rows, without SQLite.
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

/// `sqlite3_exec`'s row callback: prints the row's columns.
#[deterministic(callback)]
extern "C" fn print_row(
    _arg: ContextPtr,
    n: c_int,
    #[input(len = n)] values: *mut *mut c_char,
    #[input(len = n)] _names: *mut *mut c_char,
) -> c_int {
    // SAFETY: SQLite passes `n` column values, each a C string (or null).
    let columns: Vec<String> = (0..n as usize)
        .map(|i| match unsafe { *values.add(i) } {
            value if value.is_null() => "NULL".to_owned(),
            value => unsafe { CStr::from_ptr(value) }
                .to_string_lossy()
                .into_owned(),
        })
        .collect();
    println!("exec row: {}", columns.join(" | "));
    0
}

const SQLITE_OK: c_int = 0;
const SQLITE_ROW: c_int = 100;

/// The program: a table filled with values SQLite makes up (a random
/// number, the time), read back. Returns the lines it prints.
fn program(database: &str) -> Vec<String> {
    let filename = CString::new(database).expect("no NUL in the path");
    let mut db = MaybeUninit::<Db>::uninit();
    // SAFETY: a C string, and room for the handle, which SQLite always writes.
    let db = unsafe {
        assert_eq!(sqlite3_open(filename.as_ptr(), db.as_mut_ptr()), SQLITE_OK);
        db.assume_init()
    };
    let mut lines = Vec::new();
    for sql in [
        "CREATE TABLE lottery (draw INTEGER, at TEXT)",
        "INSERT INTO lottery VALUES (abs(random()) % 100, strftime('%Y-%m-%d %H:%M:%f', 'now'))",
        "INSERT INTO lottery VALUES (abs(random()) % 100, strftime('%Y-%m-%d %H:%M:%f', 'now', '+7 days'))",
        "SELECT rowid, draw, at FROM lottery",
    ] {
        let sql = CString::new(sql).expect("no NUL in the SQL");
        let mut stmt = MaybeUninit::<Stmt>::uninit();
        let mut tail = std::ptr::null();
        // SAFETY: a live connection, a C string, room for the statement
        // and the tail. The statements compile, so the handle is written.
        let stmt = unsafe {
            let rc = sqlite3_prepare_v2(&db, sql.as_ptr(), -1, stmt.as_mut_ptr(), &mut tail);
            assert_eq!(rc, SQLITE_OK);
            stmt.assume_init()
        };
        // SAFETY: a live statement; the text is copied before the next call.
        while unsafe { sqlite3_step(&stmt) } == SQLITE_ROW {
            lines.push(unsafe {
                let at = CStr::from_ptr(sqlite3_column_text(&stmt, 2)).to_string_lossy();
                let (row, draw) = (
                    sqlite3_column_int64(&stmt, 0),
                    sqlite3_column_int64(&stmt, 1),
                );
                format!("draw #{row}: {draw:2} at {at}")
            });
        }
        // SAFETY: each handle is given back once.
        assert_eq!(unsafe { sqlite3_finalize(stmt) }, SQLITE_OK);
    }
    let sql = CString::new("SELECT draw, at FROM lottery ORDER BY draw").expect("no NUL");
    // SAFETY: a live connection, a C string, a callback of the C type, and
    // no context or error message wanted.
    let rc = unsafe {
        let (arg, errmsg) = (ContextPtr::null(), std::ptr::null_mut());
        sqlite3_exec(&db, sql.as_ptr(), Some(print_row), arg, errmsg)
    };
    assert_eq!(rc, SQLITE_OK);
    // SAFETY: every statement is finalized.
    assert_eq!(unsafe { sqlite3_close(db) }, SQLITE_OK);
    lines
}

fn main() -> Result<(), Box<dyn Error>> {
    // As a child, or run by hand: the session the environment asks for.
    if std::env::var_os("REPLAY_MODE").is_some() {
        let session = Session::from_env()?;
        let recording = std::env::var("REPLAY_PATH").unwrap_or_else(|_| "sqlite-example".into());
        let database = format!("{recording}.db");
        let _ = std::fs::remove_file(&database); // Start from an empty database.
        for line in program(&database) {
            println!("{line}");
        }
        eprintln!("{}", session.finish()?);
        return Ok(());
    }

    // Otherwise: a normal run, then record in a child process, delete the
    // database, and replay in another.
    let path = std::env::temp_dir().join(format!("sqlite-example-{}.replay", std::process::id()));
    let normal = format!("{}.normal.db", path.display());
    println!("A normal run:\n{}\n", program(&normal).join("\n"));
    std::fs::remove_file(normal)?;
    let run = |mode: &str| -> Result<String, Box<dyn Error>> {
        let output = Command::new(std::env::current_exe()?)
            .env("REPLAY_MODE", mode)
            .env("REPLAY_PATH", &path)
            .output()?;
        let stderr = String::from_utf8_lossy(&output.stderr);
        if !output.status.success() {
            return Err(stderr.into_owned().into());
        }
        let stdout = String::from_utf8(output.stdout)?;
        println!("{mode}:\n{stdout}({})\n", stderr.trim());
        Ok(stdout)
    };
    let recorded = run("record")?;
    std::fs::remove_file(format!("{}.db", path.display()))?;
    println!("(database deleted)\n");
    let replayed = run("replay")?;
    std::fs::remove_file(&path)?;
    if replayed != recorded {
        return Err("the replay differs from the recording".into());
    }
    println!("The replay matches the recording: same draws and times, without the database.");
    Ok(())
}
