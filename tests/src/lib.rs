//! The foreign side of replay's tests: bindings to a small real C library
//! (`csrc/replaytest.c`, built by `build.rs`) and to libc, wrapped with
//! `#[deterministic]`, plus what the integration tests share: the helpers
//! (scratch directories, caught panics, processes' output,
//! [`assert_contains!`]) and [`recording_files`], to build recordings byte
//! by byte.

mod helpers;
pub mod recording_files;

#[doc(hidden)]
pub use helpers::__assert_contains;
pub use helpers::{
    CHILD_VAR, TempDir, assert_success, catch_panic, child, child_dir, expect_panic, file_contains,
    fixture_values, greet_noise, limit_file_size, panic_message, partial_files, path_str,
    record_then_replay, scratch_dir, stderr, stderr_until, stdout, write_file,
};

use std::ffi::{CString, c_char, c_int, c_void};

use replay_runtime::deterministic;
use serde::{Deserialize, Serialize};

// SAFETY: two integers: no address, no handle, every bit pattern valid.
unsafe impl replay_runtime::Plain for Point {}

/// A C `struct rt_point`, passed and returned by value.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Point {
    /// Horizontal.
    pub x: i32,
    /// Vertical.
    pub y: i32,
}

#[deterministic]
unsafe extern "C" {
    /// Wall-clock time in nanoseconds.
    pub safe fn rt_now_nanos() -> u64;
    /// `p` moved by a random amount below `spread` on each axis.
    pub safe fn rt_point_jitter(p: Point, spread: i32) -> Point;
    /// Fills `out` with `len` random bytes; returns `len`.
    pub fn rt_fill_random(#[out(len = len)] out: *mut u8, len: usize) -> i64;
    /// Writes a random number of letters (at least one) into `out`;
    /// returns how many.
    pub fn rt_read_some(#[out(len = cap, written = return)] out: *mut u8, cap: usize) -> i64;
    /// Fills `out` with `n` random points (structs, byte for byte).
    pub fn rt_scatter(#[out(len = n)] out: *mut Point, n: usize) -> usize;
}

/// A handle the C library hands out and takes back.
#[replay_runtime::mapped]
pub struct CHandle(i32);

#[deterministic]
unsafe extern "C" {
    /// A new handle.
    pub safe fn rt_handle_open() -> CHandle;
    /// Takes `h` over and closes it; returns how many are still open.
    pub safe fn rt_handle_close(h: CHandle) -> i32;
}

#[deterministic]
unsafe extern "C" {
    /// Hands C a context pointer to keep.
    pub fn rt_set_context(ctx: replay_runtime::ContextPtr);
    /// The context pointer C keeps.
    pub fn rt_get_context() -> replay_runtime::ContextPtr;
}

unsafe extern "C" {
    /// How many times this thread has called the C library. Not wrapped:
    /// tests read it to prove replay never called into C.
    safe fn rt_calls() -> i32;
    fn rt_greet(name: *const c_char, out: *mut c_char, cap: usize) -> i32;
    fn rt_stats(values: *const i32, n: usize, sum: *mut i64, max: *mut i32);
}

/// How many times this thread has entered the C library.
pub fn c_calls() -> i32 {
    rt_calls()
}

/// A greeting from C, which numbers its calls: strings in and out, through
/// a safe Rust function.
#[deterministic]
pub fn greet(name: &str) -> String {
    let name = CString::new(name).unwrap_or_default();
    let mut out = vec![0u8; 64];
    // SAFETY: `name` is NUL-terminated; `out` holds `out.len()` bytes.
    let wanted = unsafe { rt_greet(name.as_ptr(), out.as_mut_ptr().cast(), out.len()) };
    out.truncate(usize::try_from(wanted).unwrap_or(0).min(out.len() - 1));
    String::from_utf8_lossy(&out).into_owned()
}

/// Sum and maximum of `values`, computed in C: a slice in, two `&mut`
/// out-parameters back.
#[deterministic]
pub fn stats(values: &[i32], sum: &mut i64, max: &mut i32) {
    // SAFETY: the pointers come from live references of the right types.
    unsafe { rt_stats(values.as_ptr(), values.len(), sum, max) }
}

/// libc, declared through a `#[deterministic]` extern block.
pub mod libc_calls {
    use super::*;

    #[deterministic]
    unsafe extern "C" {
        /// The process id.
        pub safe fn getpid() -> c_int;
        /// A pseudo-random number.
        pub fn rand() -> c_int;
        /// Seeds `rand`.
        pub fn srand(seed: u32);
        /// Seconds since the epoch, also written through `tloc` unless null.
        pub fn time(#[out(len = 1)] tloc: *mut libc::time_t) -> libc::time_t;
        /// Reads up to `count` bytes from `fd` into `buf`.
        pub fn read(
            fd: c_int,
            #[out(len = count, written = return)] buf: *mut c_void,
            count: usize,
        ) -> isize;
    }
}

/// Real files through libc, with descriptors as `#[mapped]` handles.
pub mod files {
    use std::ffi::CString;

    use replay_runtime::{deterministic, mapped};

    /// An open file descriptor. Dropping a real one closes it.
    #[mapped(drop = Fd::close)]
    pub struct Fd(libc::c_int);

    impl Fd {
        fn close(&mut self) {
            // SAFETY: the descriptor is open and owned by this handle.
            unsafe { libc::close(self.0) };
        }

        /// The raw descriptor: placeholders in replay, real numbers otherwise.
        pub fn raw_fd(&self) -> libc::c_int {
            self.0
        }

        /// Reads up to `max` bytes: `read` as a method, whose `&self` is
        /// recorded as the handle's slot.
        #[deterministic]
        pub fn read_up_to(&self, max: usize) -> Vec<u8> {
            read_for_real(self, max)
        }
    }

    /// Opens `path` for reading. In replay it opens the file for real when
    /// the path matches the session's live files, and reads on the handle
    /// then run for real too.
    #[deterministic(path = path)]
    pub fn open(path: &str) -> Result<Fd, String> {
        open_for_real(path)
    }

    fn open_for_real(path: &str) -> Result<Fd, String> {
        let c_path = CString::new(path).map_err(|e| e.to_string())?;
        // SAFETY: a NUL-terminated path.
        let fd = unsafe { libc::open(c_path.as_ptr(), libc::O_RDONLY) };
        if fd < 0 {
            return Err(std::io::Error::last_os_error().to_string());
        }
        Ok(Fd(fd))
    }

    /// Reads up to `max` bytes.
    #[deterministic]
    pub fn read(fd: &Fd, max: usize) -> Vec<u8> {
        read_for_real(fd, max)
    }

    fn read_for_real(fd: &Fd, max: usize) -> Vec<u8> {
        let mut buf = vec![0u8; max];
        // SAFETY: the buffer holds `max` bytes.
        let n = unsafe { libc::read(fd.0, buf.as_mut_ptr().cast(), max) };
        buf.truncate(usize::try_from(n).unwrap_or(0));
        buf
    }

    /// Opens a log file; in replay, `/dev/null` stands in for it.
    #[deterministic(replay_with = open_dev_null)]
    pub fn open_log(path: &str) -> Result<Fd, String> {
        open_for_real(path)
    }

    /// The stand-in of `open_log`: a real descriptor, on nothing.
    fn open_dev_null(_path: &str) -> Result<Fd, String> {
        open_for_real("/dev/null")
    }

    /// Closes the file: the handle is consumed, its slot freed.
    #[deterministic]
    pub fn close(fd: Fd) {
        drop(fd);
    }
}
