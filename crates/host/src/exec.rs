//! Running module code: the one place where the host jumps into machine
//! code that a module image supplied.
//!
//! Every call into a module (`init`, `cleanup`, `can_unload`, a timer
//! function, a proc read function) goes through [`call_module`], which
//! records which host and which module the code runs for, so that the
//! services it calls back (`printk`, `add_timer`...) reach that host's
//! state and know their owner. Guarding against faulting module code will
//! also live here.

use std::cell::RefCell;
use std::sync::Arc;

use crate::services::Kernel;

/// Who module code on this thread is running for.
#[derive(Clone)]
pub(crate) struct Frame {
    pub kernel: Arc<Kernel>,
    /// Id of the module whose code runs (None for host-owned code).
    pub module: Option<u64>,
}

thread_local! {
    /// Frames of module code running on this thread, innermost last.
    static FRAMES: RefCell<Vec<Frame>> = const { RefCell::new(Vec::new()) };
}

/// Calls the module function at `addr` with up to six integer arguments
/// (the System V registers; a function taking fewer ignores the rest) and
/// returns its `int` result (whatever `eax` held, for a `void` function).
///
/// The caller guarantees that `addr` lies inside a live module block that
/// is mapped executable, and holds the host's big lock.
pub(crate) fn call_module(
    kernel: &Arc<Kernel>,
    module: Option<u64>,
    addr: u64,
    args: [u64; 6],
) -> i32 {
    FRAMES.with(|f| {
        f.borrow_mut().push(Frame {
            kernel: Arc::clone(kernel),
            module,
        })
    });
    // SAFETY: `addr` is an entry point inside a live, executable module
    // block (checked by init_module's bound checks or by the timer and
    // proc code before calling), and module functions follow the System V
    // calling convention with integer arguments. What the code then does is
    // the module's responsibility, as in a kernel.
    let entry: extern "C" fn(u64, u64, u64, u64, u64, u64) -> i32 =
        unsafe { std::mem::transmute(addr as usize) };
    let result = entry(args[0], args[1], args[2], args[3], args[4], args[5]);
    FRAMES.with(|f| f.borrow_mut().pop());
    result
}

/// The innermost frame of module code running on this thread, if any.
pub(crate) fn current() -> Option<Frame> {
    FRAMES.with(|f| f.borrow().last().cloned())
}
