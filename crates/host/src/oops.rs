//! Oopses: module code that faulted, or that the watchdog stopped (a soft
//! lockup). The host records what happened in the kernel log (the module,
//! the instruction as `module+offset` and the nearest symbol, the signal,
//! the address), taints itself and the module, and fails only the call
//! that ran the code.
//!
//! Addresses inside the module window are shown to every reader, as
//! `/proc/modules` and `query_module` show them anyway. Addresses of the
//! host itself (an instruction in the host's code, a fault on its stack or
//! heap) are shown only to privileged readers, as `kptr_restrict` hides
//! kernel pointers: the log line carries a redacted twin.
//!
//! What cannot be contained: module code runs in the host's address space,
//! so a module that scribbles over host memory (the heap, another module)
//! before faulting can still corrupt the host. Module blocks live in their
//! own window, away from the host's heap and stacks, with an inaccessible
//! guard page after each, and a freed block's code is all `int3`, which
//! turns many stray accesses and calls into clean faults; but the guard is
//! a containment, not a sandbox. (A stray write into a freed block's data
//! lands in memory the next module gets wiped.)

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
    let (place, place_public) = if m.block.contains(fault.ip, 1) {
        let mut p = format!("{name}+{:#x}", fault.ip - m.addr());
        if let Some(sym) = symbolize(sh, m, fault.ip) {
            p.push_str(&format!(" [{sym}]"));
        }
        (p.clone(), p)
    } else if sh.kernel.in_window(fault.ip) {
        let p = format!("{:#x} (outside {name})", fault.ip);
        (p.clone(), p)
    } else {
        (
            format!("{:#x} (host code, outside {name})", fault.ip),
            format!("(host code, outside {name})"),
        )
    };
    let kern = &sh.kernel;
    if fault.is_lockup() {
        kern.log(
            KERN_ALERT,
            &format!(
                "BUG: soft lockup: {name} stuck for {}s during {what}; stopped by the watchdog",
                sh.watchdog.as_secs_f64()
            ),
        );
        kern.log_redacted(
            KERN_ALERT,
            &format!("  spinning at {place}"),
            &format!("  spinning at {place_public}"),
        );
    } else {
        kern.log(
            KERN_ALERT,
            &format!("Oops: {} in module {name} during {what}", fault.describe()),
        );
        let addr = format!("{:#x}", fault.addr);
        let addr_public = if fault.addr < 0x1_0000 || kern.in_window(fault.addr) {
            addr.clone()
        } else {
            "(host address hidden)".to_string()
        };
        kern.log_redacted(
            KERN_ALERT,
            &format!("  at {place}, address {addr}"),
            &format!("  at {place_public}, address {addr_public}"),
        );
    }
    kern.log(
        KERN_ALERT,
        &format!("  {name}: {what} failed; module and host tainted (D)"),
    );
    kern.add_taint(TAINT_DIE);
    kern.mark_oopsed(m.id);
}
