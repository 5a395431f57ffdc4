//! Kernel services for module code: what a module can call or read through
//! the host's exported symbols (`printk`, `kmalloc`, string functions,
//! `jiffies`...), and the state those services keep.

pub mod builtin;
pub mod chrdev;
pub(crate) mod context;
pub mod io;
pub(crate) mod irq;
pub(crate) mod irqflags;
pub mod memory;
pub mod printk;
pub mod proc;
pub mod resource;
pub mod sched;
pub(crate) mod softirq;
pub mod spinlock;
pub mod strings;
pub mod time;
pub mod timers;
pub(crate) mod tqueue;
pub mod uaccess;
pub mod utsname;
pub(crate) mod watchdog;

use std::ffi::c_char;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use watchdog::Watchdog;

pub use printk::{LogRecord, LogRing};
use proc::ProcTable;
use timers::TimerQueue;

use crate::window::Window;

/// State shared between the host and the services module code calls.
#[derive(Debug)]
pub struct Kernel {
    log: Mutex<LogRing>,
    started: Instant,
    window: Arc<Window>,
    timers: Mutex<TimerQueue>,
    procs: Mutex<ProcTable>,
    /// Registered character-device majors.
    chrdevs: Mutex<chrdev::ChrdevTable>,
    /// The pages (each with `start` and `eof` words) that proc read
    /// functions fill, one per read in progress.
    proc_pages: proc::ProcPages,
    /// Module code running now.
    watchdog: Watchdog,
    /// Taint flags (`TAINT_*`).
    taint: std::sync::atomic::AtomicU64,
    /// Modules whose code faulted.
    oopsed: Mutex<std::collections::HashSet<u64>>,
    /// Where the exported kernel data objects of the 2.4 API lie.
    kapi: std::sync::OnceLock<KapiData>,
    /// Bottom halves, tasklets, task queues, interrupt lines.
    deferred: softirq::Deferred,
}

/// Addresses of exported data the services keep up to date.
#[derive(Clone, Copy, Debug)]
pub(crate) struct KapiData {
    /// `struct timeval xtime`.
    pub xtime: u64,
    /// `ioport_resource` and `iomem_resource`.
    pub roots: resource::Roots,
}

/// Exports the data objects of the 2.4 API (`xtime`, `loops_per_jiffy`,
/// `system_utsname`, `num_physpages`, the resource roots).
pub(crate) fn export_kapi_data(
    exports: &mut crate::exports::ExportTable,
    window: &Window,
) -> Result<KapiData, crate::exports::ExportError> {
    let xtime = time::export_data(exports, window)?;
    utsname::export_data(exports, window)?;
    let pages = exports.export_data(window, memory::NUM_PHYSPAGES.as_bytes(), 8, 8)?;
    window
        .mapping()
        .write(pages, &memory::physpages().to_le_bytes());
    let roots = resource::export_data(exports, window)?;
    Ok(KapiData { xtime, roots })
}

/// A module without a GPL-compatible licence was loaded (`P`).
pub const TAINT_PROPRIETARY_MODULE: u64 = 1;
/// A module was loaded with `-f` despite a version mismatch (`F`).
pub const TAINT_FORCED_MODULE: u64 = 2;
/// Module code faulted: the host carried on after an oops (`D`).
pub const TAINT_DIE: u64 = 1 << 7;

/// Length of one jiffy: 2.4's `HZ` is 100 on x86.
pub const HZ: u64 = 100;

impl Kernel {
    pub(crate) fn new(
        log_buf_len: usize,
        window: Arc<Window>,
        proc_slots: u64,
        proc_pages: u64,
    ) -> Kernel {
        Kernel {
            log: Mutex::new(LogRing::new(log_buf_len)),
            started: Instant::now(),
            window,
            timers: Mutex::new(TimerQueue::default()),
            procs: Mutex::new(ProcTable::new(proc_slots)),
            chrdevs: Mutex::new(chrdev::ChrdevTable::default()),
            proc_pages: proc::ProcPages::new(proc_pages),
            watchdog: Watchdog::default(),
            taint: std::sync::atomic::AtomicU64::new(0),
            oopsed: Mutex::new(std::collections::HashSet::new()),
            kapi: std::sync::OnceLock::new(),
            deferred: softirq::Deferred::default(),
        }
    }

    /// Records where the 2.4 API's data objects are (once, at start-up).
    pub(crate) fn set_kapi_data(&self, data: KapiData) {
        let _ = self.kapi.set(data);
        self.tick_xtime();
    }

    /// Where the 2.4 API's data objects are.
    pub(crate) fn kapi_data(&self) -> Option<KapiData> {
        self.kapi.get().copied()
    }

    /// Calls into module code in progress.
    pub(crate) fn watchdog(&self) -> &Watchdog {
        &self.watchdog
    }

    /// Where module code lies: the module view of the window, below the
    /// kernel area.
    pub(crate) fn module_code_range(&self) -> (u64, u64) {
        (self.window.base(), self.window.kernel_base())
    }

    /// Whether `addr` lies in the module window (module blocks or the
    /// kernel area): addresses anyone may see, unlike the host's own.
    pub(crate) fn in_window(&self, addr: u64) -> bool {
        addr >= self.window.base() && addr - self.window.base() < self.window.mapping().size()
    }

    /// Adds taint flags.
    pub(crate) fn add_taint(&self, bits: u64) {
        self.taint
            .fetch_or(bits, std::sync::atomic::Ordering::SeqCst);
    }

    /// Sets the taint flags to `value`.
    pub(crate) fn set_taint(&self, value: u64) {
        self.taint.store(value, std::sync::atomic::Ordering::SeqCst);
    }

    /// The taint flags.
    pub fn taint(&self) -> u64 {
        self.taint.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Marks module `id` as having faulted.
    pub(crate) fn mark_oopsed(&self, id: u64) {
        self.oopsed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id);
    }

    /// Whether module `id` has faulted.
    pub(crate) fn has_oopsed(&self, id: u64) -> bool {
        self.oopsed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(&id)
    }

    /// The pending timers.
    pub(crate) fn timers(&self) -> MutexGuard<'_, TimerQueue> {
        self.timers.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Bottom halves, tasklets, task queues, interrupt lines.
    pub(crate) fn deferred(&self) -> &softirq::Deferred {
        &self.deferred
    }

    /// The registered /proc entries.
    pub(crate) fn procs(&self) -> MutexGuard<'_, ProcTable> {
        self.procs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The character-device table.
    pub(crate) fn chrdevs(&self) -> MutexGuard<'_, chrdev::ChrdevTable> {
        self.chrdevs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The pages proc read functions write into.
    pub(crate) fn proc_pages(&self) -> &proc::ProcPages {
        &self.proc_pages
    }

    /// Drops what a departing module left registered (timers whose struct
    /// lies in its block, /proc entries it created, I/O regions, memory)
    /// and says so in the log.
    pub(crate) fn forget_module(&self, id: u64, name: &[u8], start: u64, end: u64) {
        let name = String::from_utf8_lossy(name);
        self.forget_resources(id, &name, start, end);
        self.forget_allocations(id, &name);
        let timers = self.timers().remove_within(start, end);
        if timers > 0 {
            self.log(
                KERN_WARNING,
                &format!("{name}: removed {timers} pending timer(s) it left behind"),
            );
        }
        for (major, dev) in self.chrdevs().owned_by(id) {
            self.log(
                KERN_WARNING,
                &format!(
                    "{name}: unregistered character major {major} ({}) it left registered",
                    String::from_utf8_lossy(&dev)
                ),
            );
        }
        self.forget_deferred(id, &name, start, end);
        let left = self.procs().owned_by(id);
        for entry in left {
            self.remove_proc(&entry);
            self.log(
                KERN_WARNING,
                &format!(
                    "{name}: removed /proc/{} it left registered",
                    String::from_utf8_lossy(&entry)
                ),
            );
        }
    }

    /// Drops the irq handlers, tasklets, bottom halves and queued tasks a
    /// departing module left behind, saying so.
    fn forget_deferred(&self, id: u64, name: &str, start: u64, end: u64) {
        let d = &self.deferred;
        for irq in d.irq.forget_module(id, start, end) {
            self.log(
                KERN_WARNING,
                &format!("{name}: freed IRQ {irq} it left requested"),
            );
        }
        let (tasklets, bhs) = d.forget_within(start, end);
        let tasks = d.tq.forget_within(start, end);
        for (n, what) in [
            (tasklets, "scheduled tasklet(s)"),
            (bhs, "bottom half(s)"),
            (tasks, "queued task(s)"),
        ] {
            if n > 0 {
                self.log(
                    KERN_WARNING,
                    &format!("{name}: removed {n} {what} it left behind"),
                );
            }
        }
    }

    /// Registers a /proc entry and fills its `proc_dir_entry`.
    pub(crate) fn create_proc(
        &self,
        name: &[u8],
        owner: Option<u64>,
        mode: u32,
        read_proc: u64,
        data: u64,
    ) -> u64 {
        let Some(addr) = self.procs().create(name, owner) else {
            return 0;
        };
        // As 2.4's create_proc_entry: a regular file, readable by all
        // unless the mode says who may.
        const S_IFMT: u32 = 0o170000;
        const S_IFREG: u32 = 0o100000;
        let mut mode = mode;
        if mode & S_IFMT == 0 {
            mode |= S_IFREG;
        }
        if mode & 0o7777 == 0 {
            mode |= 0o444;
        }
        let w = self.window.mapping();
        w.zero(addr, proc::SLOT_SIZE);
        w.write(addr + proc::NAME_AT, name);
        w.write(
            addr + proc::field::NAMELEN,
            &(name.len() as u16).to_le_bytes(),
        );
        w.write(
            addr + proc::field::NAME,
            &(addr + proc::NAME_AT).to_le_bytes(),
        );
        w.write(addr + proc::field::MODE, &mode.to_le_bytes());
        w.write(addr + proc::field::NLINK, &1u64.to_le_bytes());
        w.write(addr + proc::field::DATA, &data.to_le_bytes());
        w.write(addr + proc::field::READ_PROC, &read_proc.to_le_bytes());
        addr
    }

    /// Unregisters a /proc entry.
    pub(crate) fn remove_proc(&self, name: &[u8]) {
        if let Some(addr) = self.procs().remove(name) {
            self.window.mapping().zero(addr, proc::SLOT_SIZE);
        }
    }

    /// Time since the host started.
    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }

    /// Jiffies since the host started.
    pub fn jiffies(&self) -> u64 {
        (self.uptime().as_nanos() / (1_000_000_000 / u128::from(HZ))) as u64
    }

    /// Appends formatted `printk` text (with `<N>` markers, continuations).
    pub fn printk_raw(&self, text: &[u8]) {
        let t = self.uptime();
        self.log_ring().emit(text, t);
    }

    /// Logs one line at `level` (0..=7).
    pub fn log(&self, level: u8, text: &str) {
        let t = self.uptime();
        self.log_ring().log(level, text, t, None);
    }

    /// Logs a line that names host addresses (`text`), and what readers
    /// without privilege see instead (`redacted`), as `kptr_restrict` does.
    pub fn log_redacted(&self, level: u8, text: &str, redacted: &str) {
        let t = self.uptime();
        let redacted = (redacted != text).then(|| redacted.to_string());
        self.log_ring().log(level, text, t, redacted);
    }

    /// The ring; a module that faulted inside printk must not take the
    /// log down with it, so a poisoned lock is taken over.
    fn log_ring(&self) -> MutexGuard<'_, LogRing> {
        self.log.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The log lines, oldest first.
    pub fn records(&self) -> Vec<LogRecord> {
        self.log_ring().records()
    }

    /// Empties the log.
    pub fn clear_log(&self) {
        self.log_ring().clear()
    }
}

/// Borrows `len` bytes a C caller passed.
///
/// # Safety
/// `ptr` points to `len` readable bytes for the duration of the call.
unsafe fn c_bytes<'a>(ptr: *const c_char, len: usize) -> &'a [u8] {
    if len == 0 {
        return &[];
    }
    // SAFETY: guaranteed by the caller.
    unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), len) }
}

/// `create_proc_read_entry` from module code (through `services.c`, which
/// measured the name).
///
/// # Safety
/// `name` points to `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn umod_proc_create(
    name: *const c_char,
    len: usize,
    mode: u32,
    read_proc: u64,
    data: u64,
) -> u64 {
    // SAFETY: see above; the C side passes the module's string and strlen.
    let name = unsafe { c_bytes(name, len) };
    match context::current() {
        Some(frame) => frame
            .kernel
            .create_proc(name, frame.module, mode, read_proc, data),
        None => 0,
    }
}

/// `remove_proc_entry` from module code.
///
/// # Safety
/// `name` points to `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn umod_proc_remove(name: *const c_char, len: usize) {
    // SAFETY: as for `umod_proc_create`.
    let name = unsafe { c_bytes(name, len) };
    if let Some(frame) = context::current() {
        frame.kernel.remove_proc(name);
    }
}

/// `KERN_ALERT`, the level of oops reports.
pub const KERN_ALERT: u8 = 1;
/// `KERN_ERR`, the level of the host's own complaints about bad images.
pub const KERN_ERR: u8 = 3;
/// `KERN_WARNING`.
pub const KERN_WARNING: u8 = 4;
/// `KERN_INFO`.
pub const KERN_INFO: u8 = 6;
