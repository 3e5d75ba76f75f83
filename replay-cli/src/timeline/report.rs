//! The event a saved divergence report names: its first line
//! `replay diverged at call #N on thread T`, or a line
//! `stop here: REPLAY_BREAK=T:N`.

/// The thread and call number a report names, if it names one.
pub fn named_event(report: &str) -> Option<(u32, u64)> {
    let diverged = report.find("replay diverged at call #").and_then(|at| {
        let rest = &report[at + "replay diverged at call #".len()..];
        let (call, rest) = number(rest)?;
        let (thread, _) = number(rest.strip_prefix(" on thread ")?)?;
        Some((u32::try_from(thread).ok()?, call))
    });
    diverged.or_else(|| {
        let at = report.find("REPLAY_BREAK=")?;
        let rest = &report[at + "REPLAY_BREAK=".len()..];
        let (thread, rest) = number(rest)?;
        let (call, _) = number(rest.strip_prefix(':')?)?;
        Some((u32::try_from(thread).ok()?, call))
    })
}

/// The decimal number `text` starts with, and what follows it.
fn number(text: &str) -> Option<(u64, &str)> {
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    Some((text[..digits].parse().ok()?, &text[digits..]))
}

#[cfg(test)]
mod tests {
    use super::named_event;

    #[test]
    fn reads_either_way_a_report_names_its_event() {
        let report = "thread 'main' panicked at src/main.rs:3:5:\nreplay diverged at call #1418 \
                      on thread 2: argument 1 differs\n  stop here: REPLAY_BREAK=2:1418\n";
        assert_eq!(named_event(report), Some((2, 1418)));
        assert_eq!(
            named_event("stop here: REPLAY_BREAK=0:7"),
            Some((0, 7)),
            "the break line alone"
        );
        assert_eq!(named_event("replay diverged at call # on thread 2"), None);
        assert_eq!(
            named_event("replay diverged at call #99999999999999999999 on thread 2"),
            None
        );
        assert_eq!(
            named_event("replay diverged at call #3 on thread 99999999999"),
            None
        );
        assert_eq!(named_event("nothing here"), None);
    }
}
