//! Interrupt lines (2.4's arch/x86_64/kernel/irq.c): `request_irq`,
//! `free_irq`, `disable_irq`, `enable_irq`, and `/proc/interrupts`.
//!
//! No hardware interrupt reaches user space: a line fires when the host
//! is asked to raise it ([`raise`], `Host::raise_irq`). Its handlers then
//! run on the host's irq thread (`umod-irq`), with `in_irq()` true, once no
//! one holds the global interrupt lock, and are counted per line.

use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::thread::JoinHandle;
use std::time::Duration;

use umod_abi::Errno;

use super::softirq::{self, call_deferred};
use super::Kernel;
use crate::state::Shared;

/// `NR_IRQS` with an IO-APIC.
pub const NR_IRQS: usize = 224;
/// `SA_SHIRQ`: the line may be shared.
pub const SA_SHIRQ: u64 = 0x0400_0000;

#[derive(Clone, Debug)]
struct Action {
    handler: u64,
    flags: u64,
    name: String,
    dev_id: u64,
    owner: Option<u64>,
}

#[derive(Debug)]
struct Line {
    actions: Vec<Action>,
    /// `disable_irq` depth; 1 for a line nobody requested yet.
    depth: u32,
    /// Raised while disabled: delivered at enable.
    pending: bool,
    /// Its handlers run now.
    running: bool,
    count: u32,
}

impl Default for Line {
    fn default() -> Line {
        Line {
            actions: Vec::new(),
            depth: 1,
            pending: false,
            running: false,
            count: 0,
        }
    }
}

type Raise = (usize, Option<mpsc::Sender<Result<(), Errno>>>);

/// A host's interrupt lines.
#[derive(Debug)]
pub(crate) struct IrqLines {
    lines: Mutex<Vec<Line>>,
    changed: Condvar,
    raise: Mutex<Option<mpsc::Sender<Raise>>>,
}

impl Default for IrqLines {
    fn default() -> IrqLines {
        IrqLines {
            lines: Mutex::new((0..NR_IRQS).map(|_| Line::default()).collect()),
            changed: Condvar::new(),
            raise: Mutex::new(None),
        }
    }
}

impl IrqLines {
    fn lines(&self) -> MutexGuard<'_, Vec<Line>> {
        self.lines.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn send(&self, r: Raise) -> bool {
        self.raise
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .is_some_and(|tx| tx.send(r).is_ok())
    }

    /// Stops accepting raises (the irq thread then ends).
    pub fn close(&self) {
        *self.raise.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// `/proc/interrupts`, as 2.4.22's x86_64 `get_irq_list` writes it for
    /// one CPU.
    pub fn proc_text(&self) -> Vec<u8> {
        let mut out = format!("{:11}CPU{:<8}\n", "", 0);
        for (n, line) in self.lines().iter().enumerate() {
            let Some(first) = line.actions.first() else {
                continue;
            };
            let kind = if n < 16 { "XT-PIC" } else { "IO-APIC-edge" };
            out += &format!("{n:3}: {:10}  {kind:>14}  {}", line.count, first.name);
            for a in &line.actions[1..] {
                out += &format!(", {}", a.name);
            }
            out.push('\n');
        }
        out += &format!("NMI: {:10} \nLOC: {:10} \nERR: {:10}\n", 0, 0, 0);
        out.into_bytes()
    }

    /// Frees the handlers module `id` left on any line (owned by it, or
    /// whose function lies in `[start, end)`); the lines, one per handler.
    pub fn forget_module(&self, id: u64, start: u64, end: u64) -> Vec<usize> {
        let mut freed = Vec::new();
        for (n, line) in self.lines().iter_mut().enumerate() {
            let before = line.actions.len();
            line.actions
                .retain(|a| a.owner != Some(id) && !(a.handler >= start && a.handler < end));
            freed.extend(std::iter::repeat_n(n, before - line.actions.len()));
        }
        freed
    }
}

/// Raises line `irq` and waits for its handlers: `EINVAL` past `NR_IRQS`,
/// `ENODEV` when no handler is registered on it. A disabled line is
/// counted and delivered when enabled.
pub(crate) fn raise(kernel: &Kernel, irq: u64) -> Result<(), Errno> {
    let irq = usize::try_from(irq)
        .ok()
        .filter(|&i| i < NR_IRQS)
        .ok_or(Errno::EINVAL)?;
    let (tx, rx) = mpsc::channel();
    if !kernel.deferred().irq.send((irq, Some(tx))) {
        return Err(Errno::EIO);
    }
    rx.recv().unwrap_or(Err(Errno::EIO))
}

/// Starts a host's irq thread.
pub(crate) fn start(shared: Weak<Shared>, kernel: Arc<Kernel>) -> JoinHandle<()> {
    let (tx, rx) = mpsc::channel::<Raise>();
    *kernel
        .deferred()
        .irq
        .raise
        .lock()
        .unwrap_or_else(|e| e.into_inner()) = Some(tx);
    std::thread::Builder::new()
        .name("umod-irq".into())
        .spawn(move || {
            softirq::become_runner(true, false);
            while let Ok((irq, reply)) = rx.recv() {
                let r = match shared.upgrade() {
                    Some(sh) => deliver(&sh, irq),
                    None => Err(Errno::EIO),
                };
                if let Some(reply) = reply {
                    let _ = reply.send(r);
                }
                if kernel.deferred().stopping() {
                    return;
                }
            }
        })
        .expect("spawn the irq thread")
}

/// One interrupt on line `irq`: counted, then every handler called in
/// order (or marked pending if the line is disabled).
fn deliver(sh: &Shared, irq: usize) -> Result<(), Errno> {
    let d = sh.kernel.deferred();
    {
        let mut lines = d.irq.lines();
        let line = &mut lines[irq];
        line.count = line.count.wrapping_add(1);
        if line.actions.is_empty() {
            return Err(Errno::ENODEV);
        }
        if line.depth > 0 {
            line.pending = true;
            return Ok(());
        }
    }
    while !d.cli.irq_enter(Duration::from_millis(10)) {
        if d.stopping() {
            return Ok(());
        }
    }
    let actions = {
        let mut lines = d.irq.lines();
        let line = &mut lines[irq];
        line.pending = false;
        line.running = true;
        line.actions.clone()
    };
    if let Ok(mut st) = sh.lock() {
        for a in &actions {
            call_deferred(
                sh,
                &mut st,
                "an irq handler",
                a.handler,
                [irq as u64, a.dev_id, 0],
            );
        }
    }
    d.irq.lines()[irq].running = false;
    d.irq.changed.notify_all();
    d.cli.irq_exit();
    Ok(())
}

fn kernel() -> Option<Arc<Kernel>> {
    super::context::current().map(|f| f.kernel)
}

/// `request_irq` from module code (the C side measured the name).
///
/// # Safety
/// `name` points to `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn umod_irq_request(
    irq: u32,
    handler: u64,
    flags: u64,
    name: *const std::ffi::c_char,
    len: usize,
    dev_id: u64,
    caller: u64,
) -> i32 {
    // SAFETY: see above.
    let name = String::from_utf8_lossy(unsafe { super::c_bytes(name, len) }).into_owned();
    let Some(frame) = super::context::current() else {
        return -Errno::EINVAL.0;
    };
    let k = &frame.kernel;
    if flags & SA_SHIRQ != 0 && dev_id == 0 {
        k.log(
            super::KERN_ERR,
            &format!("Bad boy: {name} (at {caller:#x}) called us without a dev_id!"),
        );
    }
    let irq = irq as usize;
    if irq >= NR_IRQS || handler == 0 {
        return -Errno::EINVAL.0;
    }
    let mut lines = k.deferred().irq.lines();
    let line = &mut lines[irq];
    if let Some(first) = line.actions.first() {
        if first.flags & flags & SA_SHIRQ == 0 {
            return -Errno::EBUSY.0;
        }
    } else {
        line.depth = 0;
    }
    line.actions.push(Action {
        handler,
        flags,
        name,
        dev_id,
        owner: frame.module,
    });
    0
}

/// `free_irq`: 1 when a handler was removed and the C side should wait
/// for the line's running handlers.
#[no_mangle]
pub extern "C" fn umod_irq_free(irq: u32, dev_id: u64) -> i32 {
    let Some(k) = kernel() else {
        return 0;
    };
    let irq = irq as usize;
    if irq >= NR_IRQS {
        return 0;
    }
    let mut lines = k.deferred().irq.lines();
    let line = &mut lines[irq];
    match line.actions.iter().position(|a| a.dev_id == dev_id) {
        Some(i) => {
            line.actions.remove(i);
            1
        }
        None => {
            drop(lines);
            k.log(super::KERN_ERR, &format!("Trying to free free IRQ{irq}"));
            0
        }
    }
}

/// `disable_irq_nosync`: one more level of disabling.
#[no_mangle]
pub extern "C" fn umod_irq_disable(irq: u32) {
    if let Some(k) = kernel() {
        if let Some(line) = k.deferred().irq.lines().get_mut(irq as usize) {
            line.depth += 1;
        }
    }
}

/// `enable_irq`: one level less; at 0, an interrupt raised meanwhile is
/// delivered.
#[no_mangle]
pub extern "C" fn umod_irq_enable(irq: u32, caller: u64) {
    let Some(k) = kernel() else {
        return;
    };
    let d = k.deferred();
    let mut lines = d.irq.lines();
    let Some(line) = lines.get_mut(irq as usize) else {
        return;
    };
    match line.depth {
        0 => {
            drop(lines);
            k.log(
                super::KERN_ERR,
                &format!("enable_irq({irq}) unbalanced from {caller:016x}"),
            );
        }
        1 => {
            line.depth = 0;
            if std::mem::take(&mut line.pending) && !line.actions.is_empty() {
                drop(lines);
                d.irq.send((irq as usize, None));
            }
        }
        _ => line.depth -= 1,
    }
}

/// Waits up to `wait_ms` until line `irq`'s handlers do not run (on
/// another thread); 1 when they do not.
#[no_mangle]
pub extern "C" fn umod_irq_idle(irq: u32, wait_ms: u32) -> i32 {
    let Some(k) = kernel() else {
        return 1;
    };
    if softirq::on_runner_thread() && softirq::in_irq() {
        return 1;
    }
    let d = k.deferred();
    let irq = irq as usize;
    if irq >= NR_IRQS {
        return 1;
    }
    let lines = d.irq.lines();
    let (lines, _) = d
        .irq
        .changed
        .wait_timeout_while(lines, Duration::from_millis(u64::from(wait_ms)), |l| {
            l[irq].running
        })
        .unwrap_or_else(|e| e.into_inner());
    i32::from(!lines[irq].running)
}

/// The C entry points of interrupt lines, by exported name.
pub fn functions() -> Vec<(&'static str, usize)> {
    extern "C" {
        fn umod_request_irq();
        fn umod_free_irq();
        fn umod_disable_irq();
        fn umod_disable_irq_nosync();
        fn umod_enable_irq();
        fn umod_probe_irq_on();
        fn umod_probe_irq_off();
    }
    vec![
        ("request_irq", umod_request_irq as *const () as usize),
        ("free_irq", umod_free_irq as *const () as usize),
        ("disable_irq", umod_disable_irq as *const () as usize),
        (
            "disable_irq_nosync",
            umod_disable_irq_nosync as *const () as usize,
        ),
        ("enable_irq", umod_enable_irq as *const () as usize),
        ("probe_irq_on", umod_probe_irq_on as *const () as usize),
        ("probe_irq_off", umod_probe_irq_off as *const () as usize),
    ]
}
