//! The runtime's modules form layers (docs/design.md): each file imports
//! only files of its own layer or of the layers below, and no file
//! imports, directly or through others, one that imports it back. This
//! test reads every file of `src/`, resolves each `use` (groups, `self`,
//! `super`, aliases of `crate`, re-exports by `lib.rs` and `mod.rs` files)
//! and each `crate::`/`super::` path in code to the file that defines the
//! item, and fails naming the offending files. What it cannot see: a
//! dependency with no path written, such as an `impl` block for a lower
//! layer's type written in a higher layer and called from below.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, bottom to top, as in docs/design.md: a file belongs to the
/// first entry that is its path or a folder above it.
const LAYERS: &[&[&str]] = &[
    &["error.rs", "policy.rs", "site.rs"],
    &["recording/"],
    &["divergence.rs"],
    &["cursor/"],
    &["handles/raw.rs", "handles/slots.rs"],
    &["breaks.rs", "shared.rs"],
    &["context/"],
    &["handles/", "identity.rs", "panic_hook.rs"],
    &["call/"],
    &["sync/"],
    &["thread.rs"],
    &["session.rs"],
    &["testing.rs", "inspect/"],
    &["lib.rs"],
];

fn layer_of(file: &str) -> usize {
    LAYERS
        .iter()
        .position(|layer| {
            layer
                .iter()
                .any(|entry| file == *entry || (entry.ends_with('/') && file.starts_with(entry)))
        })
        .unwrap_or_else(|| panic!("{file} is in no layer: add it to LAYERS and docs/design.md"))
}

/// Every `.rs` file under `dir`, by path relative to `src/`.
fn sources(src: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            sources(src, &path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).expect("a readable source file");
            let relative = path.strip_prefix(src).expect("under src");
            out.insert(relative.to_string_lossy().replace('\\', "/"), text);
        }
    }
}

/// The module path of a file: `handles/slots.rs` is `["handles", "slots"]`.
fn module_of(file: &str) -> Vec<String> {
    let mut parts: Vec<String> = file
        .trim_end_matches(".rs")
        .split('/')
        .map(str::to_owned)
        .collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

/// The code of a file with comments, string and character literals blanked
/// out (kept as spaces, so that positions stay) and every item under
/// `#[cfg(test)]` left out.
fn code_of(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out: Vec<char> = Vec::with_capacity(chars.len());
    let mut i = 0;
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    while i < chars.len() {
        let rest = &chars[i..];
        if rest.starts_with(&['/', '/']) {
            while i < chars.len() && chars[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if rest.starts_with(&['/', '*']) {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i..].starts_with(&['/', '*']) {
                    depth += 1;
                    out.extend([' ', ' ']);
                    i += 2;
                } else if chars[i..].starts_with(&['*', '/']) {
                    depth -= 1;
                    out.extend([' ', ' ']);
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
        } else if chars[i] == 'r'
            && (rest.get(1) == Some(&'"') || rest.get(1) == Some(&'#'))
            && !out.last().is_some_and(|c| c.is_alphanumeric() || *c == '_')
            && rest[1..].iter().find(|c| **c != '#') == Some(&'"')
        {
            // A raw string: r"..." or r#"..."#.
            let hashes = rest[1..].iter().take_while(|c| **c == '#').count();
            let close: Vec<char> = std::iter::once('"')
                .chain(std::iter::repeat_n('#', hashes))
                .collect();
            let start = i;
            i += 2 + hashes;
            while i < chars.len() && !chars[i..].starts_with(&close) {
                i += 1;
            }
            i = (i + close.len()).min(chars.len());
            out.extend(chars[start..i].iter().map(|c| blank(*c)));
        } else if chars[i] == '"' {
            out.push(' ');
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    out.push(' ');
                    i += 1;
                }
                if i < chars.len() {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
            out.push(' ');
            i += 1;
        } else if chars[i] == '\'' && (rest.get(2) == Some(&'\'') || rest.get(1) == Some(&'\\')) {
            // A character literal ('x', '\'', '\u{..}'), not a lifetime.
            let end = rest[1..]
                .iter()
                .skip(1)
                .position(|c| *c == '\'')
                .map_or(rest.len(), |p| p + 3);
            out.extend(std::iter::repeat_n(' ', end.min(rest.len())));
            i += end.min(rest.len());
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    let code: String = out.into_iter().collect();
    without_test_items(&code)
}

/// `code` with every item under `#[cfg(test)]` blanked out: up to its `;`,
/// or through its balanced `{ ... }`.
fn without_test_items(code: &str) -> String {
    let mut code: Vec<char> = code.chars().collect();
    let text: String = code.iter().collect();
    let marks: Vec<usize> = text.match_indices("#[cfg(test)]").map(|(i, _)| i).collect();
    for mark in marks {
        // Positions are byte offsets; the code is ASCII where it matters,
        // and blanked literals keep non-ASCII out of the way.
        let start = text[..mark].chars().count();
        let mut i = start;
        let mut depth = 0;
        while i < code.len() {
            match code[i] {
                ';' if depth == 0 => {
                    i += 1;
                    break;
                }
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        i += 1;
                        break;
                    }
                }
                _ => {}
            }
            i += 1;
        }
        let end = i.min(code.len());
        for c in &mut code[start..end] {
            if *c != '\n' {
                *c = ' ';
            }
        }
    }
    code.into_iter().collect()
}

/// The inline modules of `code` (`mod name { ... }`), as (start, end, name)
/// character ranges.
fn inline_modules(code: &str) -> Vec<(usize, usize, String)> {
    let chars: Vec<char> = code.chars().collect();
    let text: String = chars.iter().collect();
    let mut found = Vec::new();
    for (at, _) in text.match_indices("mod ") {
        if at > 0
            && chars
                .get(at - 1)
                .is_some_and(|c| c.is_alphanumeric() || *c == '_')
        {
            continue;
        }
        let rest = &text[at + 4..];
        let name: String = rest
            .trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let after = rest.trim_start()[name.len()..].trim_start();
        if name.is_empty() || !after.starts_with('{') {
            continue;
        }
        let open = at + 4 + (rest.len() - after.len());
        let mut depth = 0;
        let mut end = chars.len();
        for (i, c) in chars.iter().enumerate().skip(open) {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = i;
                        break;
                    }
                }
                _ => {}
            }
        }
        found.push((open, end, name));
    }
    found
}

/// The module that code at `at` is in: the file's, and inline ones.
fn module_at(file_module: &[String], inline: &[(usize, usize, String)], at: usize) -> Vec<String> {
    let mut module = file_module.to_vec();
    module.extend(
        inline
            .iter()
            .filter(|(start, end, _)| *start < at && at < *end)
            .map(|(_, _, name)| name.clone()),
    );
    module
}

/// One `use` tree expanded into its leaf paths (segments), with the name
/// each leaf is bound to.
fn expand(tree: &str, prefix: &[String], out: &mut Vec<(Vec<String>, String)>) {
    let tree = tree.trim();
    if let Some(open) = tree.find('{') {
        let head = tree[..open].trim().trim_end_matches("::");
        let mut base = prefix.to_vec();
        base.extend(split(head));
        let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
        let mut depth = 0;
        let mut start = 0;
        for (i, c) in inner.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    expand(&inner[start..i], &base, out);
                    start = i + 1;
                }
                _ => {}
            }
        }
        expand(&inner[start..], &base, out);
        return;
    }
    if tree.is_empty() {
        return;
    }
    let (path, alias) = match tree.split_once(" as ") {
        Some((path, alias)) => (path.trim(), Some(alias.trim())),
        None => (tree, None),
    };
    let mut full = prefix.to_vec();
    let segments = split(path);
    let last = segments.last().cloned().unwrap_or_default();
    full.extend(segments.into_iter().filter(|s| s != "self"));
    let name = alias.map(str::to_owned).unwrap_or(if last == "self" {
        full.last().cloned().unwrap_or_default()
    } else {
        last
    });
    out.push((full, name));
}

fn split(path: &str) -> Vec<String> {
    path.split("::")
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

/// The `use` items of `code`: (position, public?, leaf path, bound name).
fn uses(code: &str) -> Vec<(usize, bool, Vec<String>, String)> {
    let mut found = Vec::new();
    let bytes = code.as_bytes();
    let mut at = 0;
    while let Some(i) = code[at..].find("use ") {
        let start = at + i;
        at = start + 4;
        let boundary =
            start == 0 || !(bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_');
        if !boundary {
            continue;
        }
        let before = code[..start].trim_end();
        let public = before.ends_with("pub") || before.ends_with(')') && before.contains("pub(");
        let Some(end) = code[at..].find(';') else {
            break;
        };
        let tree: String = code[at..at + end]
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let mut leaves = Vec::new();
        expand(&tree, &[], &mut leaves);
        for (path, name) in leaves {
            found.push((start, public, path, name));
        }
        at += end;
    }
    found
}

/// `crate::a::b` and `super::c` paths written in code, with positions.
fn code_paths(code: &str) -> Vec<(usize, Vec<String>)> {
    let mut found = Vec::new();
    for start in code
        .match_indices("crate::")
        .chain(code.match_indices("super::"))
        .map(|(i, _)| i)
    {
        let before = code[..start].chars().last();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        let path: String = code[start..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
            .collect();
        found.push((start, split(&path)));
    }
    found
}

struct Crate {
    /// Module path to file.
    files: BTreeMap<Vec<String>, String>,
    /// Per file: the names it re-exports (`pub use`), to absolute paths.
    exports: BTreeMap<String, BTreeMap<String, Vec<String>>>,
    /// Per file: the child modules it declares.
    children: BTreeMap<String, BTreeSet<String>>,
}

impl Crate {
    /// `path` as written in `file`, made absolute (from the crate root).
    fn absolute(
        &self,
        file: &str,
        module: &[String],
        path: &[String],
        aliases: &BTreeSet<String>,
    ) -> Result<Option<Vec<String>>, String> {
        let module = module.to_vec();
        let Some(first) = path.first() else {
            return Ok(None);
        };
        let mut rest = path;
        let mut base = if first == "crate" || aliases.contains(first) {
            rest = &path[1..];
            Vec::new()
        } else if first == "super" || first == "self" {
            let mut base = module.clone();
            while let Some(segment) = rest.first() {
                match segment.as_str() {
                    "super" => {
                        if base.pop().is_none() {
                            return Err(format!(
                                "{file}: `{}` goes above the crate",
                                path.join("::")
                            ));
                        }
                    }
                    "self" => {}
                    _ => break,
                }
                rest = &rest[1..];
            }
            base
        } else if self.children.get(file).is_some_and(|c| c.contains(first)) {
            module.clone()
        } else {
            return Ok(None);
        };
        base.extend(rest.iter().cloned());
        Ok(Some(base))
    }

    /// The file that defines what `path` (absolute) names, following
    /// re-exports.
    fn resolve(&self, path: &[String], depth: usize) -> Option<String> {
        if depth > 16 {
            return None;
        }
        let n = (0..=path.len())
            .rev()
            .find(|&n| self.files.contains_key(&path[..n]))?;
        let file = self.files.get(&path[..n])?.clone();
        if let Some(name) = path.get(n)
            && let Some(target) = self.exports.get(&file).and_then(|e| e.get(name))
        {
            let mut target = target.clone();
            target.extend(path[n + 1..].iter().cloned());
            return self.resolve(&target, depth + 1).or(Some(file));
        }
        Some(file)
    }
}

/// The file-to-file imports of the crate under `src`.
fn imports(src: &Path) -> Result<BTreeMap<String, BTreeSet<String>>, String> {
    let mut texts = BTreeMap::new();
    sources(src, src, &mut texts);
    let codes: BTreeMap<String, String> = texts
        .iter()
        .map(|(file, text)| (file.clone(), code_of(text)))
        .collect();
    let mut krate = Crate {
        files: codes
            .keys()
            .map(|file| (module_of(file), file.clone()))
            .collect(),
        exports: BTreeMap::new(),
        children: BTreeMap::new(),
    };
    for (file, code) in &codes {
        let children = code
            .split(';')
            .filter_map(|item| {
                let item = item.split_whitespace().collect::<Vec<_>>();
                let at = item.iter().position(|w| *w == "mod")?;
                (at + 2 == item.len()).then(|| item[at + 1].to_owned())
            })
            .collect();
        krate.children.insert(file.clone(), children);
    }
    let aliases_of = |code: &str| -> BTreeSet<String> {
        uses(code)
            .into_iter()
            .filter(|(_, _, path, _)| path.len() == 1 && path[0] == "crate")
            .map(|(_, _, _, name)| name)
            .collect()
    };
    for (file, code) in &codes {
        let aliases = aliases_of(code);
        let inline = inline_modules(code);
        let mut exports = BTreeMap::new();
        for (at, public, path, name) in uses(code) {
            let module = module_at(&module_of(file), &inline, at);
            if public
                && inline
                    .iter()
                    .all(|(start, end, _)| !(*start < at && at < *end))
                && let Some(absolute) = krate.absolute(file, &module, &path, &aliases)?
            {
                exports.insert(name, absolute);
            }
        }
        krate.exports.insert(file.clone(), exports);
    }
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (file, code) in &codes {
        let aliases = aliases_of(code);
        let inline = inline_modules(code);
        let mut paths: Vec<(usize, Vec<String>)> = uses(code)
            .into_iter()
            .filter(|(_, public, _, _)| !public || file != "lib.rs")
            .map(|(at, _, path, _)| (at, path))
            .collect();
        paths.extend(code_paths(code));
        for (at, path) in paths {
            let module = module_at(&module_of(file), &inline, at);
            let Some(absolute) = krate.absolute(file, &module, &path, &aliases)? else {
                continue;
            };
            if let Some(target) = krate.resolve(&absolute, 0)
                && target != *file
            {
                edges.entry(file.clone()).or_default().insert(target);
            }
        }
    }
    Ok(edges)
}

/// A cycle in the graph, as the files along it, first repeated last.
fn find_cycle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        done: &mut BTreeSet<String>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        if let Some(from) = stack.iter().position(|n| n == node) {
            let mut cycle = stack[from..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        stack.push(node.to_owned());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, edges, done, stack) {
                return Some(cycle);
            }
        }
        stack.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    edges
        .keys()
        .find_map(|node| visit(node, edges, &mut done, &mut Vec::new()))
}

/// Imports from a lower layer to a higher one.
fn upward(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    edges
        .iter()
        .flat_map(|(from, to)| to.iter().map(move |to| (from, to)))
        .filter(|(from, to)| layer_of(from) < layer_of(to))
        .map(|(from, to)| format!("{from} -> {to}"))
        .collect()
}

fn check(src: &Path) -> Result<(), String> {
    let edges = imports(src)?;
    if edges.values().map(BTreeSet::len).sum::<usize>() < 20 {
        return Err(format!("the import scan found almost nothing: {edges:?}"));
    }
    let up = upward(&edges);
    if !up.is_empty() {
        return Err(format!(
            "a lower layer imports a higher one (see docs/design.md): {}",
            up.join(", ")
        ));
    }
    if let Some(cycle) = find_cycle(&edges) {
        return Err(format!("import cycle: {}", cycle.join(" -> ")));
    }
    Ok(())
}

#[test]
fn runtime_modules_import_only_their_layer_and_below_without_cycles() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    if let Err(why) = check(&src) {
        panic!("{why}");
    }
}

/// A copy of `src/` with `line` added at the top of `file`.
fn with_line(name: &str, file: &str, line: &str) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let copy = std::env::temp_dir().join(format!("replay-layers-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&copy);
    let mut texts = BTreeMap::new();
    sources(&src, &src, &mut texts);
    for (path, text) in texts {
        let target = copy.join(&path);
        std::fs::create_dir_all(target.parent().expect("a folder")).expect("create the copy");
        let text = if path == file {
            format!("{line}\n{text}")
        } else {
            text
        };
        std::fs::write(target, text).expect("write the copy");
    }
    copy
}

#[test]
fn an_upward_import_in_any_spelling_is_found() {
    let cases = [
        ("plain", "cursor/mod.rs", "use crate::session::Session;"),
        ("lib-reexport", "cursor/mod.rs", "use crate::Session;"),
        (
            "nested-group",
            "cursor/mod.rs",
            "use crate::{divergence::{self}, session::Session};",
        ),
        (
            "super-super",
            "recording/reader.rs",
            "use super::super::session::Session;",
        ),
        (
            "mod-reexport",
            "context/mod.rs",
            "use crate::handles::ContextPtr;",
        ),
        (
            "crate-alias",
            "cursor/mod.rs",
            "use crate as rt;\nuse rt::session::Session;",
        ),
        (
            "in-code",
            "site.rs",
            "fn f() { let _ = crate::session::current_mode(); }",
        ),
    ];
    for (name, file, line) in cases {
        let copy = with_line(name, file, line);
        let outcome = check(&copy);
        let _ = std::fs::remove_dir_all(&copy);
        assert!(outcome.is_err(), "{name}: `{line}` in {file} was not found");
    }
}

#[test]
fn a_cycle_within_a_layer_is_found() {
    let mut edges = BTreeMap::new();
    edges.insert("a.rs".to_owned(), BTreeSet::from(["b.rs".to_owned()]));
    edges.insert("b.rs".to_owned(), BTreeSet::new());
    assert_eq!(find_cycle(&edges), None);
    edges.insert("b.rs".to_owned(), BTreeSet::from(["a.rs".to_owned()]));
    assert_eq!(
        find_cycle(&edges),
        Some(vec![
            "a.rs".to_owned(),
            "b.rs".to_owned(),
            "a.rs".to_owned()
        ])
    );
}
