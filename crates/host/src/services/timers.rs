//! Kernel timers: `add_timer`/`del_timer`/`mod_timer` from module code,
//! fired by the host's clock thread (see `ticker.rs`).
//!
//! A `struct timer_list` lives in module memory; the queue keeps its
//! address and expiry while it is pending. The C wrappers in `services.c`
//! read and write the struct's fields; this side never dereferences a
//! module pointer.

use std::collections::BTreeMap;

/// Offset of `function` in `struct timer_list` (after the list head,
/// `expires` and `data`).
pub const TIMER_FUNCTION: u64 = 32;
/// Offset of `data`.
pub const TIMER_DATA: u64 = 24;
/// Size of `struct timer_list`.
pub const TIMER_SIZE: u64 = 40;

/// Pending timers by the address of their `timer_list`, and the one whose
/// function runs now (with the thread running it).
#[derive(Debug, Default)]
pub struct TimerQueue {
    pending: BTreeMap<u64, u64>,
    running: Option<(u64, std::thread::ThreadId)>,
}

impl TimerQueue {
    /// Queues (or re-queues) the timer at `addr` for `expires`.
    pub fn add(&mut self, addr: u64, expires: u64) {
        self.pending.insert(addr, expires);
    }

    /// Dequeues it; whether it was pending.
    pub fn del(&mut self, addr: u64) -> bool {
        self.pending.remove(&addr).is_some()
    }

    /// Whether any timer is due at `now`.
    pub fn any_due(&self, now: u64) -> bool {
        self.pending.values().any(|&e| e <= now)
    }

    /// The timers due at `now`, earliest first, left queued.
    pub fn due(&self, now: u64) -> Vec<u64> {
        let mut due: Vec<(u64, u64)> = self
            .pending
            .iter()
            .filter(|(_, &e)| e <= now)
            .map(|(&a, &e)| (e, a))
            .collect();
        due.sort_unstable();
        due.into_iter().map(|(_, a)| a).collect()
    }

    /// Dequeues the timer at `addr` if it is still due at `now`, and marks
    /// it running on this thread, in one step (so `del_timer_sync` either
    /// finds it pending or waits for its function).
    pub fn start_if_due(&mut self, addr: u64, now: u64) -> bool {
        if self.pending.get(&addr).is_none_or(|&e| e > now) {
            return false;
        }
        self.pending.remove(&addr);
        self.running = Some((addr, std::thread::current().id()));
        true
    }

    /// The running timer's function has returned.
    pub fn finish_running(&mut self) {
        self.running = None;
    }

    /// Whether the function of the timer at `addr` runs on another thread
    /// than this one (this one: it is deleting itself).
    pub fn running_elsewhere(&self, addr: u64) -> bool {
        self.running
            .is_some_and(|(a, t)| a == addr && t != std::thread::current().id())
    }

    /// Dequeues the timers due at `now`, earliest first.
    #[cfg(test)]
    pub fn take_due(&mut self, now: u64) -> Vec<u64> {
        let due = self.due(now);
        for a in &due {
            self.pending.remove(a);
        }
        due
    }

    /// Dequeues every timer whose struct lies in `[start, end)`; how many.
    pub fn remove_within(&mut self, start: u64, end: u64) -> usize {
        let inside: Vec<u64> = self.pending.range(start..end).map(|(&a, _)| a).collect();
        for a in &inside {
            self.pending.remove(a);
        }
        inside.len()
    }

    /// Number of pending timers.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// Whether no timer is pending.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }
}

/// `add_timer` from module code (through `services.c`).
#[no_mangle]
pub extern "C" fn umod_timer_add(timer: u64, expires: u64) {
    if let Some(frame) = super::context::current() {
        frame.kernel.timers().add(timer, expires);
    }
}

/// `del_timer` from module code; 1 if the timer was pending.
#[no_mangle]
pub extern "C" fn umod_timer_del(timer: u64) -> i32 {
    super::context::current().map_or(0, |frame| i32::from(frame.kernel.timers().del(timer)))
}

/// `del_timer_sync` from module code: `del_timer`, then waits until the
/// timer's function, if it runs on another thread, has returned, so the
/// module may free the struct (2.4's SMP variant). The watchdog bounds
/// the wait: a function that spins is stopped.
#[no_mangle]
pub extern "C" fn umod_timer_del_sync(timer: u64) -> i32 {
    let Some(frame) = super::context::current() else {
        return 0;
    };
    let was_pending = frame.kernel.timers().del(timer);
    while frame.kernel.timers().running_elsewhere(timer) {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    i32::from(was_pending)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_order_and_ranges() {
        let mut q = TimerQueue::default();
        q.add(0x1000, 50);
        q.add(0x2000, 10);
        q.add(0x3000, 99);
        assert!(q.any_due(10));
        assert_eq!(q.due(60), vec![0x2000, 0x1000]);
        assert!(q.start_if_due(0x2000, 60));
        assert!(!q.start_if_due(0x3000, 60), "not due yet");
        assert!(!q.running_elsewhere(0x2000), "this thread runs it");
        q.finish_running();
        assert_eq!(q.take_due(60), vec![0x1000]);
        assert!(!q.any_due(60));
        q.add(0x1000, 70);
        assert_eq!(q.remove_within(0x0, 0x2000), 1);
        assert!(q.del(0x3000));
        assert!(!q.del(0x3000));
        assert!(q.is_empty());
    }
}
