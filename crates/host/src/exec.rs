//! Running module code: the one place where the host jumps into machine
//! code that a module image supplied.
//!
//! Every call into a module (`init`, `cleanup`, `can_unload`) goes through
//! [`call_module`], which records which host the code runs for, so that the
//! services the code calls back (`printk`...) reach that host's state.
//! Guarding against faulting module code will also live here.

use std::cell::RefCell;
use std::sync::Arc;

use crate::services::Kernel;

thread_local! {
    /// The hosts whose module code is running on this thread, innermost last.
    static CURRENT: RefCell<Vec<Arc<Kernel>>> = const { RefCell::new(Vec::new()) };
}

/// Calls the module function at `addr` as `int (*)(void)` and returns its
/// result (a `void` function's result is whatever was left in `eax`;
/// callers ignore it).
///
/// The caller guarantees that `addr` lies inside a live module block that
/// is mapped executable and was validated by `init_module`.
pub(crate) fn call_module(kernel: &Arc<Kernel>, addr: u64) -> i32 {
    CURRENT.with(|c| c.borrow_mut().push(Arc::clone(kernel)));
    // SAFETY: `addr` is an entry point inside a live, executable module
    // block (checked by init_module's bound checks), and module functions
    // take no arguments and return an int, per the 2.4 ABI. What the code
    // does is the module's responsibility, as in a kernel.
    let entry: extern "C" fn() -> i32 = unsafe { std::mem::transmute(addr as usize) };
    let result = entry();
    CURRENT.with(|c| c.borrow_mut().pop());
    result
}

/// Runs `f` with the kernel whose module code is running on this thread, if
/// any (services called from module code use it).
pub(crate) fn with_current_kernel<R>(f: impl FnOnce(Option<&Kernel>) -> R) -> R {
    let current = CURRENT.with(|c| c.borrow().last().cloned());
    f(current.as_deref())
}
