//! Oopses: module code that faulted. The host records what happened in the
//! kernel log (the module, the faulting instruction as `module+offset` and
//! the nearest symbol, the signal, the address), taints itself and the
//! module, and fails only the call that ran the code.
//!
//! What cannot be contained: module code runs in the host's address space,
//! so a module that scribbles over host memory (the heap, another module)
//! before faulting, or faults while holding a lock of the C library (inside
//! `malloc`, say), can still corrupt or hang the host. Module blocks live
//! in their own window, away from the host's heap and stacks, with an
//! inaccessible guard page after each, and a freed block's code is all
//! `int3`, which turns many stray accesses and calls into clean faults;
//! but the guard is a containment, not a sandbox. (A stray write into a
//! freed block's data lands in memory the next module gets wiped.)

use crate::exec::Fault;
use crate::services::{KERN_ALERT, TAINT_DIE};
use crate::state::{Module, Shared};

/// Names `ip` as `symbol+0xoff` from the module's exports and entry points.
fn symbolize(sh: &Shared, m: &Module, ip: u64) -> Option<String> {
    let mut known: Vec<(u64, String)> = sh
        .module_symbols(m)
        .into_iter()
        .map(|(v, n)| (v, String::from_utf8_lossy(&n).into_owned()))
        .collect();
    known.extend([
        (m.image.init, "init_module".to_string()),
        (m.image.cleanup, "cleanup_module".to_string()),
        (sh.can_unload(m), "can_unload".to_string()),
    ]);
    known
        .into_iter()
        .filter(|(v, _)| *v != 0 && *v <= ip && m.block.contains(*v, 1))
        .max_by_key(|(v, _)| *v)
        .map(|(v, n)| format!("{n}+{:#x}", ip - v))
}

/// Records an oops of module `m` during `what` (init, cleanup, a timer...).
pub(crate) fn report(sh: &Shared, m: &Module, what: &str, fault: &Fault) {
    let name = String::from_utf8_lossy(&m.name);
    let place = if m.block.contains(fault.ip, 1) {
        let mut p = format!("{name}+{:#x}", fault.ip - m.addr());
        if let Some(sym) = symbolize(sh, m, fault.ip) {
            p.push_str(&format!(" [{sym}]"));
        }
        p
    } else {
        format!("{:#x} (outside {name})", fault.ip)
    };
    sh.printk(
        KERN_ALERT,
        &format!("Oops: {} in module {name} during {what}", fault.describe()),
    );
    sh.printk(
        KERN_ALERT,
        &format!("  at {place}, address {:#x}", fault.addr),
    );
    sh.printk(
        KERN_ALERT,
        &format!("  {name}: {what} failed; module and host tainted (D)"),
    );
    sh.kernel.add_taint(TAINT_DIE);
    sh.kernel.mark_oopsed(m.id);
}

/// Runs module `m`'s function at `addr` for `what`, under the guard; a
/// fault is reported as an oops and returned.
pub(crate) fn run(
    sh: &Shared,
    m: &Module,
    what: &'static str,
    addr: u64,
    args: [u64; 6],
) -> Result<i32, Fault> {
    crate::exec::call_module(&sh.kernel, Some((m.id, &m.name)), what, addr, args)
        .inspect_err(|fault| report(sh, m, what, fault))
}
