//! Symbol resolution: every undefined symbol of the object against the
//! exports gathered from the host, modules first, then the kernel.

use crate::elf::{Object, Place};
use crate::error::LoadError;
use crate::modinfo::ModInfo;
use crate::symbols::{Provider, SymbolSource};

/// Names the loader itself defines rather than looking up.
pub const THIS_MODULE: &[u8] = b"__this_module";
/// The GOT base symbol of PIC code.
pub const GLOBAL_OFFSET_TABLE: &[u8] = b"_GLOBAL_OFFSET_TABLE_";

/// The outcome of resolution.
#[derive(Clone, Debug, Default)]
pub struct Resolution {
    /// Values of undefined symbols, indexed by symbol (an unresolved weak
    /// symbol is `Some(0)`; defined and special symbols are `None`).
    pub externals: Vec<Option<u64>>,
    /// Modules that supplied at least one symbol, in the order the host
    /// listed them (newest first): the module's dependencies.
    pub deps: Vec<Provider>,
}

/// Resolves every undefined symbol of `object`, building the table of
/// externals in `externals` (whatever it held; only its capacity is reused).
pub fn resolve_in(
    object: &Object<'_>,
    modinfo: &ModInfo,
    source: &SymbolSource,
    mut externals: Vec<Option<u64>>,
) -> Result<Resolution, LoadError> {
    externals.clear();
    externals.resize(object.symbols.len(), None);
    let mut used = vec![false; source.providers().len()];
    let mut unresolved = Vec::new();
    for (i, sym) in object.symbols.iter().enumerate().skip(1) {
        if sym.place != Place::Undefined || sym.name.is_empty() {
            continue;
        }
        if sym.name == THIS_MODULE || sym.name == GLOBAL_OFFSET_TABLE {
            continue;
        }
        match source.lookup(sym.name) {
            Some((export, _)) if export.gpl_only && !modinfo.is_gpl_compatible() => {
                if sym.is_weak() {
                    externals[i] = Some(0);
                    continue;
                }
                return Err(LoadError::GplOnly {
                    symbol: sym.display_name(),
                    license: modinfo.license().map(str::to_string),
                });
            }
            Some((export, provider)) => {
                if !provider.is_kernel() {
                    if let Some(k) = source.providers().iter().position(|p| p == provider) {
                        used[k] = true;
                    }
                }
                externals[i] = Some(export.value);
            }
            None if sym.is_weak() => {
                externals[i] = Some(0);
            }
            None => unresolved.push(sym.display_name()),
        }
    }
    if !unresolved.is_empty() {
        return Err(LoadError::Unresolved(unresolved));
    }
    let deps = source
        .providers()
        .iter()
        .zip(&used)
        .filter(|(p, &u)| u && !p.is_kernel())
        .map(|(p, _)| p.clone())
        .collect();
    Ok(Resolution { externals, deps })
}
