//! File-specific assume-deterministic: which files are the same at replay
//! time, so that calls on them run for real instead of from the recording.
//!
//! Patterns are globs over the path as the program passes it: `*` matches
//! within one path component, `**` across components, `?` one character.
//! They come from [`Session::with_live_files`](crate::Session::with_live_files)
//! and from the `REPLAY_LIVE_FILES` environment variable (a list separated
//! like `PATH`: `:` on Unix, `;` on Windows).

use std::path::Path;

/// The environment variable with live-file patterns.
pub(crate) const LIVE_FILES_VAR: &str = "REPLAY_LIVE_FILES";

/// Live-file patterns.
#[derive(Clone, Debug, Default)]
pub(crate) struct LiveFiles {
    patterns: Vec<String>,
}

impl LiveFiles {
    /// The patterns of `REPLAY_LIVE_FILES`.
    pub(crate) fn from_env() -> Self {
        let patterns = std::env::var_os(LIVE_FILES_VAR)
            .map(|list| {
                std::env::split_paths(&list)
                    .filter(|p| !p.as_os_str().is_empty())
                    .map(|p| p.to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        LiveFiles { patterns }
    }

    pub(crate) fn extend(&mut self, patterns: impl IntoIterator<Item = String>) {
        self.patterns.extend(patterns);
    }

    /// Whether `path` matches a pattern.
    pub(crate) fn matches(&self, path: &Path) -> bool {
        let path = path.to_string_lossy();
        self.patterns
            .iter()
            .any(|p| glob(p.as_bytes(), path.as_bytes()))
    }
}

/// The path of a `path = param` argument.
pub fn as_path<P: AsRef<Path> + ?Sized>(path: &P) -> &Path {
    path.as_ref()
}

/// Glob matching: `**` crosses `/`, `*` does not, `?` is one byte.
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    match pattern {
        [] => text.is_empty(),
        [b'*', b'*', rest @ ..] => {
            let rest = rest.strip_prefix(b"/").unwrap_or(rest);
            (0..=text.len()).any(|i| glob(rest, &text[i..]))
        }
        [b'*', rest @ ..] => {
            let segment = text.iter().position(|&b| b == b'/').unwrap_or(text.len());
            (0..=segment).any(|i| glob(rest, &text[i..]))
        }
        [b'?', rest @ ..] => !text.is_empty() && text[0] != b'/' && glob(rest, &text[1..]),
        [c, rest @ ..] => text.first() == Some(c) && glob(rest, &text[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn globs_match_as_documented() {
        let cases = [
            ("assets/*.png", "assets/logo.png", true),
            ("assets/*.png", "assets/icons/logo.png", false),
            ("assets/**/*.png", "assets/icons/logo.png", true),
            ("assets/**/*.png", "assets/logo.png", true),
            ("**/config.toml", "/etc/app/config.toml", true),
            ("data/file?.txt", "data/file1.txt", true),
            ("data/file?.txt", "data/file10.txt", false),
            ("/tmp/x", "/tmp/x", true),
            ("/tmp/x", "/tmp/xy", false),
        ];
        for (pattern, text, expected) in cases {
            assert_eq!(
                glob(pattern.as_bytes(), text.as_bytes()),
                expected,
                "{pattern} ~ {text}"
            );
        }
    }
}
