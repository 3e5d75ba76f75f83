//! Where each box goes: runs of events aggregated into boxes, and a causal
//! x position for each (the recording has no clock): a box sits after the
//! one before it on its lane and after the source of its incoming arrow.

use std::ops::Range;
use std::sync::Arc;

use replay_runtime::inspect::Meeting;

use super::graph::{Graph, Kind, Via};

/// The most boxes drawn: a browser stays responsive with this many. The
/// earliest ones (by x) are kept, so every kept arrow's source is kept.
pub const MAX_BOXES: usize = 30_000;

/// A box: consecutive events of one lane.
pub struct Group {
    pub lane: usize,
    /// Its nodes: a range of [`Graph::nodes`].
    pub nodes: Range<usize>,
    /// Recorded calls among them.
    pub calls: u64,
    /// Its x position, in slots from the left.
    pub x: u64,
}

/// An arrow between boxes: from the source node to the node that had to
/// wait for it.
pub struct Arrow {
    pub from: usize,
    pub to: usize,
    pub via: Via,
}

/// The picture's geometry.
pub struct Layout {
    pub groups: Vec<Group>,
    /// Each node's group.
    pub group_of: Vec<usize>,
    pub arrows: Vec<Arrow>,
    /// Boxes left out beyond [`MAX_BOXES`], and calls among them.
    pub dropped: (usize, u64),
    /// The recording's order between threads had a cycle (a damaged or
    /// hand-made file): some constraints were dropped.
    pub cyclic: bool,
}

/// What makes consecutive events one box.
#[derive(PartialEq)]
enum Key {
    Call(Arc<str>),
    Callback(Arc<str>),
    Meeting,
}

impl Layout {
    /// Aggregates and places `graph`'s nodes; `marked` (the divergence
    /// point) gets a box of its own.
    pub fn of(graph: &Graph, marked: Option<usize>) -> Layout {
        let (groups, group_of) = aggregate(graph, marked);
        let mut layout = Layout {
            groups,
            group_of,
            arrows: Vec::new(),
            dropped: (0, 0),
            cyclic: false,
        };
        layout.place(graph);
        layout.draw_arrows(graph);
        layout.keep_earliest(MAX_BOXES);
        layout
    }

    /// Gives each group the least x after its lane predecessor and its
    /// sources (Kahn's order over the groups).
    fn place(&mut self, graph: &Graph) {
        let count = self.groups.len();
        // Edges between groups, by source group.
        let mut edges: Vec<(usize, usize)> = graph
            .edges
            .iter()
            .map(|e| (self.group_of[e.from], self.group_of[e.to]))
            .collect();
        edges.sort_unstable();
        edges.dedup();
        let mut first_edge = vec![0usize; count + 1];
        for &(from, _) in &edges {
            first_edge[from + 1] += 1;
        }
        for g in 0..count {
            first_edge[g + 1] += first_edge[g];
        }
        let same_lane = |a: usize, b: usize| self.groups[a].lane == self.groups[b].lane;
        // Each group waits for the one before it on its lane, and its sources.
        let mut waiting: Vec<u32> = (0..count)
            .map(|g| u32::from(g > 0 && same_lane(g - 1, g)))
            .collect();
        for &(_, to) in &edges {
            waiting[to] += 1;
        }
        let mut x = vec![0u64; count];
        let mut placed = vec![false; count];
        let mut ready: Vec<usize> = (0..count).filter(|&g| waiting[g] == 0).collect();
        let mut done = 0;
        while let Some(g) = ready.pop() {
            placed[g] = true;
            done += 1;
            let next = (g + 1 < count && same_lane(g, g + 1)).then_some(g + 1);
            let targets = edges[first_edge[g]..first_edge[g + 1]].iter().map(|e| e.1);
            for to in next.into_iter().chain(targets) {
                x[to] = x[to].max(x[g] + 1);
                waiting[to] -= 1;
                if waiting[to] == 0 {
                    ready.push(to);
                }
            }
        }
        if done < count {
            // A cycle: place the rest lane by lane, after what is placed.
            self.cyclic = true;
            let mut sources: Vec<Vec<usize>> = vec![Vec::new(); count];
            for &(from, to) in &edges {
                sources[to].push(from);
            }
            for g in 0..count {
                if placed[g] {
                    continue;
                }
                let after_lane = (g > 0 && same_lane(g - 1, g)).then(|| x[g - 1] + 1);
                let after_sources = sources[g]
                    .iter()
                    .filter(|&&s| placed[s])
                    .map(|&s| x[s] + 1)
                    .max();
                x[g] = x[g].max(after_lane.unwrap_or(0).max(after_sources.unwrap_or(0)));
                placed[g] = true;
            }
        }
        for (group, x) in self.groups.iter_mut().zip(x) {
            group.x = x;
        }
    }

    /// One arrow per node that waited for another lane: from its latest
    /// source (a write-open waits for every read of its version).
    fn draw_arrows(&mut self, graph: &Graph) {
        let mut arrows: Vec<Arrow> = Vec::new();
        for edge in &graph.edges {
            let x = |node: usize| self.groups[self.group_of[node]].x;
            match arrows.last_mut() {
                Some(last) if last.to == edge.to => {
                    if x(edge.from) > x(last.from) {
                        last.from = edge.from;
                    }
                }
                _ => arrows.push(Arrow {
                    from: edge.from,
                    to: edge.to,
                    via: edge.via,
                }),
            }
        }
        self.arrows = arrows;
    }

    /// Keeps the `max` leftmost boxes, and the arrows between them.
    fn keep_earliest(&mut self, max: usize) {
        if self.groups.len() <= max {
            return;
        }
        let mut xs: Vec<u64> = self.groups.iter().map(|g| g.x).collect();
        xs.sort_unstable();
        let limit = xs[max];
        let mut renumber = vec![usize::MAX; self.groups.len()];
        let mut kept = Vec::with_capacity(max);
        for (i, group) in std::mem::take(&mut self.groups).into_iter().enumerate() {
            if group.x < limit {
                renumber[i] = kept.len();
                kept.push(group);
            } else {
                self.dropped.0 += 1;
                self.dropped.1 += group.calls;
            }
        }
        self.groups = kept;
        for g in &mut self.group_of {
            *g = renumber[*g];
        }
        let group_of = &self.group_of;
        self.arrows
            .retain(|a| group_of[a.from] != usize::MAX && group_of[a.to] != usize::MAX);
    }
}

/// Groups each lane's nodes: a run of calls to one function is one box,
/// with the lane's quiet meetings (those no other lane is involved in) in
/// between; a node with an arrow, a lane's start, a select and the marked
/// node are boxes of their own.
fn aggregate(graph: &Graph, marked: Option<usize>) -> (Vec<Group>, Vec<usize>) {
    let mut alone = vec![false; graph.nodes.len()];
    for edge in &graph.edges {
        alone[edge.from] = true;
        alone[edge.to] = true;
    }
    if let Some(marked) = marked {
        alone[marked] = true;
    }
    let mut groups: Vec<Group> = Vec::new();
    let mut group_of = vec![0usize; graph.nodes.len()];
    for lane in &graph.lanes {
        let mut current: Option<Key> = None;
        for n in lane.nodes.clone() {
            let node = &graph.nodes[n];
            let alone = alone[n]
                || matches!(
                    node.kind,
                    Kind::Start | Kind::Meeting(Meeting::Select { .. })
                );
            let (key, calls) = match &node.kind {
                Kind::Call { function, .. } => (Key::Call(function.clone()), 1),
                Kind::Callback { function } => (Key::Callback(function.clone()), 0),
                _ => (Key::Meeting, 0),
            };
            // A quiet meeting joins whatever box is open; a call or a
            // callback, a box of the same function.
            let joins = !alone
                && match (&current, &key) {
                    (Some(_), Key::Meeting) => true,
                    (Some(current), key) => current == key,
                    (None, _) => false,
                };
            if joins {
                if let Some(group) = groups.last_mut() {
                    group.nodes.end = n + 1;
                    group.calls += calls;
                }
            } else {
                groups.push(Group {
                    lane: node.lane,
                    nodes: n..n + 1,
                    calls,
                    x: 0,
                });
                current = (!alone).then_some(key);
            }
            group_of[n] = groups.len() - 1;
        }
    }
    (groups, group_of)
}
