//! What any one user may hold of the daemon: connections and memory.
//!
//! - **Connections.** Callers that were not root when they connected share
//!   a pool ([`Limits::unprivileged_connections`]), at most
//!   [`Limits::connections_per_user`] each; root's connections have a pool
//!   of their own ([`Limits::privileged_connections`]), so whatever other
//!   users hold, root is served.
//! - **Memory.** A request from a connection that cannot hold privilege is
//!   charged before anything is allocated for it: the bytes it announced,
//!   times what serving it may cost, against a budget for all such
//!   requests ([`Limits::unprivileged_memory`]) and a share per user
//!   ([`Limits::memory_per_user`]). A request that cannot be charged waits
//!   a little, then is refused as busy.
//! - **Time.** A connection idle for [`Limits::idle`] is closed; a request
//!   must arrive whole within [`Limits::request_time`] of its first byte.

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// The daemon's limits, each with its default and its `umod serve` flag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest request from a caller that was root at connect (an object
    /// or an image travels in one). `--max-request`, default 64 MiB.
    pub max_request: u32,
    /// Largest request from any other caller (they can only query).
    /// `--max-unprivileged-request`, default 1 MiB.
    pub max_unprivileged_request: u32,
    /// Connections open at once from callers that were not root at
    /// connect, all users together. `--max-clients`, default 128.
    pub unprivileged_connections: usize,
    /// Connections open at once from one such user.
    /// `--max-clients-per-user`, default 16.
    pub connections_per_user: usize,
    /// Connections open at once from callers that were root at connect,
    /// kept apart from the others. `--max-root-clients`, default 32.
    pub privileged_connections: usize,
    /// Memory the requests of callers without privilege may take at once,
    /// all users together. `--unprivileged-memory`, default 48 MiB.
    pub unprivileged_memory: u64,
    /// Memory one such user's requests may take at once.
    /// `--memory-per-user`, default 16 MiB.
    pub memory_per_user: u64,
    /// A connection that sends nothing for this long is closed.
    /// `--idle-timeout`, default 60 s.
    pub idle: Duration,
    /// A request must arrive whole within this time of its first byte.
    /// `--request-timeout`, default 10 s.
    pub request_time: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_request: 64 << 20,
            max_unprivileged_request: 1 << 20,
            unprivileged_connections: 128,
            connections_per_user: 16,
            privileged_connections: 32,
            unprivileged_memory: 48 << 20,
            memory_per_user: 16 << 20,
            idle: Duration::from_secs(60),
            request_time: Duration::from_secs(10),
        }
    }
}

impl Limits {
    /// What serving an unprivileged request of `len` bytes may take at
    /// most: the frame, its decoded copy, the caller's memory rebuilt in
    /// whole pages (at most [`umod_client::protocol::MAX_REGIONS`] regions, each
    /// padded by two pages), and an answer that echoes what it may write,
    /// plus room for a text answer.
    pub fn request_cost(len: u32) -> u64 {
        let regions_padding = umod_client::protocol::MAX_REGIONS as u64 * 2 * 4096;
        4 * u64::from(len) + regions_padding + ANSWER_ROOM
    }

    /// The most memory unprivileged callers can make the daemon hold at
    /// once, beyond what it holds idle: the memory budget (every request
    /// is charged before it is read) plus what each open connection holds
    /// between requests.
    pub fn unprivileged_memory_bound(&self) -> u64 {
        self.unprivileged_memory + self.unprivileged_connections as u64 * CONNECTION_COST
    }
}

/// Room charged for a request's answer beyond the bytes it echoes (a
/// /proc text, the log ring).
pub const ANSWER_ROOM: u64 = 256 << 10;

/// What an open connection costs between requests: its thread's stack as
/// touched, and its buffers (measured, with margin: see the security
/// tests).
pub const CONNECTION_COST: u64 = 96 << 10;

/// Why a connection was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// This user holds its share already.
    PerUser {
        /// The user.
        uid: u32,
        /// Its share.
        limit: usize,
    },
    /// Every connection of the pool is taken.
    Pool {
        /// Root's pool, or everyone else's.
        privileged: bool,
        /// The pool's size.
        limit: usize,
    },
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::PerUser { uid, limit } => write!(
                f,
                "connection refused: uid {uid} already has {limit} connections open (the limit per user)"
            ),
            Refusal::Pool {
                privileged: true,
                limit,
            } => write!(
                f,
                "connection refused: root already has {limit} connections open (the limit)"
            ),
            Refusal::Pool {
                privileged: false,
                limit,
            } => write!(
                f,
                "connection refused: {limit} connections of users without privilege are open (the limit)"
            ),
        }
    }
}

/// Open connections, by pool and by user.
#[derive(Debug, Default)]
pub struct Connections {
    open: Mutex<ConnCounts>,
}

#[derive(Debug, Default)]
struct ConnCounts {
    privileged: usize,
    unprivileged: usize,
    by_uid: HashMap<u32, usize>,
}

/// An admitted connection; gives its place back on drop.
#[derive(Debug)]
pub struct Admission {
    table: Arc<Connections>,
    uid: u32,
    privileged: bool,
}

impl Connections {
    /// Admits a connection from `uid` (root at connect: `privileged`), or
    /// says why not.
    pub fn admit(
        self: &Arc<Self>,
        limits: &Limits,
        uid: u32,
        privileged: bool,
    ) -> Result<Admission, Refusal> {
        let mut c = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if privileged {
            if c.privileged >= limits.privileged_connections {
                return Err(Refusal::Pool {
                    privileged: true,
                    limit: limits.privileged_connections,
                });
            }
            c.privileged += 1;
        } else {
            let mine = c.by_uid.get(&uid).copied().unwrap_or(0);
            if mine >= limits.connections_per_user {
                return Err(Refusal::PerUser {
                    uid,
                    limit: limits.connections_per_user,
                });
            }
            if c.unprivileged >= limits.unprivileged_connections {
                return Err(Refusal::Pool {
                    privileged: false,
                    limit: limits.unprivileged_connections,
                });
            }
            c.unprivileged += 1;
            *c.by_uid.entry(uid).or_default() += 1;
        }
        Ok(Admission {
            table: Arc::clone(self),
            uid,
            privileged,
        })
    }

    /// Connections open now: (root's, everyone else's).
    pub fn open(&self) -> (usize, usize) {
        let c = self.open.lock().unwrap_or_else(|e| e.into_inner());
        (c.privileged, c.unprivileged)
    }
}

impl Drop for Admission {
    fn drop(&mut self) {
        let mut c = self.table.open.lock().unwrap_or_else(|e| e.into_inner());
        if self.privileged {
            c.privileged -= 1;
        } else {
            c.unprivileged -= 1;
            if let Some(n) = c.by_uid.get_mut(&self.uid) {
                *n -= 1;
                if *n == 0 {
                    c.by_uid.remove(&self.uid);
                }
            }
        }
    }
}

/// Memory charged to requests in progress, in total and by user.
#[derive(Debug)]
pub struct Budget {
    total: u64,
    per_user: u64,
    used: Mutex<Used>,
    freed: Condvar,
}

#[derive(Debug, Default)]
struct Used {
    total: u64,
    by_uid: HashMap<u32, u64>,
}

/// Bytes charged to a request; given back on drop.
#[derive(Debug)]
pub struct Charge<'a> {
    budget: &'a Budget,
    uid: u32,
    bytes: u64,
}

/// Why a charge could not be made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Overdrawn {
    /// The user's share is taken by its other requests.
    User {
        /// The user.
        uid: u32,
        /// The share.
        limit: u64,
    },
    /// Everyone's budget is taken.
    Total {
        /// The budget.
        limit: u64,
    },
}

impl std::fmt::Display for Overdrawn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Overdrawn::User { uid, limit } => write!(
                f,
                "daemon busy: requests of uid {uid} already use its {} MiB",
                limit >> 20
            ),
            Overdrawn::Total { limit } => write!(
                f,
                "daemon busy: requests of users without privilege already use all {} MiB",
                limit >> 20
            ),
        }
    }
}

impl Budget {
    /// A budget of `total` bytes, at most `per_user` for any one user.
    pub fn new(total: u64, per_user: u64) -> Budget {
        Budget {
            total,
            per_user: per_user.min(total),
            used: Mutex::new(Used::default()),
            freed: Condvar::new(),
        }
    }

    /// Charges `bytes` to `uid`, waiting up to `wait` for other requests
    /// to give memory back.
    pub fn charge(&self, uid: u32, bytes: u64, wait: Duration) -> Result<Charge<'_>, Overdrawn> {
        if bytes > self.per_user {
            return Err(Overdrawn::User {
                uid,
                limit: self.per_user,
            });
        }
        let deadline = Instant::now() + wait;
        let mut used = self.used.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            let mine = used.by_uid.get(&uid).copied().unwrap_or(0);
            let why = if mine + bytes > self.per_user {
                Some(Overdrawn::User {
                    uid,
                    limit: self.per_user,
                })
            } else if used.total + bytes > self.total {
                Some(Overdrawn::Total { limit: self.total })
            } else {
                None
            };
            let Some(why) = why else {
                used.total += bytes;
                *used.by_uid.entry(uid).or_default() += bytes;
                return Ok(Charge {
                    budget: self,
                    uid,
                    bytes,
                });
            };
            let now = Instant::now();
            if now >= deadline {
                return Err(why);
            }
            used = self
                .freed
                .wait_timeout(used, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Bytes charged now.
    pub fn in_use(&self) -> u64 {
        self.used.lock().unwrap_or_else(|e| e.into_inner()).total
    }
}

impl Drop for Charge<'_> {
    fn drop(&mut self) {
        let mut used = self.budget.used.lock().unwrap_or_else(|e| e.into_inner());
        used.total -= self.bytes;
        if let Some(n) = used.by_uid.get_mut(&self.uid) {
            *n -= self.bytes;
            if *n == 0 {
                used.by_uid.remove(&self.uid);
            }
        }
        drop(used);
        self.budget.freed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_per_user_per_pool_and_roots_own_pool() {
        let limits = Limits {
            unprivileged_connections: 3,
            connections_per_user: 2,
            privileged_connections: 1,
            ..Limits::default()
        };
        let t = Arc::new(Connections::default());
        let a1 = t.admit(&limits, 1000, false).unwrap();
        let _a2 = t.admit(&limits, 1000, false).unwrap();
        assert_eq!(
            t.admit(&limits, 1000, false).unwrap_err(),
            Refusal::PerUser {
                uid: 1000,
                limit: 2
            }
        );
        let _b = t.admit(&limits, 1001, false).unwrap();
        assert_eq!(
            t.admit(&limits, 1002, false).unwrap_err(),
            Refusal::Pool {
                privileged: false,
                limit: 3
            }
        );
        // Root has its own pool, whatever the others hold.
        let r = t.admit(&limits, 0, true).unwrap();
        assert!(t.admit(&limits, 0, true).is_err());
        assert_eq!(t.open(), (1, 3));
        drop((a1, r));
        assert_eq!(t.open(), (0, 2));
        t.admit(&limits, 1000, false).unwrap();
    }

    #[test]
    fn charges_are_bounded_per_user_and_in_total() {
        let b = Budget::new(100, 60);
        let now = Duration::ZERO;
        let c1 = b.charge(1, 50, now).unwrap();
        assert_eq!(
            b.charge(1, 20, now).unwrap_err(),
            Overdrawn::User { uid: 1, limit: 60 }
        );
        let c2 = b.charge(2, 50, now).unwrap();
        assert_eq!(
            b.charge(3, 1, now).unwrap_err(),
            Overdrawn::Total { limit: 100 }
        );
        assert_eq!(
            b.charge(3, 61, now).unwrap_err(),
            Overdrawn::User { uid: 3, limit: 60 }
        );
        drop(c1);
        assert_eq!(b.in_use(), 50);
        // A waiting charge goes through when memory comes back.
        std::thread::scope(|s| {
            let waiter = s.spawn(|| b.charge(3, 60, Duration::from_secs(10)).map(|c| c.bytes));
            std::thread::sleep(Duration::from_millis(50));
            drop(c2);
            assert_eq!(waiter.join().unwrap(), Ok(60));
        });
        assert_eq!(b.in_use(), 0);
    }
}
