//! Resolving names against what modules and the kernel export, in one
//! step, with the answer a 2.4 insmod's search of every `query_module`
//! table gave: the newest queryable module that exports a name wins, then
//! the kernel; a GPL-only export is found by its name without the
//! `GPLONLY_` prefix and says so.

use std::collections::{BTreeMap, HashSet};

use umod_loader::symbols::{Export, Provider, GPL_ONLY_PREFIX};
use umod_loader::SymbolSource;

use crate::state::{Shared, State};

/// The table `names` resolve against: their definitions only, the
/// modules that provide them newest first, the kernel last.
pub(crate) fn source_for(sh: &Shared, st: &State, names: &[&[u8]]) -> SymbolSource {
    let mut seen = HashSet::new();
    let mut from_modules: BTreeMap<u64, Vec<(Vec<u8>, u64, bool)>> = BTreeMap::new();
    let mut from_kernel = Vec::new();
    for &name in names {
        // Prefixed names are never looked up as such: insmod stripped the
        // prefix from every name it gathered.
        if name.is_empty() || name.starts_with(GPL_ONLY_PREFIX) || !seen.insert(name) {
            continue;
        }
        if let Some((id, value, gpl_only)) = module_export(sh, st, name) {
            from_modules
                .entry(id)
                .or_default()
                .push((name.to_vec(), value, gpl_only));
        } else if let Some((value, gpl_only)) = st.exports.resolve(name) {
            from_kernel.push((name.to_vec(), value, gpl_only));
        }
    }
    let mut providers = Vec::with_capacity(from_modules.len() + 1);
    let mut exports = Vec::new();
    let groups = from_modules.into_iter().rev().filter_map(|(id, syms)| {
        let m = &st.modules[st.index_of_id(id)?];
        Some((m.name.clone(), m.addr(), syms))
    });
    for (name, addr, syms) in groups.chain([(Vec::new(), 0, from_kernel)]) {
        let provider = providers.len();
        providers.push(Provider { name, addr });
        for (sym, value, gpl_only) in syms {
            let export = Export {
                value,
                provider,
                gpl_only,
            };
            exports.push((sym, export));
        }
    }
    SymbolSource::from_parts(providers, exports).expect("every provider is listed")
}

/// The newest queryable module that exports `name`: (id, value, GPL-only).
/// Within one module, the first entry of its table wins.
fn module_export(sh: &Shared, st: &State, name: &[u8]) -> Option<(u64, u64, bool)> {
    let mut best: Option<(u64, u32, u64, bool)> = None;
    for h in st.symbols.candidates(name) {
        if let Some((id, index, ..)) = best {
            if (h.id, std::cmp::Reverse(h.index)) <= (id, std::cmp::Reverse(index)) {
                continue;
            }
        }
        let Some(slot) = st.index_of_id(h.id) else {
            continue;
        };
        let m = &st.modules[slot];
        if !sh.can_query(m) {
            continue;
        }
        let Some((value, live)) = sh.module_symbol(m, h.index) else {
            continue;
        };
        let gpl_only = match live.strip_prefix(GPL_ONLY_PREFIX) {
            _ if live == name => false,
            Some(rest) if rest == name => true,
            _ => continue,
        };
        best = Some((h.id, h.index, value, gpl_only));
    }
    best.map(|(id, _, value, gpl_only)| (id, value, gpl_only))
}
