//! Which argument of a replayed call (or callback) differs from the
//! recording, for the divergence report.

use super::args::Args;
use crate::divergence::{self, ArgReport};
use crate::recording::format;

/// Finds which argument differs from the recorded blob.
#[cold]
pub(super) fn compare_args<A: Args>(args: &A, digested: bool, recorded: &[u8]) -> ArgReport {
    let mut one = Vec::new();
    let mut rest = recorded;
    for i in 0..A::COUNT {
        let arg = args.get(i);
        one.clear();
        if arg.encode(&mut one).is_err() {
            return ArgReport::Unknown;
        }
        if digested {
            let Some((theirs, tail)) = rest.split_first_chunk::<8>() else {
                return ArgReport::Count {
                    recorded: recorded.len() / 8,
                    actual: A::COUNT,
                };
            };
            rest = tail;
            if u64::from_le_bytes(*theirs) != format::digest(&one) {
                return ArgReport::Differs {
                    index: i,
                    recorded: None,
                    actual: arg.show_actual(),
                };
            }
        } else if rest.starts_with(&one) {
            rest = &rest[one.len()..];
        } else {
            return ArgReport::Differs {
                index: i,
                recorded: Some(
                    arg.show_recorded(rest)
                        .unwrap_or_else(|| divergence::hex(rest)),
                ),
                actual: Some(arg.show_actual().unwrap_or_else(|| divergence::hex(&one))),
            };
        }
    }
    if rest.is_empty() {
        ArgReport::Unknown
    } else {
        ArgReport::Extra
    }
}
