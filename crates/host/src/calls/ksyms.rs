//! `get_kernel_syms(table)`: the old, unbounded symbol dump.

use umod_abi::KernelSym;

use crate::state::{Shared, State};
use umod_abi::user::UserMemory;

/// Spec §6. With `table == 0`, the number of entries of every list entry
/// (kernel included, queryable or not) plus one tag each. Otherwise writes
/// a `#name` tag and the symbols of every queryable entry, newest first and
/// the kernel last, and returns how many entries it wrote; a faulting write
/// ends the dump with the partial count.
pub(crate) fn get_kernel_syms(
    sh: &Shared,
    st: &State,
    mem: &mut dyn UserMemory,
    table: u64,
) -> i64 {
    if table == 0 {
        let modules: u64 = st
            .modules
            .iter()
            .map(|m| u64::from(m.image.nsyms) + 1)
            .sum();
        return (modules + st.exports.symbols().len() as u64 + 1) as i64;
    }
    // Written as they are read, the caller's table being the only copy.
    let mut written = 0i64;
    let mut put = |e: KernelSym| {
        let at = table.wrapping_add(written as u64 * KernelSym::SIZE as u64);
        let ok = mem.write(at, &e.encode()).is_ok();
        written += i64::from(ok);
        ok
    };
    for m in st.modules.iter().filter(|m| sh.can_query(m)) {
        if !put(KernelSym::tag(m.addr(), &m.name)) {
            return written;
        }
        for i in 0..m.image.nsyms {
            let Some((value, name)) = sh.module_symbol(m, i) else {
                break;
            };
            if !put(KernelSym::symbol(value, &name)) {
                return written;
            }
        }
    }
    // The kernel's tag carries the address of its "image", the kernel area.
    if !put(KernelSym::tag(sh.window.kernel_base(), b"")) {
        return written;
    }
    for s in st.exports.symbols() {
        if !put(KernelSym::symbol(s.value, &s.name)) {
            break;
        }
    }
    written
}
