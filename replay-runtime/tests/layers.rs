//! The runtime's modules form layers: no module imports, directly or
//! through others, one that imports it back. This test reads every file of
//! `src/`, follows its `crate::` and `super::` paths to the files they name,
//! and fails naming the files of any cycle. `lib.rs`, the table of contents
//! that declares and re-exports everything, is left out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`, by path relative to `src/`.
fn sources(src: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, String>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            sources(src, &path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).expect("a readable source file");
            let relative = path.strip_prefix(src).expect("under src").to_owned();
            out.insert(relative, text);
        }
    }
}

/// The module path of a file: `handles/slots.rs` is `["handles", "slots"]`.
fn module_of(file: &Path) -> Vec<String> {
    let mut parts: Vec<String> = file
        .with_extension("")
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

/// The file that defines the longest prefix of `path` that is a module.
fn resolve(files: &BTreeMap<Vec<String>, PathBuf>, path: &[String]) -> Option<PathBuf> {
    (1..=path.len())
        .rev()
        .find_map(|n| files.get(&path[..n]).cloned())
}

/// The module paths `text` names through `crate::` or `super::`,
/// `use` groups included, comments left out.
fn references(module: &[String], text: &str) -> Vec<Vec<String>> {
    let code: String = text
        .lines()
        .map(|line| line.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let mut found = Vec::new();
    for (start, prefix) in code
        .match_indices("crate::")
        .chain(code.match_indices("super::"))
    {
        let before = code[..start].chars().last();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        let mut base: Vec<String> = if prefix == "crate::" {
            Vec::new()
        } else {
            // A file's module is `handles::mapped` (or, for a `mod.rs`,
            // `handles`): its parent is `super`.
            module[..module.len().saturating_sub(1)].to_vec()
        };
        let rest = &code[start + prefix.len()..];
        let head: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
            .collect();
        base.extend(
            head.split("::")
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
        );
        // `use crate::a::{b, c::d}`: each member is a path of its own.
        let after = &rest[head.len()..];
        if head.ends_with("::") && after.starts_with('{') {
            let group: String = after[1..].chars().take_while(|&c| c != '}').collect();
            for member in group.split(',') {
                let mut path = base.clone();
                path.extend(
                    member
                        .split_whitespace()
                        .next()
                        .unwrap_or("")
                        .split("::")
                        .filter(|s| !s.is_empty() && *s != "self")
                        .map(str::to_owned),
                );
                found.push(path);
            }
        } else {
            found.push(base);
        }
    }
    found
}

#[test]
fn runtime_modules_import_each_other_without_cycles() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut texts = BTreeMap::new();
    sources(&src, &src, &mut texts);
    let files: BTreeMap<Vec<String>, PathBuf> = texts
        .keys()
        .map(|file| (module_of(file), file.clone()))
        .collect();
    let mut edges: BTreeMap<PathBuf, BTreeSet<PathBuf>> = BTreeMap::new();
    for (file, text) in &texts {
        if file == Path::new("lib.rs") {
            continue;
        }
        for path in references(&module_of(file), text) {
            if let Some(target) = resolve(&files, &path)
                && target != *file
                && target != Path::new("lib.rs")
            {
                edges.entry(file.clone()).or_default().insert(target);
            }
        }
    }
    assert!(
        edges.values().map(BTreeSet::len).sum::<usize>() > 20,
        "the import scan found almost nothing: {edges:?}"
    );
    if let Some(cycle) = find_cycle(&edges) {
        let shown: Vec<_> = cycle.iter().map(|f| f.display().to_string()).collect();
        panic!(
            "import cycle among the runtime's modules: {}\n\
             a lower layer must not import a higher one (see docs/design.md)",
            shown.join(" -> ")
        );
    }
}

/// A cycle in the graph, as the files along it, first repeated last.
fn find_cycle(edges: &BTreeMap<PathBuf, BTreeSet<PathBuf>>) -> Option<Vec<PathBuf>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit(
        node: &PathBuf,
        edges: &BTreeMap<PathBuf, BTreeSet<PathBuf>>,
        marks: &mut BTreeMap<PathBuf, Mark>,
        stack: &mut Vec<PathBuf>,
    ) -> Option<Vec<PathBuf>> {
        match marks.get(node) {
            Some(Mark::Done) => return None,
            Some(Mark::Open) => {
                let from = stack.iter().position(|n| n == node).unwrap_or(0);
                let mut cycle = stack[from..].to_vec();
                cycle.push(node.clone());
                return Some(cycle);
            }
            None => {}
        }
        marks.insert(node.clone(), Mark::Open);
        stack.push(node.clone());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, edges, marks, stack) {
                return Some(cycle);
            }
        }
        stack.pop();
        marks.insert(node.clone(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    edges
        .keys()
        .find_map(|node| visit(node, edges, &mut marks, &mut Vec::new()))
}

#[test]
fn a_cycle_is_found_when_there_is_one() {
    let a = PathBuf::from("a.rs");
    let b = PathBuf::from("b.rs");
    let mut edges = BTreeMap::new();
    edges.insert(a.clone(), BTreeSet::from([b.clone()]));
    edges.insert(b.clone(), BTreeSet::new());
    assert_eq!(find_cycle(&edges), None);
    edges.insert(b.clone(), BTreeSet::from([a.clone()]));
    assert_eq!(find_cycle(&edges), Some(vec![a.clone(), b, a]));
}

#[test]
fn paths_in_use_groups_and_super_resolve_to_their_files() {
    let module = vec!["handles".to_owned(), "mapped".to_owned()];
    let refs = references(
        &module,
        "use super::raw::RawHandle;\nuse crate::context::{self, Phase};\n// crate::session\n",
    );
    assert!(refs.contains(&vec![
        "handles".to_owned(),
        "raw".to_owned(),
        "RawHandle".to_owned()
    ]));
    assert!(refs.contains(&vec!["context".to_owned()]));
    assert!(refs.contains(&vec!["context".to_owned(), "Phase".to_owned()]));
    assert!(
        !refs
            .iter()
            .any(|r| r.first().is_some_and(|m| m == "session"))
    );
}
