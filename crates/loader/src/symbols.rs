//! The symbols a module can link against, gathered the way a 2.4 insmod
//! gathers them: every module's exports (newest module first), then the
//! kernel's. The first definition of a name wins.

use std::collections::HashMap;
use std::sync::Arc;

use umod_abi::KernelSym;

/// Who exports a symbol.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Provider {
    /// Module name; empty for the kernel.
    pub name: Vec<u8>,
    /// Header address; 0 for the kernel.
    pub addr: u64,
}

impl Provider {
    /// Whether this is the kernel pseudo-module.
    pub fn is_kernel(&self) -> bool {
        self.name.is_empty()
    }
}

/// One exported symbol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Export {
    /// Its value.
    pub value: u64,
    /// Index into [`SymbolSource::providers`].
    pub provider: usize,
    /// Exported with `EXPORT_SYMBOL_GPL` (listed as `GPLONLY_<name>`).
    pub gpl_only: bool,
}

/// Prefix 2.4 gave GPL-only exports in symbol listings.
pub const GPL_ONLY_PREFIX: &[u8] = b"GPLONLY_";

/// Exported symbols by name.
#[derive(Clone, Debug, Default)]
pub struct SymbolSource {
    providers: Vec<Provider>,
    exports: HashMap<Vec<u8>, Export>,
    /// Consulted after this table: a host keeps its kernel's exports in one
    /// shared table instead of rebuilding it for every load.
    fallback: Option<Arc<SymbolSource>>,
}

impl SymbolSource {
    /// No symbols.
    pub fn new() -> SymbolSource {
        SymbolSource::default()
    }

    /// An empty table whose lookups fall back to `kernel` (a table of the
    /// kernel's exports) for names it does not hold.
    pub fn layered(kernel: Arc<SymbolSource>) -> SymbolSource {
        SymbolSource {
            fallback: Some(kernel),
            ..SymbolSource::default()
        }
    }

    /// Adds a module's exports (call for each module, newest first, then
    /// [`SymbolSource::add_kernel`]).
    pub fn add_module<I>(&mut self, name: &[u8], addr: u64, symbols: I)
    where
        I: IntoIterator<Item = (u64, Vec<u8>)>,
    {
        self.add(
            Provider {
                name: name.to_vec(),
                addr,
            },
            symbols,
        );
    }

    /// Adds the kernel's exports.
    pub fn add_kernel<I>(&mut self, symbols: I)
    where
        I: IntoIterator<Item = (u64, Vec<u8>)>,
    {
        self.add(
            Provider {
                name: Vec::new(),
                addr: 0,
            },
            symbols,
        );
    }

    fn add<I>(&mut self, provider: Provider, symbols: I)
    where
        I: IntoIterator<Item = (u64, Vec<u8>)>,
    {
        let index = self.providers.len();
        self.providers.push(provider);
        for (value, name) in symbols {
            let (name, gpl_only) = match name.strip_prefix(GPL_ONLY_PREFIX) {
                Some(rest) => (rest.to_vec(), true),
                None => (name, false),
            };
            self.exports.entry(name).or_insert(Export {
                value,
                provider: index,
                gpl_only,
            });
        }
    }

    /// Builds the table from a `get_kernel_syms` dump (the old interface):
    /// the entries after each `#name` tag belong to that module, those
    /// after the bare `#` to the kernel.
    pub fn from_kernel_syms(table: &[KernelSym]) -> SymbolSource {
        /// A module's tag entry (name, address) and the symbols after it.
        type Group = ((Vec<u8>, u64), Vec<(u64, Vec<u8>)>);
        let mut groups: Vec<Group> = Vec::new();
        for entry in table {
            let name = entry.name_bytes();
            if let Some(module) = name.strip_prefix(b"#") {
                groups.push(((module.to_vec(), entry.value), Vec::new()));
            } else if let Some((_, syms)) = groups.last_mut() {
                syms.push((entry.value, name.to_vec()));
            }
        }
        let mut source = SymbolSource::new();
        for ((name, addr), syms) in groups {
            if name.is_empty() {
                source.add_kernel(syms);
            } else {
                source.add_module(&name, addr, syms);
            }
        }
        source
    }

    /// A table made of what [`SymbolSource::providers`] and
    /// [`SymbolSource::exports`] listed (a module host's answer to a
    /// resolution request, as it travelled). `None` when an export names a
    /// provider that is not listed.
    pub fn from_parts(
        providers: Vec<Provider>,
        exports: impl IntoIterator<Item = (Vec<u8>, Export)>,
    ) -> Option<SymbolSource> {
        let mut map = HashMap::new();
        for (name, export) in exports {
            if export.provider >= providers.len() {
                return None;
            }
            map.entry(name).or_insert(export);
        }
        Some(SymbolSource {
            providers,
            exports: map,
            fallback: None,
        })
    }

    /// Every name this table (not its fallback) exports, with its export,
    /// in no particular order.
    pub fn exports(&self) -> impl Iterator<Item = (&[u8], Export)> + '_ {
        self.exports.iter().map(|(n, e)| (&n[..], *e))
    }

    /// Looks a name up (then in the fallback table, if any). The export's
    /// `provider` indexes the providers of the table that held it.
    pub fn lookup(&self, name: &[u8]) -> Option<(Export, &Provider)> {
        match self.exports.get(name) {
            Some(e) => Some((*e, &self.providers[e.provider])),
            None => self.fallback.as_deref()?.lookup(name),
        }
    }

    /// Every provider of this table (not of its fallback), in the order added.
    pub fn providers(&self) -> &[Provider] {
        &self.providers
    }

    /// Number of distinct exported names.
    pub fn len(&self) -> usize {
        self.exports.len()
    }

    /// Whether nothing is exported.
    pub fn is_empty(&self) -> bool {
        self.exports.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_definition_wins_and_gpl_prefix_is_stripped() {
        let mut s = SymbolSource::new();
        s.add_module(b"newer", 0x2000, vec![(0x2100, b"shared".to_vec())]);
        s.add_module(
            b"older",
            0x1000,
            vec![
                (0x1100, b"shared".to_vec()),
                (0x1200, b"GPLONLY_gpl_fn".to_vec()),
            ],
        );
        s.add_kernel(vec![(0x9000, b"printk".to_vec())]);
        let (e, p) = s.lookup(b"shared").unwrap();
        assert_eq!((e.value, &p.name[..]), (0x2100, &b"newer"[..]));
        let (e, p) = s.lookup(b"gpl_fn").unwrap();
        assert!(e.gpl_only);
        assert_eq!(p.addr, 0x1000);
        assert!(s.lookup(b"printk").unwrap().1.is_kernel());
        assert!(s.lookup(b"GPLONLY_gpl_fn").is_none());
    }

    #[test]
    fn split_at_tags() {
        let table = [
            KernelSym::tag(0x1000, b"mod"),
            KernelSym::symbol(0x1010, b"mod_fn"),
            KernelSym::tag(0x9000, b""),
            KernelSym::symbol(0x9010, b"printk"),
        ];
        let s = SymbolSource::from_kernel_syms(&table);
        assert_eq!(s.lookup(b"mod_fn").unwrap().1.addr, 0x1000);
        assert!(s.lookup(b"printk").unwrap().1.is_kernel());
        assert_eq!(s.providers().len(), 2);
    }
}
