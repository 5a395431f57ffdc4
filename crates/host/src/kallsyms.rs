//! Each module's symbol table, read from the `__kallsyms` table of its
//! image (`umod_abi::kallsyms`) when `init_module` accepts the image, and
//! kept in host memory: the image lies in module memory, which the module
//! may scribble on afterwards. Oopses name functions from it, the perf map
//! lists it, and the debugger's view of the module is built from it.
//!
//! A function is a symbol of a code section; its size runs to the next
//! symbol of its section, or to the section's end (as 2.4's
//! `kallsyms_address_to_symbol` measured it). Aliases (`init_module` is
//! one of `hello_init` under `module_init`) name one function: the first
//! name other than `init_module` and `cleanup_module`.
//!
//! An image without a table (unmodified 2.4 insmods build none) has no
//! such list: its oopses name the nearest export, as before.

use std::sync::Arc;

use umod_abi::kallsyms::{self, TableError};

/// A function of a loaded module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModuleFunction {
    /// Its load address.
    pub start: u64,
    /// Bytes up to the next symbol of its section, or the section's end.
    pub size: u64,
    /// Its name (bytes that are not UTF-8 replaced).
    pub name: String,
}

/// A loaded section, as the table lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LoadedSection {
    pub name: String,
    pub start: u64,
    pub size: u64,
    /// `sh_flags` (low 32 bits).
    pub flags: u32,
}

impl LoadedSection {
    /// Has no bytes in the object (`.bss` and friends, by name: the
    /// table keeps no section type).
    pub fn is_nobits(&self) -> bool {
        self.name.starts_with(".bss") || self.name.starts_with(".tbss")
    }
}

/// One function: where it is, and its name in [`Symbols::names`].
#[derive(Clone, Copy, Debug)]
struct Function {
    start: u64,
    size: u64,
    name: (u32, u32),
}

/// A module's symbol table, checked against its block.
#[derive(Debug, Default)]
pub(crate) struct Symbols {
    /// By start address; none overlaps the next within a section.
    functions: Vec<Function>,
    names: String,
    pub sections: Vec<LoadedSection>,
}

impl Symbols {
    /// Reads the table `bytes` of an image whose block is
    /// `[base, base + size)`. Every section must lie inside the block.
    pub fn parse(bytes: &[u8], base: u64, size: u64) -> Result<Symbols, TableError> {
        let table = kallsyms::decode(bytes)?;
        let lossy = |n| String::from_utf8_lossy(table.name(n)).into_owned();
        let mut sections = Vec::with_capacity(table.sections.len());
        for (k, s) in table.sections.iter().enumerate() {
            let inside = s.start >= base
                && s.start
                    .checked_add(s.size)
                    .is_some_and(|e| e <= base + size);
            if !inside {
                return Err(TableError(format!(
                    "section {k} ({}) at {:#x}, {} bytes, lies outside the module",
                    lossy(s.name),
                    s.start,
                    s.size
                )));
            }
            sections.push(LoadedSection {
                name: lossy(s.name),
                start: s.start,
                size: s.size,
                flags: s.flags,
            });
        }
        // The symbols of each code section, in address order (the table
        // sorted them), one name per address.
        let mut by_section: Vec<Vec<usize>> = vec![Vec::new(); sections.len()];
        for (k, sym) in table.symbols.iter().enumerate() {
            let sec = sym.section as usize;
            if !table.sections[sec].is_code() {
                continue;
            }
            let list = &mut by_section[sec];
            match list.last() {
                Some(&prev) if table.symbols[prev].addr == sym.addr => {
                    let generic = |n| matches!(table.name(n), b"init_module" | b"cleanup_module");
                    if generic(table.symbols[prev].name) && !generic(sym.name) {
                        *list.last_mut().expect("just seen") = k;
                    }
                }
                _ => list.push(k),
            }
        }
        let mut out = Symbols {
            sections,
            ..Symbols::default()
        };
        for (sec, list) in by_section.iter().enumerate() {
            let end = table.sections[sec].start + table.sections[sec].size;
            for (j, &k) in list.iter().enumerate() {
                let sym = &table.symbols[k];
                let next = list.get(j + 1).map_or(end, |&n| table.symbols[n].addr);
                if next <= sym.addr {
                    continue; // a label at the section's end
                }
                let from = u32::try_from(out.names.len()).expect("names are bounded");
                out.names
                    .push_str(&String::from_utf8_lossy(table.name(sym.name)));
                let len = u32::try_from(out.names.len()).expect("names are bounded") - from;
                out.functions.push(Function {
                    start: sym.addr,
                    size: next - sym.addr,
                    name: (from, len),
                });
            }
        }
        out.functions.sort_unstable_by_key(|f| f.start);
        Ok(out)
    }

    fn name_of(&self, f: &Function) -> &str {
        &self.names[f.name.0 as usize..(f.name.0 + f.name.1) as usize]
    }

    /// The function holding `addr`: its name, `addr`'s offset in it, and
    /// its size.
    pub fn lookup(&self, addr: u64) -> Option<(&str, u64, u64)> {
        let i = self.functions.partition_point(|f| f.start <= addr);
        let f = self.functions.get(i.checked_sub(1)?)?;
        (addr - f.start < f.size).then(|| (self.name_of(f), addr - f.start, f.size))
    }

    /// Every function, by address.
    pub fn functions(&self) -> impl Iterator<Item = (u64, u64, &str)> + '_ {
        self.functions
            .iter()
            .map(|f| (f.start, f.size, self.name_of(f)))
    }
}

/// The table of an image, if it has one: `Ok(None)` without one, `Err`
/// naming what is wrong with a bad one. `read` copies `len` bytes at an
/// address inside the image (whose range `check_header` bounded).
pub(crate) fn of_image(
    h: &umod_abi::ModuleHeader,
    base: u64,
    read: impl FnOnce(u64, usize) -> Vec<u8>,
) -> Result<Option<Arc<Symbols>>, TableError> {
    if !h.has_kallsyms() || h.kallsyms_end == 0 || h.kallsyms_start >= h.kallsyms_end {
        return Ok(None);
    }
    let len = umod_abi::usize_of(h.kallsyms_end - h.kallsyms_start);
    let bytes = read(h.kallsyms_start, len);
    Symbols::parse(&bytes, base, h.size).map(|s| Some(Arc::new(s)))
}
