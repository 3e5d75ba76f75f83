//! The page: one HTML file with its style and script inline, and the
//! picture's data as JSON that the script draws. Every text from the
//! recording (function names, decoded values, the file's name) is escaped
//! here: for HTML where it is written into the page, for JSON (with `<`,
//! `>` and `&` as `\u` escapes, so `</script>` cannot end the data) where
//! it is data; the script only ever sets it as text (`textContent`,
//! attributes), never as markup.

use std::fmt::Write as _;

/// The page's style and script.
const STYLE: &str = include_str!("page.css");
const SCRIPT: &str = include_str!("page.js");

/// What the page says above the picture.
pub struct Header<'a> {
    pub title: &'a str,
    /// Lines about the recording (program, version, counts).
    pub facts: &'a [String],
    /// What the picture leaves out, and why.
    pub notes: &'a [String],
}

/// The whole page, with `data` (a JSON object) for its script.
pub fn page(header: &Header<'_>, data: &str) -> String {
    let mut out = String::with_capacity(data.len() + STYLE.len() + SCRIPT.len() + 4096);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    // Nothing may be fetched: no network, no other file.
    out.push_str(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n",
    );
    let _ = writeln!(
        out,
        "<title>replay timeline: {}</title>",
        escape_html(header.title)
    );
    let _ = writeln!(out, "<style>\n{STYLE}</style>\n</head>\n<body>");
    let _ = writeln!(
        out,
        "<header>\n<h1>replay timeline: <code>{}</code></h1>",
        escape_html(header.title)
    );
    for fact in header.facts {
        let _ = writeln!(out, "<p class=\"fact\">{}</p>", escape_html(fact));
    }
    out.push_str("<ul id=\"notes\">\n");
    for note in header.notes {
        let _ = writeln!(out, "<li class=\"note\">{}</li>", escape_html(note));
    }
    out.push_str(
        "</ul>\n<div id=\"controls\"><button id=\"zoom-out\" title=\"zoom out (ctrl+wheel)\">−</button>\
         <button id=\"zoom-in\" title=\"zoom in (ctrl+wheel)\">+</button>\
         <button id=\"zoom-fit\">fit</button>\
         <span class=\"legend\"><span class=\"key call\"></span>call \
         <span class=\"key callback\"></span>callback \
         <span class=\"key meeting\"></span>thread event \
         <span class=\"key select\"></span>select (winner) \
         <span class=\"key diverged\"></span>divergence \
         <span class=\"key arrow-spawn\"></span>spawn \
         <span class=\"key arrow-lock\"></span>lock hand-over \
         <span class=\"key arrow-message\"></span>message</span></div>\n</header>\n",
    );
    out.push_str(
        "<div id=\"view\"><svg id=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\"></svg></div>\n\
         <section id=\"details\"><pre id=\"detail-text\">Hover over a box or an arrow to see \
         what it is; click to keep it here.</pre></section>\n\
         <p id=\"status\">The picture is drawn by the page's script: enable JavaScript.</p>\n",
    );
    let _ = writeln!(
        out,
        "<script type=\"application/json\" id=\"data\">{data}</script>\n<script>\n{SCRIPT}</script>\n</body>\n</html>"
    );
    out
}

/// `text`, safe anywhere in HTML text or a quoted attribute.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Appends `text` as a JSON string, safe inside a `<script>` element.
pub fn json_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if c < ' ' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_text_stays_text() {
        let hostile = "</script><script>alert(1)</script>\u{2028}\"'&";
        let mut json = String::new();
        json_string(&mut json, hostile);
        assert!(!json.contains('<') && !json.contains('>') && !json.contains('\u{2028}'));
        assert_eq!(
            json,
            "\"\\u003c/script\\u003e\\u003cscript\\u003ealert(1)\\u003c/script\\u003e\\u2028\\\"'\\u0026\""
        );
        let html = escape_html(hostile);
        assert!(!html.contains('<') && !html.contains('"') && !html.contains('\''));
        let page = page(
            &Header {
                title: hostile,
                facts: &[hostile.to_owned()],
                notes: &[hostile.to_owned()],
            },
            &json,
        );
        assert_eq!(
            page.matches("<script").count(),
            2,
            "only the page's own scripts"
        );
    }
}
