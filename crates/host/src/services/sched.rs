//! Tasks, `current`, and the host half of sleeping (`sched.c` has the
//! wait queues, semaphores and the sleep loop itself).
//!
//! A [`Task`] is a 2.4 `task_struct` the host fills for whoever module
//! code runs for: the program whose open, read or ioctl reached a device
//! (its thread id, credentials, capabilities and name as they were when
//! the request began), or the host thread itself. Module code finds it
//! with `get_current()`; the host sets it around each call with
//! [`with_task`]. A task sleeps on its own futex word, so a sleeping
//! reader blocks only its own thread; [`Task::signal`] is how a signal
//! (a FUSE interrupt for the request) reaches it.
//!
//! The big kernel lock lives here too: one recursive lock, taken around
//! the entries 2.4 took it for and dropped while its holder sleeps.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::ffi::{c_char, c_int, CStr};
use std::ptr::NonNull;
use std::sync::{Condvar, Mutex, OnceLock};

use super::context;

/// `struct task_struct` as the kit lays it out (`kit/include/linux/sched.h`).
#[repr(C)]
#[derive(Debug)]
#[doc(hidden)]
#[allow(missing_docs)]
pub struct KTask {
    pub state: i64,
    pub flags: u64,
    pub sigpending: i32,
    pub addr_limit: u64,
    pub need_resched: i64,
    pub lock_depth: i32,
    pub pid: i32,
    pub tgid: i32,
    pub pgrp: i32,
    pub session: i32,
    pub p_pptr: u64,
    pub uid: [u32; 4],
    pub gid: [u32; 4],
    pub ngroups: i32,
    pub groups: [u32; 32],
    pub caps: [u32; 3],
    pub comm: [u8; 16],
    pub tty: u64,
    pub mm: u64,
    pub wake_seq: u32,
    pub kind: u32,
    pub host: [u64; 4],
}

const _: () = {
    assert!(std::mem::offset_of!(KTask, pid) == 44);
    assert!(std::mem::offset_of!(KTask, comm) == 248);
    assert!(std::mem::offset_of!(KTask, wake_seq) == 280);
};

/// `USER_DS`: the top of a program's address space (4-level paging).
pub(crate) const USER_DS: u64 = 0x7fff_ffff_f000;
/// A task whose wake-ups notify a poller instead of a sleeping thread.
const KIND_POLLER: u32 = 1;

/// Who a task stands for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TaskInfo {
    /// Thread id (2.4's per-thread pid).
    pub pid: i32,
    /// Thread group id.
    pub tgid: i32,
    /// Parent's pid.
    pub ppid: i32,
    /// Process group.
    pub pgrp: i32,
    /// Session.
    pub session: i32,
    /// Real, effective, saved and filesystem uids.
    pub uids: [u32; 4],
    /// Real, effective, saved and filesystem gids.
    pub gids: [u32; 4],
    /// Supplementary groups (at most 32).
    pub groups: Vec<u32>,
    /// Effective, inheritable and permitted capabilities (low 32 bits).
    pub caps: [u32; 3],
    /// Program name.
    pub comm: Vec<u8>,
}

impl TaskInfo {
    /// Reads process `pid`'s view from `/proc` (as it is now); `None` when
    /// it is gone.
    pub fn of_process(pid: i32) -> Option<TaskInfo> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let mut info = TaskInfo {
            pid,
            tgid: pid,
            ..TaskInfo::default()
        };
        for line in status.lines() {
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            let nums = || {
                value
                    .split_whitespace()
                    .filter_map(|v| v.parse::<u32>().ok())
            };
            let cap = || u64::from_str_radix(value.trim(), 16).unwrap_or(0) as u32;
            match key {
                "Name" => info.comm = value.trim().as_bytes().to_vec(),
                "Tgid" => info.tgid = value.trim().parse().unwrap_or(pid),
                "PPid" => info.ppid = value.trim().parse().unwrap_or(0),
                "Uid" => nums()
                    .take(4)
                    .enumerate()
                    .for_each(|(i, v)| info.uids[i] = v),
                "Gid" => nums()
                    .take(4)
                    .enumerate()
                    .for_each(|(i, v)| info.gids[i] = v),
                "Groups" => info.groups = nums().take(32).collect(),
                "CapEff" => info.caps[0] = cap(),
                "CapInh" => info.caps[1] = cap(),
                "CapPrm" => info.caps[2] = cap(),
                _ => {}
            }
        }
        if let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            // After the name's closing parenthesis: state ppid pgrp session.
            if let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) {
                let f: Vec<&str> = rest.split_whitespace().collect();
                info.pgrp = f.get(2).and_then(|v| v.parse().ok()).unwrap_or(0);
                info.session = f.get(3).and_then(|v| v.parse().ok()).unwrap_or(0);
            }
        }
        Some(info)
    }

    /// This thread of the host process.
    pub fn this_thread() -> TaskInfo {
        // SAFETY: gettid has no preconditions.
        let tid = unsafe { libc::gettid() };
        let mut info = TaskInfo::of_process(tid).unwrap_or_default();
        info.pid = tid;
        info.tgid = std::process::id() as i32;
        info
    }
}

/// A `task_struct` the host owns; module code sees it through `current`.
#[derive(Debug)]
pub struct Task {
    raw: NonNull<KTask>,
}

// SAFETY: the task is shared with module code on other threads by
// design; every field another thread may change concurrently (state,
// wake_seq, sigpending) is changed with atomic operations in sched.c.
unsafe impl Send for Task {}
// SAFETY: as above.
unsafe impl Sync for Task {}

impl Task {
    /// A task for `info`, running.
    pub fn new(info: &TaskInfo) -> Task {
        let mut t = Box::new(KTask {
            state: 0,
            flags: 0,
            sigpending: 0,
            addr_limit: USER_DS,
            need_resched: 0,
            lock_depth: -1,
            pid: info.pid,
            tgid: info.tgid,
            pgrp: info.pgrp,
            session: info.session,
            p_pptr: 0,
            uid: info.uids,
            gid: info.gids,
            ngroups: info.groups.len().min(32) as i32,
            groups: [0; 32],
            caps: info.caps,
            comm: [0; 16],
            tty: 0,
            mm: 1,
            wake_seq: 0,
            kind: 0,
            host: [0; 4],
        });
        for (d, s) in t.groups.iter_mut().zip(&info.groups) {
            *d = *s;
        }
        let n = info.comm.len().min(15);
        t.comm[..n].copy_from_slice(&info.comm[..n]);
        Task {
            raw: NonNull::from(Box::leak(t)),
        }
    }

    /// The address module code sees.
    pub(crate) fn as_ptr(&self) -> *mut KTask {
        self.raw.as_ptr()
    }

    /// Makes a pending signal visible to the task (`signal_pending`) and
    /// wakes it if it sleeps interruptibly.
    pub fn signal(&self) {
        // SAFETY: the task is live (owned by self); sched.c sets the flag
        // and wakes the futex atomically.
        unsafe { umod_task_signal(self.as_ptr()) }
    }

    /// Clears the pending signal before the task serves a new request.
    pub fn clear_signal(&self) {
        // SAFETY: the task is live; an atomic store of an aligned word.
        unsafe {
            std::sync::atomic::AtomicI32::from_ptr(&raw mut (*self.as_ptr()).sigpending)
                .store(0, std::sync::atomic::Ordering::SeqCst)
        }
    }

    /// The thread id the task stands for.
    pub fn pid(&self) -> i32 {
        // SAFETY: the task is live; pid is written only at creation.
        unsafe { (*self.as_ptr()).pid }
    }
}

impl Drop for Task {
    fn drop(&mut self) {
        pollers()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&(self.raw.as_ptr() as usize));
        // SAFETY: created by Box::leak in `new` and not used after this:
        // no module code runs for it any more (calls hold a reference).
        drop(unsafe { Box::from_raw(self.raw.as_ptr()) });
    }
}

extern "C" {
    fn umod_task_signal(t: *mut KTask);
}

thread_local! {
    /// Tasks module code on this thread runs for, innermost last.
    static TASKS: RefCell<Vec<*mut KTask>> = const { RefCell::new(Vec::new()) };
    /// The host thread's own task, made when first needed.
    static OWN: RefCell<Option<Task>> = const { RefCell::new(None) };
    /// Big kernel lock depth held by this thread (-1: not held).
    static BKL_DEPTH: Cell<i32> = const { Cell::new(-1) };
}

/// Runs `f` with `task` as `current` for module code on this thread.
pub(crate) fn with_task<R>(task: &Task, f: impl FnOnce() -> R) -> R {
    struct Pop;
    impl Drop for Pop {
        fn drop(&mut self) {
            TASKS.with(|t| t.borrow_mut().pop());
        }
    }
    TASKS.with(|t| t.borrow_mut().push(task.as_ptr()));
    let _pop = Pop;
    f()
}

/// `get_current()` for module code: the task set by [`with_task`], or the
/// host thread's own.
#[no_mangle]
pub extern "C" fn umod_current_task() -> *mut KTask {
    if let Some(t) = TASKS.with(|t| t.borrow().last().copied()) {
        return t;
    }
    OWN.with(|own| {
        own.borrow_mut()
            .get_or_insert_with(|| Task::new(&TaskInfo::this_thread()))
            .as_ptr()
    })
}

/// Whether the calling code may sleep: not in an interrupt handler, a
/// bottom half or with bottom halves disabled. 2.4 called BUG() there
/// ("Scheduling in interrupt"); the host refuses the sleep and says so.
///
/// # Safety
/// `what` is a NUL-terminated string (sched.c passes literals).
#[no_mangle]
pub unsafe extern "C" fn umod_may_sleep(what: *const c_char) -> c_int {
    if !super::softirq::in_interrupt() {
        return 1;
    }
    // SAFETY: guaranteed by the caller.
    let what = unsafe { CStr::from_ptr(what) }.to_string_lossy();
    if let Some(frame) = context::current() {
        frame.kernel.printk_raw(
            format!("<3>Scheduling in interrupt: {what} refused (2.4 would BUG here)\n").as_bytes(),
        );
    }
    0
}

/// Before a task blocks: drops the big kernel lock (returning its depth)
/// and tells the watchdog that the call is asleep, not spinning.
#[no_mangle]
pub extern "C" fn umod_sleep_begin() -> u64 {
    if let Some(frame) = context::current() {
        frame.kernel.watchdog().pause_this_thread();
    }
    let depth = BKL_DEPTH.with(|d| d.replace(-1));
    if depth >= 0 {
        bkl().release();
    }
    (depth + 1) as u64
}

/// After a task wakes: takes the big kernel lock back if it held it.
#[no_mangle]
pub extern "C" fn umod_sleep_end(token: u64) {
    let depth = token as i32 - 1;
    if depth >= 0 {
        bkl().acquire();
        BKL_DEPTH.with(|d| d.set(depth));
    }
    if let Some(frame) = context::current() {
        frame.kernel.watchdog().resume_this_thread();
    }
}

/// The host's jiffies, for timeouts.
#[no_mangle]
pub extern "C" fn umod_jiffies_now() -> u64 {
    match context::current() {
        Some(frame) => frame.kernel.jiffies(),
        None => {
            static START: OnceLock<std::time::Instant> = OnceLock::new();
            (START
                .get_or_init(std::time::Instant::now)
                .elapsed()
                .as_millis()
                / 10) as u64
        }
    }
}

/// A warning from the scheduler code (`text` may start with `<N>`).
///
/// # Safety
/// `text` is a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn umod_sched_warn(text: *const c_char) {
    // SAFETY: guaranteed by the caller (sched.c passes a local buffer).
    let text = unsafe { CStr::from_ptr(text) }.to_bytes();
    if let Some(frame) = context::current() {
        let mut line = text.to_vec();
        if !line.starts_with(b"<") {
            line.splice(0..0, *b"<4>");
        }
        line.push(b'\n');
        frame.kernel.printk_raw(&line);
    }
}

// ---- poll notifications ----

type Notify = Box<dyn Fn() + Send + Sync>;

fn pollers() -> &'static Mutex<HashMap<usize, Notify>> {
    static P: OnceLock<Mutex<HashMap<usize, Notify>>> = OnceLock::new();
    P.get_or_init(Default::default)
}

impl Task {
    /// A task that never runs: put on wait queues by `poll_wait`, it calls
    /// `notify` when one of them is woken.
    pub fn poller(notify: impl Fn() + Send + Sync + 'static) -> Task {
        let t = Task::new(&TaskInfo::default());
        // SAFETY: the task was just made and is not shared yet.
        unsafe {
            (*t.as_ptr()).kind = KIND_POLLER;
            (*t.as_ptr()).state = 1;
        }
        pollers()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(t.as_ptr() as usize, Box::new(notify));
        t
    }
}

/// A wait queue a poller is on was woken.
#[no_mangle]
pub extern "C" fn umod_poll_wake(t: *mut KTask) {
    if let Some(notify) = pollers()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&(t as usize))
    {
        notify();
    }
}

// ---- the big kernel lock ----

#[derive(Default)]
pub(crate) struct Bkl {
    held: Mutex<bool>,
    freed: Condvar,
}

impl Bkl {
    fn acquire(&self) {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        while *held {
            held = self.freed.wait(held).unwrap_or_else(|e| e.into_inner());
        }
        *held = true;
    }

    fn release(&self) {
        *self.held.lock().unwrap_or_else(|e| e.into_inner()) = false;
        self.freed.notify_one();
    }
}

fn bkl() -> &'static Bkl {
    static B: OnceLock<Bkl> = OnceLock::new();
    B.get_or_init(Bkl::default)
}

/// `lock_kernel()`: recursive per thread.
#[no_mangle]
pub extern "C" fn umod_lock_kernel() {
    let depth = BKL_DEPTH.with(|d| d.get());
    if depth < 0 {
        bkl().acquire();
    }
    BKL_DEPTH.with(|d| d.set(depth + 1));
}

/// `unlock_kernel()`.
#[no_mangle]
pub extern "C" fn umod_unlock_kernel() {
    let depth = BKL_DEPTH.with(|d| d.get());
    if depth < 0 {
        if let Some(frame) = context::current() {
            frame.kernel.log(
                super::KERN_ERR,
                "unlock_kernel without lock_kernel (BUG in 2.4)",
            );
        }
        return;
    }
    BKL_DEPTH.with(|d| d.set(depth - 1));
    if depth == 0 {
        bkl().release();
    }
}

/// `kernel_locked()`.
#[no_mangle]
pub extern "C" fn umod_kernel_locked() -> c_int {
    c_int::from(BKL_DEPTH.with(|d| d.get()) >= 0)
}

/// Runs `f` holding the big kernel lock, as 2.4 held it around open,
/// llseek, ioctl and flush.
pub(crate) fn with_bkl<R>(f: impl FnOnce() -> R) -> R {
    struct Unlock;
    impl Drop for Unlock {
        fn drop(&mut self) {
            umod_unlock_kernel();
        }
    }
    umod_lock_kernel();
    let _unlock = Unlock;
    f()
}

/// Exported functions of this file and `sched.c`.
pub fn functions() -> Vec<(&'static str, usize)> {
    extern "C" {
        fn umod___wake_up();
        fn umod_wake_up_process();
        fn umod_add_wait_queue();
        fn umod_add_wait_queue_exclusive();
        fn umod_remove_wait_queue();
        fn umod_schedule();
        fn umod_schedule_timeout();
        fn umod_yield();
        fn umod_sleep_on();
        fn umod_sleep_on_timeout();
        fn umod_interruptible_sleep_on();
        fn umod_interruptible_sleep_on_timeout();
        fn umod_down();
        fn umod_down_interruptible();
        fn umod_down_trylock();
        fn umod_up();
        fn umod_down_read();
        fn umod_down_write();
        fn umod_down_read_trylock();
        fn umod_down_write_trylock();
        fn umod_up_read();
        fn umod_up_write();
        fn umod_capable();
        fn umod_in_group_p();
        fn umod_in_egroup_p();
    }
    vec![
        ("get_current", umod_current_task as *const () as usize),
        ("__wake_up", umod___wake_up as *const () as usize),
        ("__wake_up_sync", umod___wake_up as *const () as usize),
        (
            "wake_up_process",
            umod_wake_up_process as *const () as usize,
        ),
        ("add_wait_queue", umod_add_wait_queue as *const () as usize),
        (
            "add_wait_queue_exclusive",
            umod_add_wait_queue_exclusive as *const () as usize,
        ),
        (
            "remove_wait_queue",
            umod_remove_wait_queue as *const () as usize,
        ),
        ("schedule", umod_schedule as *const () as usize),
        (
            "schedule_timeout",
            umod_schedule_timeout as *const () as usize,
        ),
        ("yield", umod_yield as *const () as usize),
        ("sleep_on", umod_sleep_on as *const () as usize),
        (
            "sleep_on_timeout",
            umod_sleep_on_timeout as *const () as usize,
        ),
        (
            "interruptible_sleep_on",
            umod_interruptible_sleep_on as *const () as usize,
        ),
        (
            "interruptible_sleep_on_timeout",
            umod_interruptible_sleep_on_timeout as *const () as usize,
        ),
        ("down", umod_down as *const () as usize),
        (
            "down_interruptible",
            umod_down_interruptible as *const () as usize,
        ),
        ("down_trylock", umod_down_trylock as *const () as usize),
        ("up", umod_up as *const () as usize),
        ("down_read", umod_down_read as *const () as usize),
        ("down_write", umod_down_write as *const () as usize),
        (
            "down_read_trylock",
            umod_down_read_trylock as *const () as usize,
        ),
        (
            "down_write_trylock",
            umod_down_write_trylock as *const () as usize,
        ),
        ("up_read", umod_up_read as *const () as usize),
        ("up_write", umod_up_write as *const () as usize),
        ("capable", umod_capable as *const () as usize),
        ("in_group_p", umod_in_group_p as *const () as usize),
        ("in_egroup_p", umod_in_egroup_p as *const () as usize),
        ("lock_kernel", umod_lock_kernel as *const () as usize),
        ("unlock_kernel", umod_unlock_kernel as *const () as usize),
        ("kernel_locked", umod_kernel_locked as *const () as usize),
    ]
}
