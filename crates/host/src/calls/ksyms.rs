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
    let mut entries: Vec<KernelSym> = Vec::new();
    for m in st.modules.iter().filter(|m| sh.can_query(m)) {
        entries.push(KernelSym::tag(m.addr(), &m.name));
        for (value, name) in sh.module_symbols(m) {
            entries.push(KernelSym::symbol(value, &name));
        }
    }
    // The kernel's tag carries the address of its "image", the kernel area.
    entries.push(KernelSym::tag(sh.window.kernel_base(), b""));
    for s in st.exports.symbols() {
        entries.push(KernelSym::symbol(s.value, &s.name));
    }
    let mut written = 0i64;
    for (i, e) in entries.iter().enumerate() {
        let at = table.wrapping_add(i as u64 * KernelSym::SIZE as u64);
        if mem.write(at, &e.encode()).is_err() {
            break;
        }
        written += 1;
    }
    written
}
