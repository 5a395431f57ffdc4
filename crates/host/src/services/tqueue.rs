//! Task queues and keventd (2.4's kernel/timer.c task queues,
//! kernel/context.c).
//!
//! `queue_task` and `run_task_queue` work on real lists in module or
//! kernel memory (C, `deferred.c`, under one `tqueue_lock`). The kernel's
//! queues are list heads in the window, exported as data: `tq_timer`,
//! run by TQUEUE_BH at the next tick; `tq_immediate`, run by IMMEDIATE_BH
//! when a module marks it; `tq_disk`, run by whoever calls
//! `run_task_queue(&tq_disk)`. `schedule_task` queues for keventd, one
//! host thread running the queued routines in process context.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, Weak};
use std::thread::JoinHandle;
use std::time::Duration;

use super::softirq::{self, call_deferred};
use super::Kernel;
use crate::state::Shared;

/// The kernel's queues.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Queue {
    /// `tq_timer`.
    Timer = 0,
    /// `tq_immediate` (`tq_disk`, 2, runs only when module code asks).
    Immediate = 1,
}

/// Names of the exported queue heads, in [`Queue`] order.
pub const QUEUE_NAMES: [&str; 3] = ["tq_timer", "tq_immediate", "tq_disk"];

#[derive(Debug, Default)]
struct Keventd {
    /// Queued tasks (sequence number, address), oldest first.
    queue: VecDeque<(u64, u64)>,
    /// The sequence number of the next task queued.
    next_seq: u64,
    /// The sequence number of the task whose routine runs now.
    running: Option<u64>,
}

/// A host's task-queue state.
#[derive(Debug, Default)]
pub(crate) struct TaskQueues {
    /// Addresses of the kernel's queue heads, in [`Queue`] order.
    heads: OnceLock<[u64; 3]>,
    /// Entries detached from a kernel queue that a bottom half is running.
    inflight: Mutex<VecDeque<u64>>,
    keventd: Mutex<Keventd>,
    keventd_changed: Condvar,
}

extern "C" {
    fn umod_tq_detach(queue: u64, out: *mut u64, cap: usize) -> usize;
    fn umod_tq_fetch(addr: u64, routine: *mut u64, data: *mut u64);
    fn umod_tq_remove_within(queue: u64, start: u64, end: u64) -> usize;
}

impl TaskQueues {
    fn keventd(&self) -> MutexGuard<'_, Keventd> {
        self.keventd.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records where the kernel's queue heads are (once, at start).
    pub fn set_heads(&self, heads: [u64; 3]) {
        let _ = self.heads.set(heads);
    }

    /// The address of queue `q`'s head.
    pub fn head(&self, q: Queue) -> Option<u64> {
        self.heads.get().map(|h| h[q as usize])
    }

    pub(crate) fn wake_keventd(&self) {
        self.keventd_changed.notify_all();
    }

    /// Drops the queued entries whose struct lies in `[start, end)`; how
    /// many.
    pub fn forget_within(&self, start: u64, end: u64) -> usize {
        let inside = |a: u64| a >= start && a < end;
        let mut n = 0;
        for &head in self.heads.get().into_iter().flatten() {
            // SAFETY: `head` is a list head in the window; the C side walks
            // the list under tqueue_lock, entries being live tq_structs.
            n += unsafe { umod_tq_remove_within(head, start, end) };
        }
        let mut inflight = self.inflight.lock().unwrap_or_else(|e| e.into_inner());
        let before = inflight.len();
        inflight.retain(|&a| !inside(a));
        n += before - inflight.len();
        drop(inflight);
        let mut k = self.keventd();
        let before = k.queue.len();
        k.queue.retain(|&(_, a)| !inside(a));
        n += before - k.queue.len();
        drop(k);
        self.keventd_changed.notify_all();
        n
    }
}

/// Whether `tq_timer` has entries (TQUEUE_BH should run at this tick).
pub(crate) fn tq_timer_active(sh: &Shared) -> bool {
    let Some(head) = sh.kernel.deferred().tq.head(Queue::Timer) else {
        return false;
    };
    sh.window
        .mapping()
        .atomic_u64(head)
        .load(std::sync::atomic::Ordering::SeqCst)
        != head
}

/// Runs a kernel queue from its bottom half: detaches every entry, then
/// calls each routine in order, its sync bit cleared first.
pub(crate) fn run_host_queue(sh: &Shared, q: Queue) {
    let tq = &sh.kernel.deferred().tq;
    let Some(head) = tq.head(q) else {
        return;
    };
    {
        let mut inflight = tq.inflight.lock().unwrap_or_else(|e| e.into_inner());
        let mut buf = [0u64; 64];
        loop {
            // SAFETY: `head` is this host's list head in the window and
            // `buf` has room for the 64 addresses asked for.
            let n = unsafe { umod_tq_detach(head, buf.as_mut_ptr(), buf.len()) };
            inflight.extend(&buf[..n]);
            if n < buf.len() {
                break;
            }
        }
    }
    loop {
        let Ok(mut st) = sh.lock() else {
            return;
        };
        // Under the big lock: a module leaving drops its entries first.
        let Some(entry) = tq
            .inflight
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop_front()
        else {
            return;
        };
        let (routine, data) = fetch(entry);
        if routine != 0 {
            call_deferred(sh, &mut st, "a task queue routine", routine, [data, 0, 0]);
        }
    }
}

/// A tq_struct's routine and data; clears its sync bit.
fn fetch(entry: u64) -> (u64, u64) {
    let (mut routine, mut data) = (0u64, 0u64);
    // SAFETY: `entry` is a tq_struct module code queued; a module's own
    // entries are dropped from every host list before it goes.
    unsafe { umod_tq_fetch(entry, &mut routine, &mut data) };
    (routine, data)
}

/// Starts a host's keventd thread.
pub(crate) fn start_keventd(shared: Weak<Shared>, kernel: Arc<Kernel>) -> JoinHandle<()> {
    std::thread::Builder::new()
        .name("keventd".into())
        .spawn(move || {
            softirq::become_runner(false, false);
            let d = kernel.deferred();
            loop {
                {
                    let k = d.tq.keventd();
                    let _ =
                        d.tq.keventd_changed
                            .wait_timeout_while(k, Duration::from_millis(50), |k| {
                                k.queue.is_empty() && !d.stopping()
                            })
                            .unwrap_or_else(|e| e.into_inner());
                }
                if d.stopping() {
                    return;
                }
                let Some(sh) = shared.upgrade() else {
                    return;
                };
                run_keventd(&sh);
            }
        })
        .expect("spawn keventd")
}

fn run_keventd(sh: &Shared) {
    let tq = &sh.kernel.deferred().tq;
    loop {
        let Ok(mut st) = sh.lock() else {
            return;
        };
        let Some((seq, entry)) = ({
            let mut k = tq.keventd();
            let e = k.queue.pop_front();
            k.running = e.map(|(s, _)| s);
            e
        }) else {
            return;
        };
        let _ = seq;
        let (routine, data) = fetch(entry);
        if routine != 0 {
            call_deferred(sh, &mut st, "a scheduled task", routine, [data, 0, 0]);
        }
        tq.keventd().running = None;
        tq.keventd_changed.notify_all();
    }
}

fn kernel() -> Option<Arc<Kernel>> {
    super::context::current().map(|f| f.kernel)
}

/// `schedule_task` found the sync bit clear: queues `tq` for keventd.
#[no_mangle]
pub extern "C" fn umod_keventd_queue(tq: u64) {
    if let Some(k) = kernel() {
        let t = &k.deferred().tq;
        let mut kd = t.keventd();
        let seq = kd.next_seq;
        kd.next_seq += 1;
        kd.queue.push_back((seq, tq));
        drop(kd);
        t.keventd_changed.notify_all();
    }
}

/// The sequence number the next task queued will get: a flush waits for
/// every task below it.
#[no_mangle]
pub extern "C" fn umod_keventd_seq() -> u64 {
    kernel().map_or(0, |k| k.deferred().tq.keventd().next_seq)
}

/// Waits up to `wait_ms` until keventd has run every task queued before
/// sequence number `seq`; 1 when it has. On keventd itself: 1.
#[no_mangle]
pub extern "C" fn umod_keventd_flushed(seq: u64, wait_ms: u32) -> i32 {
    let Some(k) = kernel() else {
        return 1;
    };
    if softirq::on_runner_thread() {
        return 1;
    }
    let t = &k.deferred().tq;
    let done = |kd: &Keventd| {
        kd.queue.front().is_none_or(|&(s, _)| s >= seq) && kd.running.is_none_or(|r| r >= seq)
    };
    let kd = t.keventd();
    let (kd, _) = t
        .keventd_changed
        .wait_timeout_while(kd, Duration::from_millis(u64::from(wait_ms)), |kd| {
            !done(kd)
        })
        .unwrap_or_else(|e| e.into_inner());
    i32::from(done(&kd))
}

/// The C entry points of task queues and keventd, by exported name.
pub fn functions() -> Vec<(&'static str, usize)> {
    extern "C" {
        fn umod_queue_task();
        fn umod_run_task_queue();
        fn umod___run_task_queue();
        fn umod_schedule_task();
        fn umod_flush_scheduled_tasks();
    }
    vec![
        ("queue_task", umod_queue_task as *const () as usize),
        ("run_task_queue", umod_run_task_queue as *const () as usize),
        (
            "__run_task_queue",
            umod___run_task_queue as *const () as usize,
        ),
        ("schedule_task", umod_schedule_task as *const () as usize),
        (
            "flush_scheduled_tasks",
            umod_flush_scheduled_tasks as *const () as usize,
        ),
    ]
}
