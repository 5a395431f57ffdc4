//! Linking: resolve, plan parameters and exports, lay out, then relocate
//! for a base address into a ready 2.4 image (header + sections).
//!
//! [`Plan`] is everything that does not depend on the base address; the
//! 2.4 path makes it, asks `create_module` for `plan.size()` bytes, then
//! calls [`Plan::relocate`] with the address it got.

use umod_abi::module::MODULE_HEADER_SIZE;
use umod_abi::usize_of;
use umod_abi::{ModuleHeader, ModuleRef, ModuleSymbol, MOD_AUTOCLEAN};

use crate::elf::{Object, Place};
use crate::error::LoadError;
use crate::layout::{self, default_exports_in, export_table, ExportTable, Extras, Layout, Segment};
use crate::modinfo::ModInfo;
use crate::params::{self, ParamPlan, ParamWrite};
use crate::resolve::{self, Resolution, GLOBAL_OFFSET_TABLE, THIS_MODULE};
use crate::symbols::{Provider, SymbolSource};
use crate::x86_64::{apply_common, classify, compute, Formula, Inputs, Run};

mod debug;
mod kallsyms;
pub use debug::DebugSection;
use kallsyms::KallsymsPlan;

/// Choices that change the image.
#[derive(Clone, Debug)]
pub struct LinkOptions {
    /// Set `MOD_AUTOCLEAN` in the header (`insmod -k`).
    pub autoclean: bool,
    /// Export nothing when the object has no `__ksymtab` (`insmod -x`).
    pub no_default_exports: bool,
    /// Lay the image out W^X: code, constants and data in pages of their
    /// own, and a table of them in `archdata` for the host (both paths
    /// map such an image W^X). Off, the image is one flat blob, as 2.4's
    /// insmod made it, which a host maps read-write-execute.
    pub wx: bool,
}

impl Default for LinkOptions {
    /// W^X, no autoclean, default exports.
    fn default() -> LinkOptions {
        LinkOptions {
            autoclean: false,
            no_default_exports: false,
            wx: true,
        }
    }
}

/// Marks a symbol whose address cannot be known (its section is not loaded).
const UNLOADED: u64 = u64::MAX;

/// A linked module, ready to be relocated for any base.
#[derive(Clone, Debug)]
pub struct Plan<'a> {
    object: &'a Object<'a>,
    name: Vec<u8>,
    resolution: Resolution,
    params: ParamPlan,
    exports: ExportTable,
    generated_exports: Vec<usize>,
    layout: Layout,
    options: LinkOptions,
    /// Offsets in the string area: module name, generated export names,
    /// parameter strings.
    string_offsets: StringOffsets,
    string_bytes: Vec<u8>,
    /// The `__kallsyms` table to write, unless the object has its own.
    kallsyms: Option<KallsymsPlan>,
}

#[derive(Clone, Debug, Default)]
struct StringOffsets {
    name: u64,
    /// Where the copy of the symbol string table starts, when generated
    /// exports name their symbols in it.
    strtab: u64,
    params: Vec<u64>,
}

/// The large per-symbol buffers of a [`Plan`], kept between loads by a
/// host that loads many modules: a module of 10 000 symbols needs close
/// to a megabyte of them, and memory that malloc gives back to the system
/// between two loads costs a page fault per page on the next.
#[derive(Debug, Default)]
pub struct Workspace {
    externals: Vec<Option<u64>>,
    layout: Layout,
    exports: Vec<usize>,
    strings: Vec<u8>,
    kallsyms: Vec<usize>,
}

/// One line of the load map (`insmod -m`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapEntry {
    /// Section or symbol name.
    pub name: String,
    /// Absolute address.
    pub addr: u64,
    /// Size in bytes.
    pub size: u64,
}

/// A relocated image and what the host and tools need to know about it.
#[derive(Clone, Debug)]
pub struct Image {
    /// The bytes `init_module` receives (`header.size` of them).
    pub bytes: Vec<u8>,
    /// The header as written at offset 0.
    pub header: ModuleHeader,
    /// Ranges and their protection, relative to the base.
    pub segments: Vec<Segment>,
    /// Number of relocations applied.
    pub relocations: usize,
}

/// Where everything went (`insmod -m`), built on request only.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoadMap {
    /// Loaded sections in address order.
    pub sections: Vec<MapEntry>,
    /// Defined global symbols in address order.
    pub symbols: Vec<MapEntry>,
}

impl<'a> Plan<'a> {
    /// Resolves, plans parameters and exports, and lays the module out,
    /// building its tables in the buffers of `ws` (see [`Workspace`];
    /// [`Plan::into_workspace`] gives them back).
    pub fn new(
        object: &'a Object<'a>,
        name: &str,
        modinfo: &ModInfo,
        symbols: &SymbolSource,
        args: &[String],
        options: &LinkOptions,
        ws: Workspace,
    ) -> Result<Plan<'a>, LoadError> {
        let resolution = resolve::resolve_in(object, modinfo, symbols, ws.externals)?;
        let params = params::plan(object, modinfo, args)?;
        let exports = export_table(object);
        let mut generated_exports = ws.exports;
        generated_exports.clear();
        if exports == ExportTable::AllGlobals && !options.no_default_exports {
            default_exports_in(object, &mut generated_exports);
        }
        let mut string_bytes = ws.strings;
        string_bytes.clear();
        let mut offsets = StringOffsets::default();
        let mut push = |bytes: &[u8]| {
            let at = string_bytes.len() as u64;
            string_bytes.extend_from_slice(bytes);
            string_bytes.push(0);
            at
        };
        offsets.name = push(name.as_bytes());
        if !generated_exports.is_empty() {
            // The exported names are strings of the image: the symbol
            // string table goes in whole (one copy, rather than one per
            // name; it may also hold local names). Its last name ends in
            // its own NUL; `push` adds one more.
            offsets.strtab = push(object.strtab);
        }
        for s in &params.strings {
            offsets.params.push(push(s));
        }
        let mut kallsyms = KallsymsPlan::new(object, ws.kallsyms)?;
        let extras = Extras {
            exports: generated_exports.len(),
            strings: string_bytes.len() as u64,
            deps: resolution.deps.len(),
            wx: options.wx,
            kallsyms: kallsyms.as_ref().map_or(0, KallsymsPlan::size),
        };
        let layout = layout::layout_in(object, &resolution.externals, &extras, ws.layout)?;
        if let Some(k) = &mut kallsyms {
            k.sort(object, &layout);
        }
        Ok(Plan {
            object,
            name: name.as_bytes().to_vec(),
            resolution,
            params,
            exports,
            generated_exports,
            layout,
            options: options.clone(),
            string_offsets: offsets,
            string_bytes,
            kallsyms,
        })
    }

    /// The buffers of this plan, to build the next one in.
    pub fn into_workspace(self) -> Workspace {
        Workspace {
            externals: self.resolution.externals,
            layout: self.layout,
            exports: self.generated_exports,
            strings: self.string_bytes,
            kallsyms: self.kallsyms.map(|k| k.symbols).unwrap_or_default(),
        }
    }

    /// Bytes to ask `create_module` for.
    pub fn size(&self) -> u64 {
        self.layout.size
    }

    /// Modules this one uses (its `deps`).
    pub fn deps(&self) -> &[Provider] {
        &self.resolution.deps
    }

    /// The layout.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Absolute address of symbol `i` for an image at `base`.
    fn symbol_value(&self, i: usize, base: u64) -> Result<u64, LoadError> {
        self.address_of(i, base).ok_or_else(|| {
            let sym = &self.object.symbols[i];
            let section = match sym.place {
                Place::Section(s) => self.object.sections[s].name,
                _ => "?",
            };
            LoadError::BadSymbol {
                symbol: sym.display_name(),
                problem: format!("lies in section {section}, which is not loaded"),
            }
        })
    }

    /// [`Plan::symbol_value`] without the error: `None` for a symbol of a
    /// section that is not loaded. Runs once per symbol of every load.
    #[inline]
    fn address_of(&self, i: usize, base: u64) -> Option<u64> {
        let sym = &self.object.symbols[i];
        Some(match sym.place {
            Place::Section(s) => base + self.layout.sections[s]? + sym.value,
            Place::Absolute => sym.value,
            Place::Common => base + self.layout.commons[i].expect("COMMON placed"),
            Place::Undefined => match self.resolution.externals[i] {
                Some(value) => value,
                None if sym.name == THIS_MODULE => base,
                None if sym.name == GLOBAL_OFFSET_TABLE => base + self.layout.got.unwrap_or(0),
                None => 0,
            },
        })
    }

    /// The address symbol number `index` has in an image at `base`.
    pub fn symbol_address(&self, index: usize, base: u64) -> Result<u64, LoadError> {
        self.symbol_value(index, base)
    }

    fn named_value(&self, name: &[u8], base: u64) -> Result<u64, LoadError> {
        match self.object.find_symbol(name) {
            Some(i) => self.symbol_value(i, base),
            None => Ok(0),
        }
    }

    fn section_range(&self, name: &str, base: u64) -> (u64, u64) {
        match self.object.section_index(name) {
            Some(i) => match self.layout.sections[i] {
                Some(off) => (base + off, base + off + self.object.sections[i].size),
                None => (0, 0),
            },
            None => (0, 0),
        }
    }

    /// Builds the image for an entry whose header is at `base`.
    pub fn relocate(&self, base: u64) -> Result<Image, LoadError> {
        let mut bytes = vec![0u8; usize_of(self.layout.size)];
        let (header, relocations) = self.relocate_into(&mut bytes, base)?;
        Ok(Image {
            bytes,
            header,
            segments: self.layout.segments.clone(),
            relocations,
        })
    }

    /// Builds the image for `base` in `img` (exactly [`Plan::size`] bytes,
    /// whatever they held: every byte is written). Returns the header and
    /// the number of relocations applied.
    pub fn relocate_into(
        &self,
        img: &mut [u8],
        base: u64,
    ) -> Result<(ModuleHeader, usize), LoadError> {
        let l = &self.layout;
        assert_eq!(img.len() as u64, l.size, "image buffer of the planned size");
        // Section bytes, and zero everywhere else (padding, .bss, and the
        // areas written below): each byte of the block is written once.
        let mut copied: Vec<(usize, &[u8])> = Vec::with_capacity(self.object.sections.len());
        for (i, s) in self.object.sections.iter().enumerate() {
            if let (Some(off), false) = (l.sections[i], s.is_nobits()) {
                copied.push((usize_of(off), s.data));
            }
        }
        copied.sort_unstable_by_key(|&(off, _)| off);
        let mut zeroed = 0;
        for (off, data) in copied {
            if off > zeroed {
                img[zeroed..off].fill(0);
            }
            img[off..off + data.len()].copy_from_slice(data);
            // Empty sections may share an offset with the next one.
            zeroed = zeroed.max(off + data.len());
        }
        img[zeroed..].fill(0);
        let addrs = self.symbol_addresses(base);
        let addr_of = |sym: usize| -> Result<u64, LoadError> {
            match addrs[sym] {
                UNLOADED => self.symbol_value(sym, base),
                a => Ok(a),
            }
        };
        let put = |img: &mut [u8], at: u64, bytes: &[u8]| {
            let at = usize_of(at);
            img[at..at + bytes.len()].copy_from_slice(bytes);
        };
        put(img, l.strings, &self.string_bytes);
        if let Some(at) = l.archdata {
            put(img, at, &self.segment_table());
        }
        if let (Some(k), Some(at)) = (&self.kallsyms, l.kallsyms) {
            let at = usize_of(at);
            k.write(self.object, l, base, &mut img[at..at + usize_of(k.size())]);
        }
        if let Some(got) = l.got {
            for (k, &sym) in l.got_order.iter().enumerate() {
                put(img, got + 8 * k as u64, &addr_of(sym)?.to_le_bytes());
            }
        }
        for &sym in &l.stub_order {
            let at = l.stubs[sym].expect("stub placed");
            put(img, at, &[0xff, 0x25, 0, 0, 0, 0]);
            put(img, at + 6, &addr_of(sym)?.to_le_bytes());
            put(img, at + 14, &[0xcc, 0xcc]);
        }
        if let Some((at, n)) = l.ksymtab {
            // `module_symbol` entries: value, then the name's address.
            let table = &mut img[usize_of(at)..usize_of(at) + 16 * n];
            let names = base + l.strings + self.string_offsets.strtab;
            for (entry, &sym) in table.chunks_exact_mut(16).zip(&self.generated_exports) {
                let name = names + u64::from(self.object.symbols[sym].name_offset);
                entry[..8].copy_from_slice(&addr_of(sym)?.to_le_bytes());
                entry[8..].copy_from_slice(&name.to_le_bytes());
            }
        }
        for (k, dep) in self.resolution.deps.iter().enumerate() {
            let r = ModuleRef {
                dep: dep.addr,
                r#ref: base,
                next_ref: 0,
            };
            put(img, l.kmodtab + 24 * k as u64, &r.encode());
        }
        let relocations = self.apply_relocations(img, base, &addrs)?;
        for w in &self.params.writes {
            match w {
                ParamWrite::Bytes {
                    section,
                    offset,
                    bytes,
                } => {
                    let at = l.sections[*section].expect("parameter in a loaded section") + offset;
                    put(img, at, bytes);
                }
                ParamWrite::StringPointer {
                    section,
                    offset,
                    string,
                } => {
                    let at = l.sections[*section].expect("parameter in a loaded section") + offset;
                    let ptr = base + l.strings + self.string_offsets.params[*string];
                    put(img, at, &ptr.to_le_bytes());
                }
            }
        }
        let header = self.header(base)?;
        put(img, 0, &header.encode());
        Ok((header, relocations))
    }

    /// Every symbol's address for `base` in one pass ([`UNLOADED`] for a
    /// symbol of a section that is not loaded: an error only if used).
    #[inline(never)]
    fn symbol_addresses(&self, base: u64) -> Vec<u64> {
        // Section symbols and ordinary definitions (nearly all) from a
        // table of section addresses; the rest the general way.
        let sections: Vec<u64> = self
            .layout
            .sections
            .iter()
            .map(|o| o.map_or(UNLOADED, |o| base + o))
            .collect();
        let mut out: Vec<u64> = (self.object.symbols.iter().enumerate())
            .map(|(i, sym)| match sym.place {
                Place::Section(s) => match sections[s] {
                    UNLOADED => UNLOADED,
                    at => at + sym.value,
                },
                Place::Absolute => sym.value,
                _ => self.address_of(i, base).unwrap_or(UNLOADED),
            })
            .collect();
        if let Some(null) = out.first_mut() {
            *null = 0;
        }
        out
    }

    /// The table of the image's segments that archdata points to, for a
    /// host that maps a 2.4-path image W^X (`umod_abi::archdata`).
    fn segment_table(&self) -> Vec<u8> {
        umod_abi::archdata::encode(&self.layout.segments)
    }

    /// Where the `__ksymtab` pieces lie, as one table: (offset, bytes).
    /// The layout places them side by side; pieces it could not (other
    /// flags, or sizes not whole entries) are refused by name.
    fn ksymtab_extent(&self, pieces: &[usize]) -> Result<(u64, u64), LoadError> {
        let l = &self.layout;
        let mut placed: Vec<(u64, u64)> = pieces
            .iter()
            .map(|&i| (l.sections[i].expect("loaded"), self.object.sections[i].size))
            .collect();
        placed.sort_unstable();
        let (start, _) = placed[0];
        let mut end = start;
        for (at, size) in placed {
            if at != end || size % ModuleSymbol::SIZE as u64 != 0 {
                return Err(crate::error::bad_section(
                    "__ksymtab",
                    "its pieces do not form one table of whole entries",
                ));
            }
            end = at + size;
        }
        Ok((start, end - start))
    }

    fn header(&self, base: u64) -> Result<ModuleHeader, LoadError> {
        let l = &self.layout;
        let (syms, nsyms) = match &self.exports {
            ExportTable::Sections(pieces) => {
                let (start, bytes) = self.ksymtab_extent(pieces)?;
                (
                    base + start,
                    u32::try_from(bytes / ModuleSymbol::SIZE as u64).map_err(|_| {
                        crate::error::bad_section(
                            "__ksymtab",
                            "more entries than a module may export",
                        )
                    })?,
                )
            }
            ExportTable::Nothing => (0, 0),
            ExportTable::AllGlobals => match l.ksymtab {
                Some((at, n)) => (
                    base + at,
                    u32::try_from(n).map_err(|_| LoadError::TooLarge(l.size))?,
                ),
                None => (0, 0),
            },
        };
        let ndeps =
            u32::try_from(self.resolution.deps.len()).map_err(|_| LoadError::TooLarge(l.size))?;
        let (ex_start, ex_end) = self.section_range("__ex_table", base);
        let (ks_start, ks_end) = match (&self.kallsyms, l.kallsyms) {
            (Some(k), Some(at)) => (base + at, base + at + k.size()),
            _ => self.section_range(umod_abi::kallsyms::SECTION_NAME, base),
        };
        let (ad_start, ad_end) = match l.archdata {
            Some(at) => (
                base + at,
                base + at + umod_abi::archdata::table_size(l.segments.len()) as u64,
            ),
            None => self.section_range("__archdata", base),
        };
        Ok(ModuleHeader {
            size_of_struct: MODULE_HEADER_SIZE as u64,
            name: base + l.strings + self.string_offsets.name,
            size: l.size,
            flags: if self.options.autoclean {
                MOD_AUTOCLEAN
            } else {
                0
            },
            nsyms: if syms == 0 { 0 } else { nsyms },
            ndeps,
            syms: if nsyms == 0 { 0 } else { syms },
            deps: if ndeps == 0 { 0 } else { base + l.kmodtab },
            init: self.named_value(b"init_module", base)?,
            cleanup: self.named_value(b"cleanup_module", base)?,
            ex_table_start: ex_start,
            ex_table_end: ex_end,
            runsize: i32::try_from(l.runsize).map_err(|_| LoadError::TooLarge(l.size))?,
            kallsyms_start: ks_start,
            kallsyms_end: ks_end,
            archdata_start: ad_start,
            archdata_end: ad_end,
            ..Default::default()
        })
    }

    fn apply_relocations(
        &self,
        img: &mut [u8],
        base: u64,
        addrs: &[u64],
    ) -> Result<usize, LoadError> {
        let l = &self.layout;
        let got_base = base + l.got_base().unwrap_or(0);
        let got_len = l.got_order.len() as i64;
        let mut applied = 0;
        for rs in &self.object.relocations {
            let Some(sec_off) = l.sections[rs.target] else {
                continue;
            };
            let section_base = base + sec_off;
            let run = Run {
                section_offset: sec_off,
                section_address: section_base,
            };
            // The common entries in a tight loop; each one it stops at is
            // applied here the general way, then it resumes.
            let raw = rs.raw();
            let mut next = 0;
            while next < raw.len() {
                let done = apply_common(img, &raw[next..], addrs, UNLOADED, run);
                applied += done;
                next += done;
                if next == raw.len() {
                    break;
                }
                let r = rs.entry(next);
                next += 1;
                // Type and field bounds were checked by the layout.
                let kind = classify(r.r_type).expect("checked by the layout");
                let sym = r.sym as usize;
                let s = match addrs[sym] {
                    UNLOADED => self.symbol_value(sym, base)?,
                    a => a,
                };
                if kind.formula == Formula::None {
                    continue;
                }
                let place = section_base + r.offset;
                // L: a call out of reach of a 32-bit displacement goes
                // through its stub.
                let direct = i128::from(s) + i128::from(r.addend) - i128::from(place);
                let call_target = match l.stubs[sym] {
                    Some(stub) if i32::try_from(direct).is_err() => base + stub,
                    _ => s,
                };
                let value = compute(
                    kind.formula,
                    &Inputs {
                        symbol: s,
                        addend: r.addend,
                        place,
                        got: got_base,
                        // G: the slot's distance from the GOT base (negative).
                        got_slot: l.got_slots[sym].map_or(0, |k| 8 * i64::from(k) - 8 * got_len),
                        call_target,
                        size: self.object.symbols[sym].size,
                    },
                );
                let at = usize_of(sec_off + r.offset);
                if !kind.field.store(value, &mut img[at..]) {
                    let section = self.object.sections[rs.target].name;
                    return Err(self.overflow(kind.name, sym, section, r.offset, value));
                }
                applied += 1;
            }
        }
        Ok(applied)
    }

    fn overflow(
        &self,
        name: &'static str,
        sym: usize,
        section: &str,
        offset: u64,
        value: i128,
    ) -> LoadError {
        let s = &self.object.symbols[sym];
        let symbol = match (s.name.is_empty(), s.place) {
            (true, Place::Section(i)) => self.object.sections[i].name.to_string(),
            _ => s.display_name(),
        };
        LoadError::Overflow {
            name,
            symbol,
            section: section.to_string(),
            offset,
            value,
        }
    }

    /// The load map of an image at `base`.
    pub fn load_map(&self, base: u64) -> LoadMap {
        LoadMap {
            sections: self.map_sections(base),
            symbols: self.map_symbols(base),
        }
    }

    fn map_sections(&self, base: u64) -> Vec<MapEntry> {
        let mut v: Vec<MapEntry> = self
            .object
            .sections
            .iter()
            .enumerate()
            .filter_map(|(i, s)| {
                self.layout.sections[i].map(|off| MapEntry {
                    name: s.name.to_string(),
                    addr: base + off,
                    size: s.size,
                })
            })
            .collect();
        v.sort_by_key(|e| e.addr);
        v
    }

    fn map_symbols(&self, base: u64) -> Vec<MapEntry> {
        let mut v: Vec<MapEntry> = (1..self.object.symbols.len())
            .filter(|&i| {
                let s = &self.object.symbols[i];
                s.is_global()
                    && matches!(s.place, Place::Section(_) | Place::Common)
                    && !s.name.is_empty()
            })
            .filter_map(|i| {
                let s = &self.object.symbols[i];
                self.symbol_value(i, base).ok().map(|addr| MapEntry {
                    name: s.display_name(),
                    addr,
                    size: s.size,
                })
            })
            .collect();
        v.sort_by_key(|e| e.addr);
        v
    }

    /// The module name the image carries.
    pub fn name(&self) -> &[u8] {
        &self.name
    }

    /// Values of undefined symbols, indexed by symbol.
    pub fn externals(&self) -> &[Option<u64>] {
        &self.resolution.externals
    }
}
