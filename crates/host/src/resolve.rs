//! Resolving names against what modules and the kernel export, in one
//! step, with the answer a 2.4 insmod's search of every `query_module`
//! table gave: the newest queryable module that exports a name wins, then
//! the kernel; a GPL-only export is found by its name without the
//! `GPLONLY_` prefix and says so.

use umod_loader::symbols::{Export, Provider, GPL_ONLY_PREFIX};
use umod_loader::SymbolSource;

use crate::state::{Shared, State};
use crate::symtab::Holder;

/// The table `names` resolve against: their definitions only, the
/// modules that provide them newest first, the kernel last.
pub(crate) fn source_for(sh: &Shared, st: &State, names: &[&[u8]]) -> SymbolSource {
    // (provider id, 0 for the kernel; name; value; GPL-only), sorted so
    // that each provider's names are together, newest first.
    let mut found: Vec<(u64, &[u8], u64, bool)> = Vec::with_capacity(names.len());
    for &name in names {
        // Prefixed names are never looked up as such: insmod stripped the
        // prefix from every name it gathered.
        if name.is_empty() || name.starts_with(GPL_ONLY_PREFIX) {
            continue;
        }
        if let Some((id, value, gpl_only)) = module_export(sh, st, name) {
            found.push((id, name, value, gpl_only));
        } else if let Some((value, gpl_only)) = st.exports.resolve(name) {
            found.push((0, name, value, gpl_only));
        }
    }
    found.sort_unstable_by_key(|f| std::cmp::Reverse(f.0));
    let mut providers: Vec<Provider> = Vec::new();
    let mut exports = Vec::with_capacity(found.len());
    let mut current = None;
    for (id, name, value, gpl_only) in found {
        if current != Some(id) {
            current = Some(id);
            let provider = match st.index_of_id(id).filter(|_| id != 0) {
                Some(slot) => Provider {
                    name: st.modules[slot].name.clone(),
                    addr: st.modules[slot].addr(),
                },
                None => Provider {
                    name: Vec::new(),
                    addr: 0,
                },
            };
            providers.push(provider);
        }
        let export = Export {
            value,
            provider: providers.len() - 1,
            gpl_only,
        };
        exports.push((name.to_vec(), export));
    }
    if current != Some(0) {
        // The kernel is always the last provider, as insmod listed it.
        providers.push(Provider {
            name: Vec::new(),
            addr: 0,
        });
    }
    SymbolSource::from_parts(providers, exports).expect("every provider is listed")
}

/// The newest queryable module that exports `name`: (id, value, GPL-only).
/// Within one module, the first entry of its table wins.
fn module_export(sh: &Shared, st: &State, name: &[u8]) -> Option<(u64, u64, bool)> {
    let mut best: Option<(u64, &Holder)> = None;
    for h in st.symbols.holders(name) {
        let m = &st.modules[h.slot as usize];
        if let Some((id, b)) = best {
            if (m.id, std::cmp::Reverse(h.index())) <= (id, std::cmp::Reverse(b.index())) {
                continue;
            }
        }
        if sh.can_query(m) {
            best = Some((m.id, h));
        }
    }
    best.map(|(id, h)| (id, h.value, h.gpl_only()))
}
