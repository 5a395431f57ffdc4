//! Modules a debugger can see: gdb's JIT interface. Each module with a
//! symbol table gets an in-memory object file at its load addresses
//! ([`elf`]), registered before its init runs (so a pending breakpoint in
//! init is hit) and unregistered when it goes ([`Registration`]'s drop:
//! removal, a failed load, a new image over the entry).
//!
//! gdb writes a software breakpoint into the code it stops at, and the
//! kernel lets a debugger write only into private mappings: module code
//! in the default window (one memory file mapped twice, shared) takes
//! hardware breakpoints only (`hbreak`, four at a time). A host created
//! under a debugger maps its window once instead (as
//! `HostConfig::single_view_window`), where `break` works.

mod descriptor;
mod elf;

pub(crate) use descriptor::Registration;

use umod_loader::link::DebugSection;

use crate::kallsyms::Symbols;
use crate::state::Shared;

/// Builds a module's object file from its symbol table `syms`, the bytes
/// of its sections as they are now, and `dwarf` (its relocated debug
/// sections, when the host has its object), and registers it.
pub(crate) fn register(sh: &Shared, syms: &Symbols, dwarf: &[DebugSection]) -> Registration {
    // The table's sections lie inside the block (checked when it was read).
    let contents: Vec<Option<Vec<u8>>> = syms
        .sections
        .iter()
        .map(|s| {
            (!s.is_nobits()).then(|| {
                let mut bytes = vec![0u8; umod_abi::usize_of(s.size)];
                sh.window.mapping().read(s.start, &mut bytes);
                bytes
            })
        })
        .collect();
    let mut sections: Vec<elf::Section<'_>> = syms
        .sections
        .iter()
        .zip(&contents)
        .map(|(s, data)| elf::Section {
            name: &s.name,
            addr: s.start,
            size: s.size,
            flags: u64::from(s.flags),
            data: data.as_deref(),
        })
        .collect();
    sections.extend(dwarf.iter().map(|d| elf::Section {
        name: &d.name,
        addr: 0,
        size: d.data.len() as u64,
        flags: 0,
        data: Some(&d.data),
    }));
    let functions: Vec<elf::Function<'_>> = syms.functions().collect();
    Registration::register(elf::build(&sections, &functions))
}

/// Whether a debugger (or any tracer) is attached to this process now.
pub(crate) fn debugger_attached() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("TracerPid:"))
                .map(|pid| pid.trim() != "0")
        })
        .unwrap_or(false)
}
