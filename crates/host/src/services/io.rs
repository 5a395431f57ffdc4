//! Port I/O and `ioremap` on a bus with no devices (2.4's `asm/io.h`):
//! the C entry points are in `io.c`. The kit keeps `readb`..`writeq`
//! inline pointer accesses, so using the NULL `ioremap` gives oopses the
//! module, not the host.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, OnceLock};

use super::context;

/// Whether this is the calling host's first `ioremap` (it is logged once).
#[no_mangle]
pub extern "C" fn umod_io_first_ioremap() -> i32 {
    static SEEN: OnceLock<Mutex<HashSet<u64>>> = OnceLock::new();
    let tag = context::current().map_or(0, |f| Arc::as_ptr(&f.kernel) as u64);
    let mut seen = SEEN
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    i32::from(seen.insert(tag))
}

macro_rules! entry_points {
    ($($name:ident),* $(,)?) => {
        extern "C" {
            $(fn $name();)*
        }
    };
}

entry_points!(
    umod_inb,
    umod_inw,
    umod_inl,
    umod_outb,
    umod_outw,
    umod_outl,
    umod_insb,
    umod_insw,
    umod_insl,
    umod_outs,
    umod_ioremap,
    umod___ioremap,
    umod_iounmap,
);

/// The I/O services' exports. The `_p` (pausing) forms are the same
/// calls: there is no bus to wait for.
pub fn functions() -> Vec<(&'static str, usize)> {
    vec![
        ("inb", umod_inb as *const () as usize),
        ("inw", umod_inw as *const () as usize),
        ("inl", umod_inl as *const () as usize),
        ("outb", umod_outb as *const () as usize),
        ("outw", umod_outw as *const () as usize),
        ("outl", umod_outl as *const () as usize),
        ("inb_p", umod_inb as *const () as usize),
        ("inw_p", umod_inw as *const () as usize),
        ("inl_p", umod_inl as *const () as usize),
        ("outb_p", umod_outb as *const () as usize),
        ("outw_p", umod_outw as *const () as usize),
        ("outl_p", umod_outl as *const () as usize),
        ("insb", umod_insb as *const () as usize),
        ("insw", umod_insw as *const () as usize),
        ("insl", umod_insl as *const () as usize),
        ("outsb", umod_outs as *const () as usize),
        ("outsw", umod_outs as *const () as usize),
        ("outsl", umod_outs as *const () as usize),
        ("ioremap", umod_ioremap as *const () as usize),
        ("ioremap_nocache", umod_ioremap as *const () as usize),
        ("__ioremap", umod___ioremap as *const () as usize),
        ("iounmap", umod_iounmap as *const () as usize),
    ]
}
