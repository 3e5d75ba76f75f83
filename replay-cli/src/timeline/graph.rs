//! A recording read as a graph: each thread's events in order (nodes), and
//! where an event of one thread must come after one of another (edges): a
//! spawned thread's start after its spawn, a lock's open after the opens it
//! follows, a receive after its message was sent.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use replay_runtime::Error;
use replay_runtime::inspect::{Entry, Inspection, Meeting};

/// The most events read, in all: a node takes about 48 bytes, so memory
/// stays bounded whatever the recording's size (the page says where a
/// thread was cut short).
pub const MAX_NODES: usize = 2_000_000;

/// What a node is.
#[derive(Clone, Debug)]
pub enum Kind {
    /// Where a thread's lane starts: a spawn's arrow lands here.
    Start,
    /// A recorded call (one that returned, or panicked).
    Call { function: Arc<str>, panicked: bool },
    /// Foreign code called back into Rust.
    Callback { function: Arc<str> },
    /// Where the thread met another.
    Meeting(Meeting),
}

/// One event of a thread, as drawn.
#[derive(Debug)]
pub struct Node {
    pub lane: usize,
    pub kind: Kind,
    /// The number of the last call on its lane up to it (a call: its own).
    pub call: u64,
    /// 0 for a call or a lane's start; `k` for the `k`-th other event
    /// since call `call` (its name is `thread:call+k`, as `dump`'s).
    pub since: u64,
    /// Its index among its stream's entries (`u64::MAX` for a start).
    pub entry: u64,
}

/// One thread.
pub struct Lane {
    pub thread: u32,
    /// Its nodes, in order: a range of [`Graph::nodes`], its start first.
    pub nodes: Range<usize>,
    /// The node of call `n` at `n - 1`.
    pub calls: Vec<usize>,
    /// Reading stopped before the stream's end ([`MAX_NODES`]).
    pub truncated: bool,
}

/// How one thread's event comes after another's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    Spawn,
    Lock,
    Message,
}

impl Via {
    pub fn name(self) -> &'static str {
        match self {
            Via::Spawn => "spawn",
            Via::Lock => "lock",
            Via::Message => "message",
        }
    }
}

/// Node `to` comes after node `from`, on another lane.
#[derive(Clone, Copy, Debug)]
pub struct Edge {
    pub from: usize,
    pub to: usize,
    pub via: Via,
}

/// A recording's events and the order between threads.
pub struct Graph {
    pub nodes: Vec<Node>,
    pub lanes: Vec<Lane>,
    /// Between lanes only (a lane's own order is its nodes').
    pub edges: Vec<Edge>,
}

impl Graph {
    /// Reads every thread of `recording` (up to [`MAX_NODES`] events).
    pub fn read(recording: &Inspection) -> Result<Graph, Error> {
        let mut graph = Graph {
            nodes: Vec::new(),
            lanes: Vec::new(),
            edges: Vec::new(),
        };
        for thread in recording.threads() {
            graph.read_lane(recording, thread)?;
        }
        graph.connect();
        Ok(graph)
    }

    fn read_lane(&mut self, recording: &Inspection, thread: u32) -> Result<(), Error> {
        let lane = self.lanes.len();
        let first = self.nodes.len();
        self.nodes.push(Node {
            lane,
            kind: Kind::Start,
            call: 0,
            since: 0,
            entry: u64::MAX,
        });
        let (mut call, mut since, mut calls, mut truncated) = (0, 0, Vec::new(), false);
        for (index, entry) in recording.entries(thread)?.enumerate() {
            if self.nodes.len() >= MAX_NODES {
                truncated = true;
                break;
            }
            let entry = entry?;
            let panicked = matches!(entry, Entry::Panicked { .. });
            let kind = match entry {
                Entry::Call {
                    number, function, ..
                }
                | Entry::Panicked {
                    number, function, ..
                } => {
                    call = number;
                    since = 0;
                    calls.push(self.nodes.len());
                    Kind::Call { function, panicked }
                }
                Entry::Callback { function, .. } => {
                    since += 1;
                    Kind::Callback { function }
                }
                Entry::Thread(meeting) => {
                    since += 1;
                    Kind::Meeting(meeting)
                }
                _ => {
                    since += 1;
                    continue;
                }
            };
            self.nodes.push(Node {
                lane,
                kind,
                call,
                since,
                entry: index as u64,
            });
        }
        self.lanes.push(Lane {
            thread,
            nodes: first..self.nodes.len(),
            calls,
            truncated,
        });
        Ok(())
    }

    /// Finds each meeting's source on another lane.
    fn connect(&mut self) {
        let lane_of: HashMap<u32, usize> = self
            .lanes
            .iter()
            .enumerate()
            .map(|(i, lane)| (lane.thread, i))
            .collect();
        // A lock's write-opens by (lock, version), its read-opens by the
        // version they read.
        let mut writes: HashMap<(u64, u64), usize> = HashMap::new();
        let mut reads: HashMap<(u64, u64), Vec<usize>> = HashMap::new();
        for (i, node) in self.nodes.iter().enumerate() {
            match node.kind {
                Kind::Meeting(Meeting::Lock {
                    lock: Some(lock),
                    version,
                    ..
                }) => {
                    writes.insert((lock, version), i);
                }
                Kind::Meeting(Meeting::ReadLock {
                    lock: Some(lock),
                    version,
                }) => reads.entry((lock, version)).or_default().push(i),
                _ => {}
            }
        }
        let mut edges = Vec::new();
        for (to, node) in self.nodes.iter().enumerate() {
            let Kind::Meeting(meeting) = &node.kind else {
                continue;
            };
            let mut from = |from: usize, via| edges.push(Edge { from, to, via });
            match *meeting {
                Meeting::Spawn { thread } => {
                    if let Some(&lane) = lane_of.get(&thread) {
                        edges.push(Edge {
                            from: to,
                            to: self.lanes[lane].nodes.start,
                            via: Via::Spawn,
                        });
                    }
                }
                // A write-open follows the reads of its version, or the
                // write-open before it; a read-open that write-open.
                Meeting::Lock {
                    lock: Some(lock),
                    version,
                    reads: read_count,
                } => match reads.get(&(lock, version)) {
                    Some(opens) if read_count > 0 => {
                        opens.iter().for_each(|&r| from(r, Via::Lock));
                    }
                    _ => {
                        if let Some(&w) =
                            version.checked_sub(1).and_then(|v| writes.get(&(lock, v)))
                        {
                            from(w, Via::Lock);
                        }
                    }
                },
                Meeting::ReadLock {
                    lock: Some(lock),
                    version,
                } => {
                    if let Some(&w) = version.checked_sub(1).and_then(|v| writes.get(&(lock, v))) {
                        from(w, Via::Lock);
                    }
                }
                Meeting::Receive {
                    sender: Some(sender),
                    sent_after: Some(after),
                    ..
                } => {
                    if let Some(lane) = lane_of.get(&sender).map(|&l| &self.lanes[l]) {
                        let source = match after {
                            0 => Some(lane.nodes.start),
                            n => usize::try_from(n - 1)
                                .ok()
                                .and_then(|n| lane.calls.get(n).copied()),
                        };
                        if let Some(source) = source {
                            from(source, Via::Message);
                        }
                    }
                }
                _ => {}
            }
        }
        // A lane's own order needs no edge (and a hostile file's edge
        // backwards on one lane would be a cycle).
        edges.retain(|e| self.nodes[e.from].lane != self.nodes[e.to].lane);
        self.edges = edges;
    }

    /// Node `node`'s name: `thread:call`, or `thread:call+k` for the
    /// `k`-th other event after that call (as `replay dump` names it).
    pub fn name(&self, node: usize) -> String {
        let n = &self.nodes[node];
        let thread = self.lanes[n.lane].thread;
        match n.kind {
            Kind::Start => format!("{thread}:start"),
            _ if n.since == 0 => format!("{thread}:{}", n.call),
            _ => format!("{thread}:{}+{}", n.call, n.since),
        }
    }
}
