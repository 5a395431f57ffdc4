//! Interrupt masking (2.4's `cli`/`sti`/`save_flags`/`restore_flags` on
//! SMP, arch/x86_64/kernel/irq.c): the global interrupt lock.
//!
//! While a thread holds it, irq handlers do not start and old-style bottom
//! halves (timers, `tq_timer`, `tq_immediate`, `mark_bh` BHs) do not run;
//! taking it waits for the running ones. Tasklets and keventd are not
//! excluded. As in 2.4 it is not counted: `cli` by its holder does nothing
//! and one `sti` releases it. In interrupt context (`in_irq`) `cli` only
//! masks this thread's interrupts. `local_irq_*` is a per-thread flag
//! (see `softirq.rs`), excluding nothing.

use std::sync::{Condvar, Mutex, MutexGuard};
use std::thread::ThreadId;
use std::time::Duration;

use super::softirq;

/// The global interrupt lock of one host, and what it excludes.
#[derive(Debug, Default)]
pub(crate) struct GlobalIrq {
    inner: Mutex<Inner>,
    changed: Condvar,
}

#[derive(Debug, Default)]
struct Inner {
    /// The thread holding the lock (`global_irq_holder`).
    holder: Option<ThreadId>,
    /// A bottom half runs (`global_bh_lock`).
    bh_running: bool,
    /// Irq handlers running (`irqs_running()`).
    irqs_running: u32,
}

impl GlobalIrq {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes the lock for this thread, waiting up to `wait` for the holder,
    /// the running bottom half and the running handlers; whether it is
    /// held now. A bottom half (or tasklet) taking it does not wait for
    /// itself, as 2.4's `wait_on_irq` skips the BH lock when
    /// `local_bh_count` is set.
    pub fn take(&self, wait: Duration) -> bool {
        let me = std::thread::current().id();
        let in_bh = softirq::in_softirq();
        let free = |i: &Inner| {
            i.holder.is_none_or(|h| h == me) && (in_bh || !i.bh_running) && i.irqs_running == 0
        };
        let guard = self.lock();
        let (mut guard, _) = self
            .changed
            .wait_timeout_while(guard, wait, |i| !free(i))
            .unwrap_or_else(|e| e.into_inner());
        if !free(&guard) {
            return false;
        }
        guard.holder = Some(me);
        true
    }

    /// Releases the lock if this thread holds it; whether it did.
    pub fn release(&self) -> bool {
        let me = std::thread::current().id();
        let mut g = self.lock();
        if g.holder != Some(me) {
            return false;
        }
        g.holder = None;
        drop(g);
        self.changed.notify_all();
        true
    }

    /// Whether this thread holds the lock.
    pub fn held_here(&self) -> bool {
        self.lock().holder == Some(std::thread::current().id())
    }

    /// Starts a bottom half if no one holds the lock and none runs (2.4's
    /// `bh_action` tries, and retries later).
    pub fn bh_try_enter(&self) -> bool {
        let mut g = self.lock();
        if g.holder.is_some() || g.bh_running {
            return false;
        }
        g.bh_running = true;
        true
    }

    /// The bottom half has returned.
    pub fn bh_exit(&self) {
        self.lock().bh_running = false;
        self.changed.notify_all();
    }

    /// Starts an irq handler once no one holds the lock (waiting up to
    /// `wait`); whether it may run.
    pub fn irq_enter(&self, wait: Duration) -> bool {
        let guard = self.lock();
        let (mut guard, _) = self
            .changed
            .wait_timeout_while(guard, wait, |i| i.holder.is_some())
            .unwrap_or_else(|e| e.into_inner());
        if guard.holder.is_some() {
            return false;
        }
        guard.irqs_running += 1;
        true
    }

    /// The irq handlers have returned.
    pub fn irq_exit(&self) {
        let mut g = self.lock();
        g.irqs_running = g.irqs_running.saturating_sub(1);
        drop(g);
        self.changed.notify_all();
    }
}

/// `cli()` from module code: 1 once the lock is held (or, in an irq
/// handler, once this thread's interrupts are masked), 0 if `wait_ms`
/// passed first (the C side asks again after a preemption point).
#[no_mangle]
pub extern "C" fn umod_cli_take(wait_ms: u32) -> i32 {
    softirq::set_local_irqs_off(true);
    if softirq::in_irq() {
        return 1;
    }
    let Some(frame) = super::context::current() else {
        return 1;
    };
    i32::from(
        frame
            .kernel
            .deferred()
            .cli
            .take(Duration::from_millis(u64::from(wait_ms))),
    )
}

/// `sti()`: releases the lock this thread holds, unmasks its interrupts.
#[no_mangle]
pub extern "C" fn umod_cli_release() {
    if !softirq::in_irq() {
        if let Some(frame) = super::context::current() {
            frame.kernel.deferred().cli.release();
        }
    }
    softirq::set_local_irqs_off(false);
}

/// `save_flags()`: 0 when this thread holds the lock, 1 when interrupts
/// are enabled, else 2 (+1 if this thread's interrupts are on) as 2.4's
/// `__global_save_flags` encodes them.
#[no_mangle]
pub extern "C" fn umod_cli_save_flags() -> u64 {
    let local_enabled = u64::from(!softirq::local_irqs_off());
    if softirq::in_irq() {
        return 2 + local_enabled;
    }
    let held = super::context::current().is_some_and(|f| f.kernel.deferred().cli.held_here());
    match (held, local_enabled) {
        (true, _) => 0,
        (false, 1) => 1,
        _ => 2,
    }
}

/// Sets this thread's interrupt flag (`local_irq_disable` when `off`);
/// whether it was off before.
#[no_mangle]
pub extern "C" fn umod_local_irq_set(off: i32) -> i32 {
    let was = softirq::local_irqs_off();
    softirq::set_local_irqs_off(off != 0);
    i32::from(was)
}

/// The C entry points of interrupt masking, by exported name.
pub fn functions() -> Vec<(&'static str, usize)> {
    extern "C" {
        fn umod___global_cli();
        fn umod___global_sti();
        fn umod___global_save_flags();
        fn umod___global_restore_flags();
        fn umod___local_irq_disable();
        fn umod___local_irq_enable();
        fn umod___local_irq_save();
        fn umod___local_irq_restore();
    }
    vec![
        ("__global_cli", umod___global_cli as *const () as usize),
        ("__global_sti", umod___global_sti as *const () as usize),
        (
            "__global_save_flags",
            umod___global_save_flags as *const () as usize,
        ),
        (
            "__global_restore_flags",
            umod___global_restore_flags as *const () as usize,
        ),
        (
            "__local_irq_disable",
            umod___local_irq_disable as *const () as usize,
        ),
        (
            "__local_irq_enable",
            umod___local_irq_enable as *const () as usize,
        ),
        (
            "__local_irq_save",
            umod___local_irq_save as *const () as usize,
        ),
        (
            "__local_irq_restore",
            umod___local_irq_restore as *const () as usize,
        ),
    ]
}
