//! What a file system learns of each request: who asks ([`Request`]) and
//! whether the caller gave up waiting ([`Interrupt`]).
//!
//! The kernel sends FUSE_INTERRUPT naming a request's unique when the
//! process that made it catches a signal. The request's [`Interrupt`] is
//! then marked, its waiters woken and its callbacks run; the handler should
//! finish soon, typically failing with `EINTR`. The protocol lets an
//! INTERRUPT arrive before the server has seen its request (another reader
//! thread may hold it, unregistered): such an interrupt is kept pending and
//! applied when the request registers; if none does within
//! [`PENDING_INTERRUPT_TIMEOUT`], the interrupt is answered `EAGAIN`, which
//! makes the kernel send it again if the request still exists.

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// How long an INTERRUPT whose request is unknown is kept before it is
/// answered `EAGAIN`.
pub const PENDING_INTERRUPT_TIMEOUT: Duration = Duration::from_millis(50);

type Callback = Box<dyn FnOnce() + Send>;

#[derive(Default)]
struct State {
    interrupted: bool,
    next: u64,
    callbacks: Vec<(u64, Callback)>,
}

/// Whether one request was interrupted, and a way to sleep until it is.
#[derive(Default)]
pub struct Interrupt {
    state: Mutex<State>,
    cv: Condvar,
}

fn lock<T: ?Sized>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Interrupt {
    /// Whether FUSE_INTERRUPT arrived for this request (or the session is
    /// shutting down).
    pub fn is_interrupted(&self) -> bool {
        lock(&self.state).interrupted
    }

    /// Marks the request interrupted: wakes [`Interrupt::wait_timeout`] and
    /// runs the registered callbacks (once, on this thread).
    pub fn interrupt(&self) {
        let callbacks = {
            let mut state = lock(&self.state);
            if state.interrupted {
                return;
            }
            state.interrupted = true;
            std::mem::take(&mut state.callbacks)
        };
        self.cv.notify_all();
        for (_, callback) in callbacks {
            callback();
        }
    }

    /// Sleeps until the request is interrupted or `timeout` passes; true if
    /// interrupted.
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut state = lock(&self.state);
        while !state.interrupted {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            state = self
                .cv
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        true
    }

    /// Runs `callback` when the request is interrupted (at once, here, if it
    /// already is). Dropping the returned registration cancels it. This is
    /// how a sleeping primitive of the file system (a wait queue) learns to
    /// wake.
    pub fn on_interrupt(
        self: &Arc<Self>,
        callback: impl FnOnce() + Send + 'static,
    ) -> Registration {
        let mut state = lock(&self.state);
        if state.interrupted {
            drop(state);
            callback();
            return Registration {
                interrupt: Arc::clone(self),
                id: None,
            };
        }
        let id = state.next;
        state.next += 1;
        state.callbacks.push((id, Box::new(callback)));
        Registration {
            interrupt: Arc::clone(self),
            id: Some(id),
        }
    }

    /// Waits on `cv` (with `guard`, a guard of `mutex`) until notified,
    /// `timeout` passes or the request is interrupted, whichever is first.
    /// No wake-up is lost: the interruption notifies `cv` holding `mutex`.
    /// Spurious wake-ups happen, as with [`Condvar::wait_timeout`]: callers
    /// loop on their condition.
    pub fn wait_timeout_or_interrupt<'a, T: Send + 'static>(
        self: &Arc<Self>,
        mutex: &'a Arc<Mutex<T>>,
        cv: &Arc<Condvar>,
        guard: MutexGuard<'a, T>,
        timeout: Duration,
    ) -> (MutexGuard<'a, T>, Wake) {
        if self.is_interrupted() {
            return (guard, Wake::Interrupted);
        }
        let (m, c) = (Arc::clone(mutex), Arc::clone(cv));
        let registration = self.on_interrupt(move || {
            drop(lock(&m));
            c.notify_all();
        });
        let (guard, result) = cv
            .wait_timeout(guard, timeout)
            .unwrap_or_else(PoisonError::into_inner);
        drop(registration);
        let wake = if self.is_interrupted() {
            Wake::Interrupted
        } else if result.timed_out() {
            Wake::TimedOut
        } else {
            Wake::Notified
        };
        (guard, wake)
    }
}

/// Why [`Interrupt::wait_timeout_or_interrupt`] returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wake {
    /// Notified (or spuriously woken).
    Notified,
    /// The timeout passed.
    TimedOut,
    /// The request was interrupted.
    Interrupted,
}

/// A callback registered by [`Interrupt::on_interrupt`]; dropping it
/// removes the callback if it has not run.
pub struct Registration {
    interrupt: Arc<Interrupt>,
    id: Option<u64>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        if let Some(id) = self.id {
            lock(&self.interrupt.state)
                .callbacks
                .retain(|(i, _)| *i != id);
        }
    }
}

/// One request as the file system sees it: the in-header's identity of the
/// caller and the request's interruption.
#[derive(Clone)]
pub struct Request {
    /// The request's unique id.
    pub unique: u64,
    /// The opcode.
    pub opcode: u32,
    /// The node the request is about.
    pub nodeid: u64,
    /// The calling process (as the mounting process's pid namespace sees it).
    pub pid: u32,
    /// The caller's file system uid.
    pub uid: u32,
    /// The caller's file system gid.
    pub gid: u32,
    interrupt: Arc<Interrupt>,
}

impl Request {
    /// A request not read from the kernel (for tests of file systems).
    pub fn new(unique: u64, opcode: u32, nodeid: u64, pid: u32, uid: u32, gid: u32) -> Request {
        Request {
            unique,
            opcode,
            nodeid,
            pid,
            uid,
            gid,
            interrupt: Arc::default(),
        }
    }

    /// Whether the caller interrupted this request.
    pub fn is_interrupted(&self) -> bool {
        self.interrupt.is_interrupted()
    }

    /// The request's interruption, to wait on or register callbacks with.
    pub fn interrupt(&self) -> &Arc<Interrupt> {
        &self.interrupt
    }
}

/// The requests in flight by unique, and the interrupts that arrived before
/// their request was registered.
#[derive(Default)]
pub(crate) struct InFlight {
    inner: Mutex<Table>,
}

#[derive(Default)]
struct Table {
    /// The session is ending: requests start interrupted.
    closing: bool,
    requests: HashMap<u64, Arc<Interrupt>>,
    /// Request unique -> (the INTERRUPT's own unique, when it came).
    early: HashMap<u64, (u64, Instant)>,
}

impl InFlight {
    /// Registers a request read from the kernel; it starts interrupted if
    /// its INTERRUPT came first.
    pub(crate) fn register(&self, unique: u64) -> Arc<Interrupt> {
        let interrupt = Arc::<Interrupt>::default();
        let mut table = lock(&self.inner);
        if table.early.remove(&unique).is_some() || table.closing {
            lock(&interrupt.state).interrupted = true;
        }
        table.requests.insert(unique, Arc::clone(&interrupt));
        interrupt
    }

    /// Forgets a request that was answered.
    pub(crate) fn finish(&self, unique: u64) {
        lock(&self.inner).requests.remove(&unique);
    }

    /// Applies an INTERRUPT (`own` is its own unique) to request `target`;
    /// false if the request is unknown (kept pending).
    pub(crate) fn interrupt(&self, target: u64, own: u64) -> bool {
        let found = {
            let mut table = lock(&self.inner);
            let found = table.requests.get(&target).cloned();
            if found.is_none() {
                table.early.insert(target, (own, Instant::now()));
            }
            found
        };
        match found {
            Some(interrupt) => {
                interrupt.interrupt();
                true
            }
            None => false,
        }
    }

    /// The uniques of pending INTERRUPTs older than the timeout (removed):
    /// they are to be answered `EAGAIN`.
    pub(crate) fn expired(&self) -> Vec<u64> {
        let mut table = lock(&self.inner);
        if table.early.is_empty() {
            return Vec::new();
        }
        let now = Instant::now();
        let mut out = Vec::new();
        table.early.retain(|_, (own, when)| {
            let keep = now.duration_since(*when) < PENDING_INTERRUPT_TIMEOUT;
            if !keep {
                out.push(*own);
            }
            keep
        });
        out
    }

    /// Whether some INTERRUPT waits for its request.
    pub(crate) fn has_early(&self) -> bool {
        !lock(&self.inner).early.is_empty()
    }

    /// Marks every request in flight interrupted (the session is ending).
    /// Requests registered later start interrupted.
    pub(crate) fn interrupt_all(&self) {
        let all: Vec<_> = {
            let mut table = lock(&self.inner);
            table.closing = true;
            table.requests.values().cloned().collect()
        };
        for interrupt in all {
            interrupt.interrupt();
        }
    }
}

impl Request {
    pub(crate) fn from_header(h: &crate::abi::InHeader, interrupt: Arc<Interrupt>) -> Request {
        Request {
            unique: h.unique,
            opcode: h.opcode,
            nodeid: h.nodeid,
            pid: h.pid,
            uid: h.uid,
            gid: h.gid,
            interrupt,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interrupt_before_its_request_applies_on_registration() {
        let table = InFlight::default();
        assert!(!table.interrupt(10, 11));
        assert!(table.register(10).is_interrupted());
        assert!(table.expired().is_empty());
        let other = table.register(12);
        assert!(!other.is_interrupted());
        assert!(table.interrupt(12, 13));
        assert!(other.is_interrupted());
    }

    #[test]
    fn an_unclaimed_interrupt_expires_to_be_answered() {
        let table = InFlight::default();
        assert!(!table.interrupt(20, 21));
        assert!(table.expired().is_empty());
        std::thread::sleep(PENDING_INTERRUPT_TIMEOUT + Duration::from_millis(10));
        assert_eq!(table.expired(), vec![21]);
        assert!(!table.register(20).is_interrupted());
    }

    #[test]
    fn waiters_wake_on_interrupt_and_callbacks_run_once() {
        let interrupt = Arc::<Interrupt>::default();
        let mutex = Arc::new(Mutex::new(0));
        let cv = Arc::new(Condvar::new());
        let ran = Arc::new(Mutex::new(0));
        let r = Arc::clone(&ran);
        let _keep = interrupt.on_interrupt(move || *lock(&r) += 1);
        let cancelled = interrupt.on_interrupt(|| panic!("cancelled callback ran"));
        drop(cancelled);
        let i2 = Arc::clone(&interrupt);
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            i2.interrupt();
            i2.interrupt();
        });
        let started = Instant::now();
        let guard = lock(&mutex);
        let (_guard, wake) =
            interrupt.wait_timeout_or_interrupt(&mutex, &cv, guard, Duration::from_secs(10));
        assert_eq!(wake, Wake::Interrupted);
        assert!(started.elapsed() < Duration::from_secs(5));
        t.join().unwrap();
        assert_eq!(*lock(&ran), 1);
        assert!(interrupt.wait_timeout(Duration::from_secs(10)));
    }
}
