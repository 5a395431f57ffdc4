//! The watchdog: stops calls into module code that run too long.
//!
//! Each call into module code registers here with its thread and a flag.
//! The host's clock thread checks the calls every tick; one that has run
//! for the host's limit gets its flag raised and its thread signalled with
//! the preemption signal, again every [`RESIGNAL`] until it returns: the
//! signal unwinds the call only where the thread is executing module code
//! (see `exec/guard.c`), so a thread caught inside a host service is simply
//! asked again. The call then fails as a fault does, and the caller
//! reports a soft lockup.

use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How often a call that has not stopped yet is signalled again.
pub const RESIGNAL: Duration = Duration::from_millis(10);

/// Calls into module code in progress.
#[derive(Debug, Default)]
pub(crate) struct Watchdog {
    calls: Mutex<Vec<RunningCall>>,
    next: AtomicU64,
}

#[derive(Debug)]
struct RunningCall {
    token: u64,
    module: Vec<u8>,
    what: &'static str,
    started: Instant,
    tid: libc::pid_t,
    preempt: Arc<AtomicI32>,
    signalled: Option<Instant>,
    /// Asleep in a 2.4 sleeping primitive: waiting, not spinning.
    asleep: bool,
}

/// A registered call; unregisters on drop.
pub(crate) struct CallGuard<'a> {
    watchdog: &'a Watchdog,
    token: u64,
    flag: Arc<AtomicI32>,
}

impl CallGuard<'_> {
    /// The flag the watchdog raises, as the guard reads it.
    pub fn flag(&self) -> *const i32 {
        self.flag.as_ptr().cast_const()
    }
}

impl Drop for CallGuard<'_> {
    fn drop(&mut self) {
        let mut calls = self.watchdog.lock();
        if let Some(i) = calls.iter().position(|c| c.token == self.token) {
            calls.swap_remove(i);
        }
    }
}

/// A call the watchdog stopped or is stopping, for tests and tools.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Overrun {
    /// The module.
    pub module: Vec<u8>,
    /// What ran (init, cleanup...).
    pub what: &'static str,
}

impl Watchdog {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<RunningCall>> {
        self.calls.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers a call into `module`'s code on this thread.
    pub fn started(&self, module: &[u8], what: &'static str) -> CallGuard<'_> {
        let token = self.next.fetch_add(1, Ordering::Relaxed);
        let flag = Arc::new(AtomicI32::new(0));
        self.lock().push(RunningCall {
            token,
            module: module.to_vec(),
            what,
            started: Instant::now(),
            // SAFETY: gettid has no preconditions.
            tid: unsafe { libc::gettid() },
            preempt: Arc::clone(&flag),
            signalled: None,
            asleep: false,
        });
        CallGuard {
            watchdog: self,
            token,
            flag,
        }
    }

    /// The innermost call on this thread went to sleep (on a wait queue,
    /// a semaphore, `schedule`): it is not running until it wakes.
    pub fn pause_this_thread(&self) {
        self.set_asleep(true);
    }

    /// The innermost call on this thread woke: its time starts again.
    pub fn resume_this_thread(&self) {
        self.set_asleep(false);
    }

    fn set_asleep(&self, asleep: bool) {
        // SAFETY: gettid has no preconditions.
        let tid = unsafe { libc::gettid() };
        let mut calls = self.lock();
        if let Some(c) = calls.iter_mut().rev().find(|c| c.tid == tid) {
            c.asleep = asleep;
            if !asleep {
                c.started = Instant::now();
            }
        }
    }

    /// Stops every call that has run for `limit` or longer; `first` hears
    /// of each before it is signalled for the first time (so what it logs
    /// comes before the report of the stopped call).
    pub fn check(
        &self,
        now: Instant,
        limit: Duration,
        signal: i32,
        mut first: impl FnMut(Overrun),
    ) {
        let calls = &mut *self.lock();
        for c in calls.iter_mut() {
            if c.asleep || now.saturating_duration_since(c.started) < limit {
                continue;
            }
            if c.signalled
                .is_some_and(|t| now.saturating_duration_since(t) < RESIGNAL)
            {
                continue;
            }
            if c.signalled.is_none() {
                first(Overrun {
                    module: c.module.clone(),
                    what: c.what,
                });
            }
            c.preempt.store(1, Ordering::SeqCst);
            c.signalled = Some(now);
            // The call is still registered, so its thread is still in it
            // (it unregisters under this lock before it moves on).
            // SAFETY: tgkill to a thread of this process.
            unsafe {
                libc::syscall(
                    libc::SYS_tgkill,
                    libc::getpid(),
                    c.tid,
                    signal as libc::c_long,
                );
            }
        }
    }
}
