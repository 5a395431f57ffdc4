//! Running module code: the one place where the host jumps into machine
//! code that a module image supplied.
//!
//! Every call into a module (`init`, `cleanup`, `can_unload`, a timer
//! function, a proc read function) goes through [`call_module`], which
//! records which host and which module the code runs for (so the services
//! it calls back, `printk`, `add_timer`..., reach that host and know their
//! owner), registers the call with the host's watchdog, and runs it
//! under a guard (`guard.c`): a fault in module code (SIGSEGV, SIGBUS,
//! SIGILL, SIGFPE, SIGTRAP) or a preemption by the watchdog comes back as a
//! [`Fault`] instead of killing the process or hanging it.
//!
//! Callers never hold the host's big lock while module code runs (see
//! `state.rs`): code that spins or sleeps holds up its own caller only.

use std::sync::Arc;

use crate::services::context::{self, Frame};
use crate::services::Kernel;

/// A fault in module code, or the watchdog stopping it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Fault {
    /// The signal (`SIGSEGV`, `SIGILL`..., or the preemption signal).
    pub signal: i32,
    /// Its `si_code`.
    pub code: i32,
    /// The data address involved (`si_addr`; 0 for a preemption).
    pub addr: u64,
    /// The instruction pointer at the fault.
    pub ip: u64,
    /// The stack pointer at the fault.
    pub sp: u64,
    /// The words of the stack from `sp` up to the guard's frame (the
    /// module code's frames), at most 512 of them: what a call trace is
    /// made from. Empty when the stack pointer had left that stack.
    pub stack: Vec<u64>,
}

/// `struct umod_fault` of `guard.c`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
struct RawFault {
    signal: i32,
    code: i32,
    addr: u64,
    ip: u64,
    sp: u64,
    stack_words: u64,
}

impl Fault {
    /// Whether the watchdog stopped the code (a soft lockup), rather than
    /// the code faulting.
    pub fn is_lockup(&self) -> bool {
        self.signal == preempt_signal()
    }

    /// `SIGSEGV (invalid memory reference)`, as the oops line says it.
    pub fn describe(&self) -> String {
        let what = match self.signal {
            libc::SIGSEGV => "SIGSEGV (invalid memory reference)",
            libc::SIGBUS => "SIGBUS (bus error)",
            libc::SIGILL => "SIGILL (invalid opcode)",
            libc::SIGFPE => "SIGFPE (divide error)",
            libc::SIGTRAP => "SIGTRAP (breakpoint)",
            _ if self.is_lockup() => "soft lockup (stopped by the watchdog)",
            _ => "signal",
        };
        what.to_string()
    }
}

extern "C" {
    fn umod_install_fault_handlers();
    fn umod_preempt_signal() -> i32;
    fn umod_guarded_call(
        f: u64,
        args: *const u64,
        result: *mut i32,
        fault: *mut RawFault,
        preempt: *const i32,
        code_lo: u64,
        code_hi: u64,
    ) -> i32;
    fn umod_fault_stack(out: *mut u64, cap: u64) -> u64;
}

/// The real-time signal the watchdog stops module code with.
pub fn preempt_signal() -> i32 {
    // SAFETY: a pure function of the C library's SIGRTMAX.
    unsafe { umod_preempt_signal() }
}

/// Calls the module function at `addr` with up to six integer arguments
/// (the System V registers; a function taking fewer ignores the rest) and
/// returns its `int` result (whatever `eax` held, for a `void` function),
/// or the fault (or preemption) that stopped it.
///
/// The caller guarantees that `addr` lies inside a module block that is
/// mapped executable and stays allocated until this returns (the module
/// is pinned), and does not hold the host's big lock.
pub(crate) fn call_module(
    kernel: &Arc<Kernel>,
    module: Option<(u64, &[u8])>,
    what: &'static str,
    addr: u64,
    args: [u64; 6],
) -> Result<i32, Fault> {
    let entered = context::enter(Frame {
        kernel: Arc::clone(kernel),
        module: module.map(|(id, _)| id),
    });
    let call = kernel
        .watchdog()
        .started(module.map_or(&[][..], |(_, n)| n), what);
    let (code_lo, code_hi) = kernel.module_code_range();
    let mut result = 0i32;
    let mut fault = RawFault::default();
    // SAFETY: `addr` is an entry point inside a live, executable module
    // block (checked by init_module's bound checks or by the timer and
    // proc code before calling), and module functions follow the System V
    // calling convention with integer arguments. The guard returns here if
    // the code faults or the watchdog stops it; what the code does
    // otherwise is the module's responsibility, as in a kernel. The flag
    // outlives the call: `call` holds it until after the guard returns.
    let faulted = unsafe {
        umod_install_fault_handlers();
        umod_guarded_call(
            addr,
            args.as_ptr(),
            &mut result,
            &mut fault,
            call.flag(),
            code_lo,
            code_hi,
        )
    };
    drop(call);
    drop(entered);
    if context::current().is_none() {
        // The outermost call on this thread: undo what it left masked.
        crate::services::softirq::module_code_returned(kernel, module.map_or(&[][..], |(_, n)| n));
    }
    if faulted == 0 {
        return Ok(result);
    }
    // The stack words are this thread's copy of this fault: nothing has
    // run module code on this thread since the guard returned.
    let mut stack = vec![0u64; usize::try_from(fault.stack_words).unwrap_or(0).min(512)];
    // SAFETY: `stack` has room for the `stack.len()` words asked for.
    let n = unsafe { umod_fault_stack(stack.as_mut_ptr(), stack.len() as u64) };
    stack.truncate(usize::try_from(n).unwrap_or(0));
    Err(Fault {
        signal: fault.signal,
        code: fault.code,
        addr: fault.addr,
        ip: fault.ip,
        sp: fault.sp,
        stack,
    })
}
