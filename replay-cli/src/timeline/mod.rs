//! `replay timeline`: a picture of a recording, as one self-contained HTML
//! page. Threads are lanes (in spawn order: the order of their streams),
//! calls are boxes, and arrows go from the event another thread waited
//! for (a spawn, the lock's previous open, a message's send) to the one
//! that waited. `graph.rs` reads the recording and finds the arrows,
//! `layout.rs` aggregates runs and places the boxes, `html.rs` writes the
//! page, whose script (`page.js`) draws them.

mod graph;
mod html;
mod layout;
mod report;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

use replay_runtime::inspect::{Entry, Inspection, Meeting, printable};

use self::graph::{Graph, Kind, MAX_NODES};
use self::html::{Header, json_string};
use self::layout::{Layout, MAX_BOXES};
use crate::decode::Decoder;
use crate::output::{Failure, Out, outln};

/// Events of a box whose decoded text the page holds (the rest: `dump`).
const DETAIL_LINES: usize = 40;

/// Writes the page for the recording at `file` to `output`; with
/// `divergence`, marks the event that report names.
pub fn timeline(
    file: &Path,
    output: &Path,
    divergence: Option<&Path>,
    out: &mut Out,
) -> Result<(), Failure> {
    let recording = Inspection::open(file)?;
    let graph = Graph::read(&recording)?;
    let marked = divergence
        .map(|report| divergence_node(&graph, report))
        .transpose()?;
    let layout = Layout::of(&graph, marked);
    let texts = details(&recording, &graph, &layout)?;

    let title = file.display().to_string();
    let meta = recording.metadata();
    let calls: u64 = graph.lanes.iter().map(|l| l.calls.len() as u64).sum();
    let facts = [
        format!(
            "Recorded by {} ({}), format version {}.",
            printable(&meta.program),
            printable(&meta.library),
            recording.version()
        ),
        format!(
            "{} thread(s), {calls} call(s): {} box(es), {} arrow(s). The x-axis is the \
             recorded order (there is no clock): each event sits after the one before it on \
             its thread and after the source of its arrow.",
            graph.lanes.len(),
            layout.groups.len(),
            layout.arrows.len()
        ),
    ];
    let notes = notes(&recording, &graph, &layout, marked);
    let data = data(&graph, &layout, &texts, marked);
    let page = html::page(
        &Header {
            title: &title,
            facts: &facts,
            notes: &notes,
        },
        &data,
    );
    std::fs::write(output, page).map_err(|e| {
        Failure::Other(format!(
            "cannot write the page to {}: {e}",
            output.display()
        ))
    })?;
    outln!(
        out,
        "wrote {}: {} thread(s), {} box(es) for {calls} call(s), {} arrow(s)",
        output.display(),
        graph.lanes.len(),
        layout.groups.len(),
        layout.arrows.len()
    )?;
    for note in &notes {
        outln!(out, "note: {note}")?;
    }
    Ok(())
}

/// The node of the call a divergence report names.
fn divergence_node(graph: &Graph, report: &Path) -> Result<usize, Failure> {
    let bytes = std::fs::read(report).map_err(|e| {
        Failure::Other(format!(
            "cannot read the divergence report {}: {e}",
            report.display()
        ))
    })?;
    let text = String::from_utf8_lossy(&bytes);
    let (thread, call) = report::named_event(&text).ok_or_else(|| {
        Failure::Other(format!(
            "{} names no event: a divergence report has a line `replay diverged at call #N on \
             thread T` (or `stop here: REPLAY_BREAK=T:N`)",
            report.display()
        ))
    })?;
    let Some(lane) = graph.lanes.iter().find(|l| l.thread == thread) else {
        let threads: Vec<String> = graph.lanes.iter().map(|l| l.thread.to_string()).collect();
        return Err(Failure::Other(format!(
            "the report names event {thread}:{call} (call #{call} on thread {thread}), but the \
             recording has no thread {thread} (its threads: {}); is it the recording that \
             replay read?",
            threads.join(", ")
        )));
    };
    let node = call
        .checked_sub(1)
        .and_then(|i| usize::try_from(i).ok())
        .and_then(|i| lane.calls.get(i).copied());
    node.ok_or_else(|| {
        Failure::Other(format!(
            "the report names event {thread}:{call} (call #{call} on thread {thread}), but \
             thread {thread} has {} recorded call(s){}; is it the recording that replay read?",
            lane.calls.len(),
            if lane.truncated {
                " in the part read"
            } else {
                ""
            }
        ))
    })
}

/// The decoded text of the first [`DETAIL_LINES`] events of every box,
/// by node: each thread read again, decoded as `replay dump` decodes it.
fn details(
    recording: &Inspection,
    graph: &Graph,
    layout: &Layout,
) -> Result<HashMap<usize, String>, Failure> {
    let mut wanted = vec![false; graph.nodes.len()];
    for group in &layout.groups {
        for n in group.nodes.clone().take(DETAIL_LINES) {
            wanted[n] = true;
        }
    }
    let mut texts = HashMap::new();
    for lane in &graph.lanes {
        // The lane's start is no entry.
        let mut next = lane.nodes.start + 1;
        if !wanted[next.min(lane.nodes.end)..lane.nodes.end].contains(&true) {
            continue;
        }
        let mut decoder = Decoder::for_version(recording.version());
        for (index, entry) in recording.entries(lane.thread)?.enumerate() {
            if next >= lane.nodes.end {
                break;
            }
            let entry = entry?;
            let node = (graph.nodes[next].entry == index as u64).then_some(next);
            if let Some(node) = node {
                next += 1;
                if wanted[node] {
                    let text = decoder.describe(&entry);
                    texts.insert(
                        node,
                        format!("{}  {text}{}", graph.name(node), extra(&entry)),
                    );
                    continue;
                }
            }
            // A callback's return is decoded with its callback's signature.
            if matches!(entry, Entry::Callback { .. } | Entry::Returned { .. }) {
                decoder.describe(&entry);
            }
        }
    }
    Ok(texts)
}

/// What the timeline adds to `dump`'s text of a meeting.
fn extra(entry: &Entry) -> String {
    match entry {
        Entry::Thread(Meeting::Lock { lock: Some(l), .. })
        | Entry::Thread(Meeting::ReadLock { lock: Some(l), .. }) => format!(" [lock {l}]"),
        Entry::Thread(Meeting::Receive {
            sender: Some(s),
            sent_after: Some(n),
            ..
        }) => format!(" [sent after {s}:{n}]"),
        _ => String::new(),
    }
}

/// What the picture leaves out, and why.
fn notes(
    recording: &Inspection,
    graph: &Graph,
    layout: &Layout,
    marked: Option<usize>,
) -> Vec<String> {
    let mut notes = Vec::new();
    if let Some(node) = marked {
        notes.push(format!(
            "Marked in red: event {}, where the replay diverged.",
            graph.name(node)
        ));
    }
    if recording.version() < 5 {
        notes.push(format!(
            "This recording was made by format version {}, which does not record which lock \
             an open opened nor where a received message was sent: no lock or message arrows \
             are drawn (spawn arrows are). Re-record it to see them.",
            recording.version()
        ));
    }
    for lane in graph.lanes.iter().filter(|l| l.truncated) {
        notes.push(format!(
            "Thread {}: only its first events are drawn (a picture reads at most {MAX_NODES} \
             events); `replay dump` shows them all.",
            lane.thread
        ));
    }
    if layout.dropped.0 > 0 {
        notes.push(format!(
            "Only the first {MAX_BOXES} boxes (in recorded order) are drawn: {} more, holding \
             {} call(s), are left out.",
            layout.dropped.0, layout.dropped.1
        ));
    }
    if layout.cyclic {
        notes.push(
            "The recorded order between threads has a cycle (a damaged or hand-made file?): \
             some arrows may not point forward."
                .to_owned(),
        );
    }
    notes
}

/// The picture's data, as JSON, for the page's script.
fn data(
    graph: &Graph,
    layout: &Layout,
    texts: &HashMap<usize, String>,
    marked: Option<usize>,
) -> String {
    let mut out = String::with_capacity(256 * layout.groups.len() + 1024);
    out.push_str("{\"lanes\":[");
    for (i, lane) in graph.lanes.iter().enumerate() {
        let comma = if i > 0 { "," } else { "" };
        let _ = write!(out, "{comma}{{\"thread\":{}}}", lane.thread);
    }
    let width = layout.groups.iter().map(|g| g.x + 1).max().unwrap_or(1);
    let _ = write!(out, "],\"width\":{width},\"boxes\":[");
    for (i, group) in layout.groups.iter().enumerate() {
        let first = group.nodes.start;
        let last = group.nodes.end - 1;
        let (kind, label) = describe(graph, first, group.calls, group.nodes.len());
        let comma = if i > 0 { "," } else { "" };
        let diverged = marked.is_some_and(|m| group.nodes.contains(&m));
        let _ = write!(
            out,
            "{comma}{{\"l\":{},\"x\":{},\"k\":\"{kind}\",\"n\":{},\"v\":{diverged},\"t\":",
            group.lane, group.x, group.calls
        );
        json_string(&mut out, &label);
        out.push_str(",\"a\":");
        json_string(&mut out, &graph.name(first));
        out.push_str(",\"z\":");
        json_string(&mut out, &graph.name(last));
        let mut text = match group.nodes.len() {
            1 => String::new(),
            n => format!(
                "{} to {}: {n} events, {} call(s)\n",
                graph.name(first),
                graph.name(last),
                group.calls
            ),
        };
        for n in group.nodes.clone().take(DETAIL_LINES) {
            text.push_str(texts.get(&n).map_or("", String::as_str));
            text.push('\n');
        }
        if group.nodes.len() > DETAIL_LINES {
            let _ = writeln!(
                text,
                "… and {} more (`replay dump` shows every one)",
                group.nodes.len() - DETAIL_LINES
            );
        }
        out.push_str(",\"d\":");
        json_string(&mut out, text.trim_end());
        out.push('}');
    }
    out.push_str("],\"arrows\":[");
    for (i, arrow) in layout.arrows.iter().enumerate() {
        let comma = if i > 0 { "," } else { "" };
        let (from, to) = (graph.name(arrow.from), graph.name(arrow.to));
        let _ = write!(
            out,
            "{comma}{{\"f\":{},\"t\":{},\"k\":\"{}\",\"a\":",
            layout.group_of[arrow.from],
            layout.group_of[arrow.to],
            arrow.via.name()
        );
        json_string(&mut out, &from);
        out.push_str(",\"b\":");
        json_string(&mut out, &to);
        let what = match arrow.via {
            graph::Via::Spawn => format!("{from} spawned the thread that starts at {to}"),
            graph::Via::Lock => format!("{to} opened the lock after {from} had opened it"),
            graph::Via::Message => format!("{to} received a message sent after {from}"),
        };
        out.push_str(",\"d\":");
        json_string(&mut out, &what);
        out.push('}');
    }
    out.push_str("]}");
    out
}

/// A box's kind (its CSS class) and label, from its first node.
fn describe(graph: &Graph, first: usize, calls: u64, events: usize) -> (&'static str, String) {
    let times = |n: u64| match n {
        0 | 1 => String::new(),
        n => format!(" ×{n}"),
    };
    let short = |function: &str| {
        let name = function.rsplit("::").next().unwrap_or(function);
        printable(name).into_owned()
    };
    match &graph.nodes[first].kind {
        Kind::Start => (
            "start",
            format!("thread {}", graph.lanes[graph.nodes[first].lane].thread),
        ),
        Kind::Call { function, panicked } => (
            if *panicked { "call panicked" } else { "call" },
            format!("{}{}", short(function), times(calls)),
        ),
        Kind::Callback { function } => (
            "callback",
            format!("↩ {}{}", short(function), times(events as u64)),
        ),
        Kind::Meeting(meeting) => {
            let kind = match meeting {
                Meeting::Select { .. } => "select",
                _ => "meeting",
            };
            (kind, format!("{}{}", label(meeting), times(events as u64)))
        }
    }
}

/// A meeting in a word or two.
fn label(meeting: &Meeting) -> String {
    let lock = |lock: &Option<u64>| lock.map_or_else(String::new, |l| format!(" {l}"));
    match meeting {
        Meeting::Spawn { thread } => format!("spawn {thread}"),
        Meeting::Lock { lock: l, .. } => format!("lock{}", lock(l)),
        Meeting::ReadLock { lock: l, .. } => format!("read lock{}", lock(l)),
        Meeting::TryLockFailed => "try_lock: taken".to_owned(),
        Meeting::Receive { sender, count, .. } => {
            let from = sender.map_or_else(|| "outside".to_owned(), |s| s.to_string());
            match count {
                1 => format!("recv from {from}"),
                n => format!("recv ×{n} from {from}"),
            }
        }
        Meeting::NoMessage { why } => format!("recv: {why}"),
        Meeting::Select { branch: Some(b) } => format!("select ★ {b}"),
        Meeting::Select { branch: None } => "select: closed".to_owned(),
        Meeting::TrySend { outcome } => match outcome {
            0 => "try_send".to_owned(),
            1 => "try_send: full".to_owned(),
            _ => "try_send: gone".to_owned(),
        },
        _ => meeting.to_string(),
    }
}
