//! Channels whose receives are recorded by sender: drop-in counterparts of
//! `std::sync::mpsc`, and [`select()`] over several receivers.
//!
//! Every message carries a hidden id: the thread that sent it (its
//! deterministic id) and, implicitly, its place in that thread's sends,
//! since one thread's messages arrive in the order it sent them. So a
//! receive records only *which thread's* message it got, and receives of
//! one sender's messages in a row are recorded as one event with a count:
//! a burst from one sender costs constant space. Sends are not recorded.
//!
//! Replay hands the receiver exactly the recorded sender's next message,
//! holding back messages of other senders that arrive first, so the
//! receiver observes the recorded order however the threads are scheduled.
//!
//! What this tolerates: a sending thread may send more or fewer messages
//! than when recording (in code edits, say) as long as the receiving side
//! receives the same sequence of senders; messages it never receives are
//! never looked at. What it does not: a receiver that gets a message from
//! another sender than recorded diverges, and a recorded sender that never
//! sends stalls the receiver until the stall report.

mod channel;
mod iter;
mod select;

pub use channel::{
    Receiver, RecvError, RecvTimeoutError, SendError, Sender, SyncSender, TryRecvError,
    TrySendError, channel, sync_channel,
};
pub use iter::{IntoIter, Iter, TryIter};
pub use select::select;
