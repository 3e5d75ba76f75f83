//! `REPLAY_BREAK`'s stops on this thread: one comparison per call while
//! none is due (see `call::stop` for what a stop does).

use super::Cursor;

impl Cursor {
    /// Whether the program's next call is one to stop before: its number
    /// (from 1), once. One comparison when it is not.
    #[inline(always)]
    pub(crate) fn stops_here(&mut self) -> Option<u64> {
        if self.begun < self.stop_after {
            return None;
        }
        self.stop_due()
    }

    /// A stop is due, or was passed over: by calls made inside a call that
    /// ran for real (its callbacks ran for real too, their calls
    /// unreplayed), which are said to have been passed.
    #[cold]
    fn stop_due(&mut self) -> Option<u64> {
        while self.stop_after < self.begun {
            eprintln!(
                "replay: REPLAY_BREAK={}:{} was not stopped at: that call was made inside a \
                 call that ran for real in this replay",
                self.thread,
                self.stop_after + 1
            );
            self.next_stop();
        }
        (self.begun == self.stop_after).then(|| {
            self.next_stop();
            self.begun + 1
        })
    }

    /// Moves on to the next stop, if any is left.
    #[cold]
    pub(super) fn next_stop(&mut self) {
        self.stop_after = match self.stops.pop() {
            Some(call) => call.saturating_sub(1),
            None => u64::MAX,
        };
    }
}
