//! `replay stats` lists the patches a recording was made with: the
//! markers `replay_runtime::patched` leaves, per thread.

mod common;

use common::replay_ok;
use replay_runtime::{Session, deterministic};
use replay_tests::{assert_contains, scratch_dir};

#[deterministic]
fn fetch(url: &str) -> usize {
    url.len()
}

#[test]
fn stats_list_the_patches_and_the_threads_that_hold_their_markers() {
    let dir = scratch_dir("cli-patches");
    let path = dir.join("patched.replay");
    let session = Session::record(&path).expect("start recording");
    if replay_runtime::patched("fetch-with-retry") {
        fetch("a");
    }
    // Asked again on the same thread: no second marker.
    assert!(replay_runtime::patched("fetch-with-retry"));
    assert!(replay_runtime::patched("utf-8 \"names\""));
    replay_runtime::thread::spawn(|| {
        assert!(replay_runtime::patched("fetch-with-retry"));
        fetch("b");
    })
    .join()
    .expect("the spawned thread");
    session.finish().expect("finish recording");

    let out = replay_ok("stats", &path);
    assert_contains!(out, "patches (markers of replay_runtime::patched):");
    assert_contains!(out, "  \"fetch-with-retry\"  on thread(s) 0, 1\n");
    assert_contains!(out, "  \"utf-8 \\\"names\\\"\"  on thread(s) 0\n");
    // Three markers: two on thread 0, one on thread 1.
    assert_contains!(out, "thread 0: 3 call(s)");
    assert_contains!(out, "thread 1: 2 call(s)");

    let without = dir.join("plain.replay");
    let session = Session::record(&without).expect("start recording");
    fetch("a");
    session.finish().expect("finish recording");
    assert_contains!(replay_ok("stats", &without), "patches: none");
}
