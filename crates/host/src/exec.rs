//! Running module code: the one place where the host jumps into machine
//! code that a module image supplied.
//!
//! Every call into a module (`init`, `cleanup`, `can_unload`, a timer
//! function, a proc read function) goes through [`call_module`], which
//! records which host and which module the code runs for (so the services
//! it calls back, `printk`, `add_timer`..., reach that host and know their
//! owner), and runs it under a guard: a fault in module code (SIGSEGV,
//! SIGBUS, SIGILL, SIGFPE, SIGTRAP) comes back as a [`Fault`] instead of
//! killing the process (the guard itself is C, `services.c`, because it
//! must `siglongjmp` out of the faulting code).

use std::cell::RefCell;
use std::sync::Arc;
use std::time::Instant;

use crate::services::Kernel;

/// Who module code on this thread is running for.
#[derive(Clone)]
pub(crate) struct Frame {
    pub kernel: Arc<Kernel>,
    /// Id of the module whose code runs (None for host-owned code).
    pub module: Option<u64>,
}

/// A fault in module code.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fault {
    /// The signal (`SIGSEGV`, `SIGILL`...).
    pub signal: i32,
    /// Its `si_code`.
    pub code: i32,
    /// The data address involved (`si_addr`).
    pub addr: u64,
    /// The instruction pointer at the fault.
    pub ip: u64,
}

impl Fault {
    /// `SIGSEGV (invalid memory reference)`, as the oops line says it.
    pub fn describe(&self) -> String {
        let what = match self.signal {
            libc::SIGSEGV => "SIGSEGV (invalid memory reference)",
            libc::SIGBUS => "SIGBUS (bus error)",
            libc::SIGILL => "SIGILL (invalid opcode)",
            libc::SIGFPE => "SIGFPE (divide error)",
            libc::SIGTRAP => "SIGTRAP (breakpoint)",
            _ => "signal",
        };
        what.to_string()
    }
}

extern "C" {
    fn umod_install_fault_handlers();
    fn umod_guarded_call(f: u64, args: *const u64, result: *mut i32, fault: *mut Fault) -> i32;
}

thread_local! {
    /// Frames of module code running on this thread, innermost last.
    static FRAMES: RefCell<Vec<Frame>> = const { RefCell::new(Vec::new()) };
}

/// Calls the module function at `addr` with up to six integer arguments
/// (the System V registers; a function taking fewer ignores the rest) and
/// returns its `int` result (whatever `eax` held, for a `void` function),
/// or the fault that stopped it.
///
/// The caller guarantees that `addr` lies inside a live module block that
/// is mapped executable, and holds the host's big lock.
pub(crate) fn call_module(
    kernel: &Arc<Kernel>,
    module: Option<(u64, &[u8])>,
    what: &'static str,
    addr: u64,
    args: [u64; 6],
) -> Result<i32, Fault> {
    FRAMES.with(|f| {
        f.borrow_mut().push(Frame {
            kernel: Arc::clone(kernel),
            module: module.map(|(id, _)| id),
        })
    });
    let token = kernel.call_started(module.map_or(&[][..], |(_, n)| n), what, Instant::now());
    let mut result = 0i32;
    let mut fault = Fault::default();
    // SAFETY: `addr` is an entry point inside a live, executable module
    // block (checked by init_module's bound checks or by the timer and
    // proc code before calling), and module functions follow the System V
    // calling convention with integer arguments. The guard returns here if
    // the code faults; what the code does otherwise is the module's
    // responsibility, as in a kernel.
    let faulted = unsafe {
        umod_install_fault_handlers();
        umod_guarded_call(addr, args.as_ptr(), &mut result, &mut fault)
    };
    kernel.call_finished(token);
    FRAMES.with(|f| f.borrow_mut().pop());
    if faulted != 0 {
        Err(fault)
    } else {
        Ok(result)
    }
}

/// The innermost frame of module code running on this thread, if any.
pub(crate) fn current() -> Option<Frame> {
    FRAMES.with(|f| f.borrow().last().cloned())
}
