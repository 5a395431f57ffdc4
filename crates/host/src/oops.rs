//! Oopses: module code that faulted, or that the watchdog stopped (a soft
//! lockup). The host records what happened in the kernel log (the module,
//! the instruction as `module+offset` and the nearest symbol, the signal,
//! the address), taints itself and the module, and fails only the call
//! that ran the code.
//!
//! As 2.4.20+'s in-kernel ksymoops did, it then names the instruction by
//! function, offset and size from the module's kallsyms table
//! (`EIP is at hello_init+0x1c/0x40 [hello]`), and prints a call trace:
//! the words of the stack the module code ran on that are addresses of
//! module functions (or of the host's code), as 2.4's `show_trace`
//! scanned the kernel stack for text addresses. Like that trace, it may
//! list stale return addresses: every code address on the stack is shown.
//! A module without a table is named by its exports, as before.
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
use crate::state::{Module, Shared, State};

/// Most entries of a call trace in module code, and apart from them, in
/// the host's code.
const MAX_TRACE: usize = 16;

/// Names `ip` as `symbol+0xoff`: from the module's kallsyms table, else
/// from its exports and entry points.
fn symbolize(sh: &Shared, m: &Module, ip: u64) -> Option<String> {
    if let Some(syms) = &m.kallsyms {
        return syms.lookup(ip).map(|(n, off, _)| format!("{n}+{off:#x}"));
    }
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

/// `hello_init+0x1c/0x40 [hello]` for an address in a module's code (with
/// a table), `counter_bump+0x4 [counter]` (without one); `None` for an
/// address in no module's code.
fn in_module(sh: &Shared, st: &State, addr: u64) -> Option<String> {
    let m = &st.modules[st.modules.slot_containing(addr, 1)?];
    let name = String::from_utf8_lossy(&m.name);
    match &m.kallsyms {
        Some(syms) => {
            let (f, off, size) = syms.lookup(addr)?;
            Some(format!("{f}+{off:#x}/{size:#x} [{name}]"))
        }
        None => symbolize(sh, m, addr).map(|s| format!("{s} [{name}]")),
    }
}

/// The executable mappings of this process outside the module window:
/// the host's code (its program and libraries).
fn host_code(sh: &Shared) -> Vec<(u64, u64)> {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
    maps.lines()
        .filter_map(|line| {
            let mut parts = line.split_whitespace();
            let (range, perms) = (parts.next()?, parts.next()?);
            let (lo, hi) = range.split_once('-')?;
            let lo = u64::from_str_radix(lo, 16).ok()?;
            let hi = u64::from_str_radix(hi, 16).ok()?;
            (perms.as_bytes().get(2) == Some(&b'x') && !sh.kernel.in_window(lo)).then_some((lo, hi))
        })
        .collect()
}

/// The call trace of `fault`: each word of its stack that is an address
/// in a module function or in the host's code, as a line and its twin for
/// readers without privilege (host addresses hidden). At most
/// [`MAX_TRACE`] entries of each kind.
fn call_trace(sh: &Shared, st: &State, fault: &Fault) -> Vec<(String, String)> {
    let mut host: Option<Vec<(u64, u64)>> = None;
    let mut out = Vec::new();
    let (mut in_modules, mut in_host) = (0, 0);
    for &word in &fault.stack {
        if in_modules == MAX_TRACE {
            break;
        }
        if word < 0x1_0000 {
            continue;
        }
        if sh.kernel.in_window(word) {
            if let Some(place) = in_module(sh, st, word) {
                let line = format!("[<{word:016x}>] {place}");
                out.push((line.clone(), line));
                in_modules += 1;
            }
            continue;
        }
        if in_host == MAX_TRACE {
            continue;
        }
        let code = host.get_or_insert_with(|| host_code(sh));
        if code.iter().any(|&(lo, hi)| (lo..hi).contains(&word)) {
            out.push((
                format!("[<{word:016x}>] (host code)"),
                "[<(hidden)>] (host code)".to_string(),
            ));
            in_host += 1;
        }
    }
    out
}

/// Logs the `EIP is at` line and the call trace of `fault`.
fn log_trace(sh: &Shared, st: &State, fault: &Fault) {
    let kern = &sh.kernel;
    if let Some(place) = in_module(sh, st, fault.ip) {
        kern.log(KERN_ALERT, &format!("  EIP is at {place}"));
    }
    let trace = call_trace(sh, st, fault);
    if trace.is_empty() {
        kern.log(KERN_ALERT, "  Call Trace:");
    }
    for (k, (line, public)) in trace.iter().enumerate() {
        let lead = if k == 0 { "  Call Trace: " } else { "    " };
        kern.log_redacted(
            KERN_ALERT,
            &format!("{lead}{line}"),
            &format!("{lead}{public}"),
        );
    }
}

/// Records an oops of module `st.modules[idx]` during `what` (init,
/// cleanup, a timer...).
pub(crate) fn report(sh: &Shared, st: &State, idx: usize, what: &str, fault: &Fault) {
    let m = &st.modules[idx];
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
    log_trace(sh, st, fault);
    kern.log(
        KERN_ALERT,
        &format!("  {name}: {what} failed; module and host tainted (D)"),
    );
    kern.add_taint(TAINT_DIE);
    kern.mark_oopsed(m.id);
}
