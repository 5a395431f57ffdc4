//! Notifications the server sends unasked: an out-header with unique 0 and
//! the notification code in its `error` field. Only FUSE_NOTIFY_POLL is
//! used: it wakes the `poll`/`select` callers waiting on a poll handle.

use std::sync::Arc;

use zerocopy::IntoBytes;

use crate::abi::{NotifyPollWakeupOut, NOTIFY_POLL};
use crate::reply::Channel;

/// The kernel's handle (`kh`) for the callers of POLL on one file that
/// wait for a change; cheap to clone and to keep in the file system.
#[derive(Clone)]
pub struct PollHandle {
    kh: u64,
    channel: Arc<Channel>,
}

impl PollHandle {
    pub(crate) fn new(kh: u64, channel: Arc<Channel>) -> PollHandle {
        PollHandle { kh, channel }
    }

    /// The kernel's handle.
    pub fn kh(&self) -> u64 {
        self.kh
    }

    /// Wakes the waiters: the kernel asks POLL again and passes the new
    /// events to them. Harmless when nobody waits any more.
    pub fn notify(&self) {
        let out = NotifyPollWakeupOut { kh: self.kh };
        self.channel.send(0, NOTIFY_POLL, &[out.as_bytes()]);
    }
}

impl std::fmt::Debug for PollHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PollHandle").field("kh", &self.kh).finish()
    }
}
