//! What debuggers and profilers see of the modules: each module with a
//! symbol table (see `kallsyms.rs`) is listed in the perf map
//! (`perfmap.rs`, when [`HostConfig::perf_map`] is on) and registered
//! with gdb (`jit/`, when [`HostConfig::gdb_jit`] is on) once its image
//! is in place and before its init runs, and forgotten when it leaves the
//! list.
//!
//! [`HostConfig::perf_map`]: crate::HostConfig::perf_map
//! [`HostConfig::gdb_jit`]: crate::HostConfig::gdb_jit

use std::sync::atomic::Ordering;

use umod_loader::link::DebugSection;

use crate::services::KERN_WARNING;
use crate::state::{Module, Shared, State};
use crate::{jit, perfmap};

/// Entry `idx` holds a new image: list and register it (`dwarf`: its
/// relocated debug sections, when the host has its object).
pub(crate) fn loaded(sh: &Shared, st: &mut State, idx: usize, dwarf: &[DebugSection]) {
    let m = &st.modules[idx];
    let Some(syms) = m.kallsyms.clone() else {
        // An image without a table: nothing to show (and nothing left of
        // an earlier image of the entry).
        forget_perf(sh, m.id, true);
        st.modules[idx].jit = None;
        return;
    };
    if sh.perf_map {
        if let Err(e) = perfmap::add(sh.id, m.id, &m.name, &syms) {
            perf_failed(sh, &e);
        }
    }
    st.modules[idx].jit = sh.gdb_jit.then(|| jit::register(sh, &syms, dwarf));
}

/// Entry `m` left the list: unregistered before its memory goes. While
/// the host shuts down, the perf map keeps it (see `perfmap.rs`).
pub(crate) fn removed(sh: &Shared, m: &mut Module) {
    m.jit = None;
    forget_perf(sh, m.id, !sh.stopping.load(Ordering::SeqCst));
}

fn forget_perf(sh: &Shared, id: u64, rewrite: bool) {
    if sh.perf_map {
        if let Err(e) = perfmap::remove(sh.id, id, rewrite) {
            perf_failed(sh, &e);
        }
    }
}

/// Says once per host that the perf map could not be written.
fn perf_failed(sh: &Shared, e: &std::io::Error) {
    if !sh.perf_map_failed.swap(true, Ordering::SeqCst) {
        sh.printk(
            KERN_WARNING,
            &format!(
                "umod: cannot write {}: {e}; profilers will not name module functions",
                perfmap::path().display()
            ),
        );
    }
}
