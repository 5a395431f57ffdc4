//! Bottom halves, tasklets and the context predicates (2.4's
//! kernel/softirq.c, asm/hardirq.h, asm/softirq.h).
//!
//! Each host runs its deferred work on one thread, `umod-softirq`: the old
//! bottom halves (TIMER_BH runs the due kernel timers, TQUEUE_BH `tq_timer`,
//! IMMEDIATE_BH `tq_immediate`, and those modules install with `init_bh`),
//! globally serialised and excluded by the global interrupt lock
//! (`irqflags.rs`), then the high-priority and normal tasklets, which it
//! does not exclude. Module code there runs with `in_softirq()` true.
//!
//! The context predicates are per-thread counters: the irq thread counts
//! one hard irq, the softirq thread one bottom half, and
//! `local_bh_disable` adds to the bottom-half count of its thread.

use std::cell::Cell;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::thread::JoinHandle;
use std::time::Duration;

use super::irqflags::GlobalIrq;
use super::{irq, tqueue, Kernel, KERN_WARNING};
use crate::pin::{self, Hold};
use crate::state::Shared;

/// Bottom-half numbers (`linux/interrupt.h`).
pub const TIMER_BH: usize = 0;
/// `tq_timer`.
pub const TQUEUE_BH: usize = 1;
/// `tq_immediate`.
pub const IMMEDIATE_BH: usize = 9;
/// Slots of `bh_base`.
pub const NR_BH: usize = 32;

/// What one thread is doing, for the context predicates.
#[derive(Clone, Copy, Debug, Default)]
struct Ctx {
    /// Hard irqs being handled (`local_irq_count`).
    irq: u32,
    /// Bottom halves / softirqs running (`local_bh_count`).
    bh: u32,
    /// `local_bh_disable` depth.
    bh_disabled: u32,
    /// `local_irq_disable` in effect.
    irqs_off: bool,
    /// This thread runs a host's deferred work (softirq, irq, keventd).
    runner: bool,
}

thread_local! {
    static CTX: Cell<Ctx> = const { Cell::new(Ctx { irq: 0, bh: 0, bh_disabled: 0, irqs_off: false, runner: false }) };
}

fn ctx() -> Ctx {
    CTX.with(Cell::get)
}

fn update(f: impl FnOnce(&mut Ctx)) {
    CTX.with(|c| {
        let mut v = c.get();
        f(&mut v);
        c.set(v);
    })
}

/// In a hard irq handler or a bottom half (or with bottom halves disabled).
pub(crate) fn in_interrupt() -> bool {
    let c = ctx();
    c.irq + c.bh + c.bh_disabled != 0
}

/// In a hard irq handler.
pub(crate) fn in_irq() -> bool {
    ctx().irq != 0
}

/// In a bottom half or tasklet, or with bottom halves disabled.
pub(crate) fn in_softirq() -> bool {
    let c = ctx();
    c.bh + c.bh_disabled != 0
}

/// Whether this thread's interrupts are masked (`local_irq_disable`).
pub(crate) fn local_irqs_off() -> bool {
    ctx().irqs_off
}

pub(crate) fn set_local_irqs_off(off: bool) {
    update(|c| c.irqs_off = off);
}

/// Whether this thread is one of a host's runner threads.
pub(crate) fn on_runner_thread() -> bool {
    ctx().runner
}

/// Marks this thread as a runner thread, in irq or bottom-half context
/// (or neither, for keventd).
pub(crate) fn become_runner(irq: bool, bh: bool) {
    update(|c| {
        c.runner = true;
        c.irq = u32::from(irq);
        c.bh = u32::from(bh);
    });
}

/// The outermost call into module code on this thread has returned: what
/// it left masked or held is undone and said.
pub(crate) fn module_code_returned(kernel: &Kernel, module: &[u8]) {
    let name = String::from_utf8_lossy(module);
    let name = if name.is_empty() {
        "module code"
    } else {
        &name
    };
    if kernel.deferred().cli.release() {
        kernel.log(
            KERN_WARNING,
            &format!("{name}: returned holding the global interrupt lock (cli); released"),
        );
    }
    let c = ctx();
    if c.bh_disabled > 0 {
        kernel.log(
            KERN_WARNING,
            &format!("{name}: returned with bottom halves disabled; enabled"),
        );
    }
    if c.irqs_off {
        kernel.log(
            KERN_WARNING,
            &format!("{name}: returned with interrupts disabled; enabled"),
        );
    }
    update(|c| {
        c.bh_disabled = 0;
        c.irqs_off = false;
    });
}

/// One bottom-half slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Bh {
    /// TIMER_BH: the kernel timers.
    Timers,
    /// TQUEUE_BH: `tq_timer`.
    TqTimer,
    /// IMMEDIATE_BH: `tq_immediate`.
    Immediate,
    /// A module's routine (`init_bh`).
    Module(u64),
}

#[derive(Debug)]
struct Soft {
    /// BHs marked to run.
    mask: u32,
    bh: [Option<Bh>; NR_BH],
    /// Scheduled tasklets: high priority, normal.
    lists: [VecDeque<u64>; 2],
    /// Tasklets were scheduled or enabled since the last pass.
    kick: bool,
    /// The tasklet whose function runs now.
    running: Option<u64>,
}

impl Default for Soft {
    fn default() -> Soft {
        let mut bh = [None; NR_BH];
        bh[TIMER_BH] = Some(Bh::Timers);
        bh[TQUEUE_BH] = Some(Bh::TqTimer);
        bh[IMMEDIATE_BH] = Some(Bh::Immediate);
        Soft {
            mask: 0,
            bh,
            lists: Default::default(),
            kick: false,
            running: None,
        }
    }
}

/// A host's deferred work: the global interrupt lock, bottom halves and
/// tasklets, task queues and keventd, interrupt lines.
#[derive(Debug, Default)]
pub(crate) struct Deferred {
    pub cli: GlobalIrq,
    soft: Mutex<Soft>,
    /// Work for the softirq thread; a tasklet finished.
    wake: Condvar,
    pub tq: tqueue::TaskQueues,
    pub irq: irq::IrqLines,
    stopping: AtomicBool,
}

impl Deferred {
    fn soft(&self) -> MutexGuard<'_, Soft> {
        self.soft.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `mark_bh(nr)`.
    pub fn mark_bh(&self, nr: usize) {
        if nr < NR_BH {
            self.soft().mask |= 1 << nr;
            self.wake.notify_all();
        }
    }

    fn enqueue_tasklet(&self, addr: u64, hi: bool) {
        let mut s = self.soft();
        s.lists[usize::from(!hi)].push_back(addr);
        s.kick = true;
        drop(s);
        self.wake.notify_all();
    }

    fn kick(&self) {
        self.soft().kick = true;
        self.wake.notify_all();
    }

    /// Waits up to `wait` until the tasklet at `addr` does not run (on
    /// another thread); whether it does not.
    fn tasklet_idle(&self, addr: u64, wait: Duration) -> bool {
        if on_runner_thread() {
            return true;
        }
        let s = self.soft();
        let (s, _) = self
            .wake
            .wait_timeout_while(s, wait, |s| addr != 0 && s.running == Some(addr))
            .unwrap_or_else(|e| e.into_inner());
        addr == 0 || s.running != Some(addr)
    }

    /// The host is stopping: the runner threads end.
    pub fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.wake.notify_all();
        self.tq.wake_keventd();
    }

    pub(crate) fn stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// Drops the tasklets whose struct lies in `[start, end)` and the BHs
    /// whose routine does; how many of each.
    pub fn forget_within(&self, start: u64, end: u64) -> (usize, usize) {
        let inside = |a: u64| a >= start && a < end;
        let mut s = self.soft();
        let mut tasklets = Vec::new();
        for list in &mut s.lists {
            list.retain(|&t| {
                if inside(t) {
                    tasklets.push(t);
                }
                !inside(t)
            });
        }
        let mut bhs = 0;
        for slot in &mut s.bh {
            if matches!(slot, Some(Bh::Module(r)) if inside(*r)) {
                *slot = None;
                bhs += 1;
            }
        }
        drop(s);
        for &t in &tasklets {
            // SAFETY: `t` lies in the departing module's block, still
            // mapped: clearing its SCHED bit only writes there.
            unsafe { umod_tasklet_forget(t) };
        }
        tasklets.sort_unstable();
        tasklets.dedup();
        (tasklets.len(), bhs)
    }
}

extern "C" {
    fn umod_tasklet_begin(addr: u64, func: *mut u64, data: *mut u64) -> i32;
    fn umod_tasklet_end(addr: u64);
    fn umod_tasklet_forget(addr: u64);
}

/// Calls the module function at `func` with `arg` from a runner thread,
/// its module pinned: the module whose block holds `func`, or, if none
/// does, nothing but a warning. Whether it ran and returned.
pub(crate) fn call_deferred(
    sh: &Shared,
    st: &mut crate::state::StateGuard<'_>,
    what: &'static str,
    func: u64,
    args: [u64; 3],
) -> bool {
    let Some(slot) = st.modules.slot_containing(func, 1) else {
        sh.printk(
            KERN_WARNING,
            &format!("{what} at {func:#x} is not in a module; dropped"),
        );
        return false;
    };
    let id = st.modules[slot].id;
    let args = [args[0], args[1], args[2], 0, 0, 0];
    pin::run(sh, st, id, Hold::Pinned, what, func, args).is_ok()
}

/// Starts a host's softirq thread.
pub(crate) fn start(shared: Weak<Shared>, kernel: Arc<Kernel>) -> JoinHandle<()> {
    std::thread::Builder::new()
        .name("umod-softirq".into())
        .spawn(move || {
            become_runner(false, true);
            let d = kernel.deferred();
            loop {
                {
                    let s = d.soft();
                    let _ = d
                        .wake
                        .wait_timeout_while(s, Duration::from_millis(20), |s| {
                            s.mask == 0 && !s.kick && !d.stopping()
                        })
                        .unwrap_or_else(|e| e.into_inner());
                }
                if d.stopping() {
                    return;
                }
                let Some(sh) = shared.upgrade() else {
                    return;
                };
                if !run_softirqs(&sh) {
                    // A BH waits for the global interrupt lock.
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        })
        .expect("spawn the softirq thread")
}

/// One pass: the marked bottom halves, then the tasklets. False when a
/// bottom half had to wait for the global interrupt lock.
fn run_softirqs(sh: &Shared) -> bool {
    let d = sh.kernel.deferred();
    let (mask, table) = {
        let mut s = d.soft();
        s.kick = false;
        (std::mem::take(&mut s.mask), s.bh)
    };
    let mut ran_all = true;
    for (nr, slot) in table.iter().enumerate() {
        if mask & (1 << nr) == 0 {
            continue;
        }
        if !d.cli.bh_try_enter() {
            d.soft().mask |= mask & !((1u32 << nr) - 1);
            ran_all = false;
            break;
        }
        match slot {
            Some(Bh::Timers) => {
                let now = sh
                    .window
                    .mapping()
                    .atomic_u64(sh.jiffies_addr)
                    .load(Ordering::Relaxed);
                crate::ticker::run_due_timers(sh, now);
            }
            Some(Bh::TqTimer) => tqueue::run_host_queue(sh, tqueue::Queue::Timer),
            Some(Bh::Immediate) => tqueue::run_host_queue(sh, tqueue::Queue::Immediate),
            Some(Bh::Module(routine)) => {
                if let Ok(mut st) = sh.lock() {
                    call_deferred(sh, &mut st, "a bottom half", *routine, [0; 3]);
                }
            }
            None => {}
        }
        d.cli.bh_exit();
    }
    for list in 0..2 {
        run_tasklets(sh, list);
    }
    ran_all
}

/// Runs the tasklets scheduled on `list` (0 high priority, 1 normal) when
/// the pass began; a disabled one stays scheduled.
fn run_tasklets(sh: &Shared, list: usize) {
    let d = sh.kernel.deferred();
    let n = d.soft().lists[list].len();
    for _ in 0..n {
        let Ok(mut st) = sh.lock() else {
            return;
        };
        // Under the big lock: the module holding the struct cannot go.
        let Some(t) = d.soft().lists[list].pop_front() else {
            return;
        };
        let (mut func, mut data) = (0u64, 0u64);
        // SAFETY: `t` is the address module code passed to
        // tasklet_schedule, whose struct it keeps until tasklet_kill (a
        // module's own are dropped from the lists when it goes).
        if unsafe { umod_tasklet_begin(t, &mut func, &mut data) } == 0 {
            d.soft().lists[list].push_back(t);
            continue;
        }
        d.soft().running = Some(t);
        call_deferred(sh, &mut st, "a tasklet", func, [data, 0, 0]);
        // SAFETY: as above; the module stayed pinned during the call.
        unsafe { umod_tasklet_end(t) };
        d.soft().running = None;
        d.wake.notify_all();
    }
}

/// The host kernel of the module code running on this thread.
fn kernel() -> Option<Arc<Kernel>> {
    super::context::current().map(|f| f.kernel)
}

/// `in_interrupt()` for module code.
#[no_mangle]
pub extern "C" fn umod_in_interrupt() -> i32 {
    i32::from(in_interrupt())
}

/// `in_irq()`.
#[no_mangle]
pub extern "C" fn umod_in_irq() -> i32 {
    i32::from(in_irq())
}

/// `in_softirq()`.
#[no_mangle]
pub extern "C" fn umod_in_softirq() -> i32 {
    i32::from(in_softirq())
}

/// `local_bh_disable()` (+1) / `local_bh_enable()` (-1).
#[no_mangle]
pub extern "C" fn umod_bh_count(delta: i32) {
    update(|c| c.bh_disabled = c.bh_disabled.saturating_add_signed(delta));
}

/// `tasklet_schedule` (`hi` 0) / `tasklet_hi_schedule` found SCHED clear.
#[no_mangle]
pub extern "C" fn umod_tasklet_enqueue(t: u64, hi: i32) {
    if let Some(k) = kernel() {
        k.deferred().enqueue_tasklet(t, hi != 0);
    }
}

/// `tasklet_enable`: a disabled scheduled tasklet may run now.
#[no_mangle]
pub extern "C" fn umod_tasklet_kick() {
    if let Some(k) = kernel() {
        k.deferred().kick();
    }
}

/// Waits up to `wait_ms` until tasklet `t` does not run; 1 when it does
/// not (`t` 0: just waits, a yield).
#[no_mangle]
pub extern "C" fn umod_tasklet_idle(t: u64, wait_ms: u32) -> i32 {
    let wait = Duration::from_millis(u64::from(wait_ms));
    match kernel() {
        Some(k) => i32::from(k.deferred().tasklet_idle(t, wait)),
        None => 1,
    }
}

/// `init_bh(nr, routine)`: overwrites slot `nr`, unchecked as in 2.4
/// (out of range: nothing).
#[no_mangle]
pub extern "C" fn umod_bh_init(nr: i32, routine: u64) {
    if let (Some(k), Ok(nr)) = (kernel(), usize::try_from(nr)) {
        if nr < NR_BH {
            k.deferred().soft().bh[nr] = Some(Bh::Module(routine));
        }
    }
}

/// `remove_bh(nr)`.
#[no_mangle]
pub extern "C" fn umod_bh_remove(nr: i32) {
    if let (Some(k), Ok(nr)) = (kernel(), usize::try_from(nr)) {
        if nr < NR_BH {
            let mut s = k.deferred().soft();
            s.bh[nr] = None;
            s.mask &= !(1 << nr);
        }
    }
}

/// `mark_bh(nr)`.
#[no_mangle]
pub extern "C" fn umod_bh_mark(nr: i32) {
    if let (Some(k), Ok(nr)) = (kernel(), usize::try_from(nr)) {
        k.deferred().mark_bh(nr);
    }
}

/// The C entry points of bottom halves, tasklets and the context
/// predicates, by exported name.
pub fn functions() -> Vec<(&'static str, usize)> {
    extern "C" {
        fn umod_local_bh_disable();
        fn umod_local_bh_enable();
        fn umod_in_interrupt_entry();
        fn umod_in_irq_entry();
        fn umod_in_softirq_entry();
        fn umod_tasklet_init();
        fn umod_tasklet_schedule();
        fn umod_tasklet_hi_schedule();
        fn umod_tasklet_disable();
        fn umod_tasklet_disable_nosync();
        fn umod_tasklet_enable();
        fn umod_tasklet_kill();
        fn umod_init_bh();
        fn umod_remove_bh();
        fn umod_mark_bh();
    }
    vec![
        (
            "local_bh_disable",
            umod_local_bh_disable as *const () as usize,
        ),
        (
            "local_bh_enable",
            umod_local_bh_enable as *const () as usize,
        ),
        (
            "in_interrupt",
            umod_in_interrupt_entry as *const () as usize,
        ),
        ("in_irq", umod_in_irq_entry as *const () as usize),
        ("in_softirq", umod_in_softirq_entry as *const () as usize),
        ("tasklet_init", umod_tasklet_init as *const () as usize),
        (
            "tasklet_schedule",
            umod_tasklet_schedule as *const () as usize,
        ),
        (
            "tasklet_hi_schedule",
            umod_tasklet_hi_schedule as *const () as usize,
        ),
        (
            "tasklet_disable",
            umod_tasklet_disable as *const () as usize,
        ),
        (
            "tasklet_disable_nosync",
            umod_tasklet_disable_nosync as *const () as usize,
        ),
        ("tasklet_enable", umod_tasklet_enable as *const () as usize),
        // 2.4's tasklet_hi_enable is tasklet_enable.
        (
            "tasklet_hi_enable",
            umod_tasklet_enable as *const () as usize,
        ),
        ("tasklet_kill", umod_tasklet_kill as *const () as usize),
        ("init_bh", umod_init_bh as *const () as usize),
        ("remove_bh", umod_remove_bh as *const () as usize),
        ("mark_bh", umod_mark_bh as *const () as usize),
    ]
}
