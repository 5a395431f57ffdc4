//! The `/proc/modules` and `/proc/ksyms` text views (spec §7).

use umod_abi::{
    MOD_AUTOCLEAN, MOD_DELETED, MOD_INITIALIZING, MOD_RUNNING, MOD_USED_ONCE, PAGE_SIZE,
};

use crate::calls::query::{header_size, reported_usecount};
use crate::state::{Shared, State};

/// `/proc/modules`: one line per entry, newest first, cut at one page.
/// Names are bytes (2.4 never checked their charset), so the text is too.
pub(crate) fn modules(sh: &Shared, st: &State) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, m) in st.modules.iter().enumerate() {
        out.extend_from_slice(&m.name);
        out.extend(std::iter::repeat_n(
            b' ',
            20usize.saturating_sub(m.name.len()),
        ));
        out.extend(format!("{:8}", header_size(sh, st, i)).bytes());
        let f = sh.flags(m);
        if f & MOD_RUNNING != 0 {
            out.extend(format!("{:4}", reported_usecount(sh, st, i, 0)).bytes());
        }
        out.extend_from_slice(status_tag(f).as_bytes());
        if !m.refs.is_empty() {
            out.extend_from_slice(b" [");
            for (k, &(u, _)) in m.refs.iter().enumerate() {
                if k > 0 {
                    out.push(b' ');
                }
                out.extend_from_slice(st.name_of(u));
            }
            out.push(b']');
        }
        out.push(b'\n');
    }
    out.truncate(PAGE_SIZE as usize);
    out
}

/// The status words of a `/proc/modules` line.
fn status_tag(f: u64) -> String {
    if f & MOD_DELETED != 0 {
        " (deleted)".into()
    } else if f & MOD_RUNNING != 0 {
        let mut t = String::new();
        if f & MOD_AUTOCLEAN != 0 {
            t.push_str(" (autoclean)");
        }
        if f & MOD_USED_ONCE == 0 {
            t.push_str(" (unused)");
        }
        t
    } else if f & MOD_INITIALIZING != 0 {
        " (initializing)".into()
    } else {
        " (uninitialized)".into()
    }
}

/// `/proc/ksyms`: every queryable module's symbols (`value name\t[module]`),
/// newest first, then the kernel's (`value name`).
pub(crate) fn ksyms(sh: &Shared, st: &State) -> Vec<u8> {
    let mut out = Vec::new();
    for m in st.modules.iter().filter(|m| sh.can_query(m)) {
        for (value, name) in sh.module_symbols(m) {
            out.extend(format!("{value:016x} ").bytes());
            out.extend_from_slice(&name);
            out.extend_from_slice(b"\t[");
            out.extend_from_slice(&m.name);
            out.extend_from_slice(b"]\n");
        }
    }
    for s in st.exports.symbols() {
        out.extend(format!("{:016x} ", s.value).bytes());
        out.extend_from_slice(&s.name);
        out.push(b'\n');
    }
    out
}
