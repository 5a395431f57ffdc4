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

/// Pending timers by the address of their `timer_list`.
#[derive(Debug, Default)]
pub struct TimerQueue {
    pending: BTreeMap<u64, u64>,
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

    /// Dequeues the timers due at `now`, earliest first.
    pub fn take_due(&mut self, now: u64) -> Vec<u64> {
        let mut due: Vec<(u64, u64)> = self
            .pending
            .iter()
            .filter(|(_, &e)| e <= now)
            .map(|(&a, &e)| (e, a))
            .collect();
        due.sort_unstable();
        for (_, a) in &due {
            self.pending.remove(a);
        }
        due.into_iter().map(|(_, a)| a).collect()
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
        assert_eq!(q.take_due(60), vec![0x2000, 0x1000]);
        assert!(!q.any_due(60));
        q.add(0x1000, 70);
        assert_eq!(q.remove_within(0x0, 0x2000), 1);
        assert!(q.del(0x3000));
        assert!(!q.del(0x3000));
        assert!(q.is_empty());
    }
}
