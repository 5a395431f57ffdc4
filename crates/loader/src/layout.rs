//! Layout: where each loaded section and each piece the loader adds (GOT,
//! call stubs, export table, strings, dependency table, COMMON blocks) goes
//! in the image, relative to its base.
//!
//! The order is modutils' load-order priority: the 184-byte header first,
//! then non-init before `.*.init` sections, and within each, code, then
//! read-only data, then writable data, then `.bss`. A W^X layout also
//! starts a new page whenever the protection changes, so the host can map
//! code read-execute, constants read-only and data read-write.

use object::elf;

use crate::elf::{Object, Place, Section};
use crate::error::LoadError;
use crate::x86_64::{classify, scan_common, Formula};
use umod_abi::module::MODULE_HEADER_SIZE;

/// Page size, the W^X layout's unit.
pub const PAGE: u64 = 4096;
/// Bytes of one call stub: `jmp *0(%rip)` then the 8-byte target.
pub const STUB_SIZE: u64 = 16;

/// Run-time protection of a range of the image, and a placed range: the
/// abi's, since the same table describes an image to the host.
pub use umod_abi::archdata::{SegmentProt as Prot, WxSegment as Segment};

/// The complete placement of an image.
#[derive(Clone, Debug, Default)]
pub struct Layout {
    /// Offset of each loaded section, by ELF section index.
    pub sections: Vec<Option<u64>>,
    /// Offset of each COMMON symbol, indexed by symbol.
    pub commons: Vec<Option<u64>>,
    /// Offset of the GOT's slots, when a GOT is needed.
    pub got: Option<u64>,
    /// GOT slot number of each symbol that needs one, indexed by symbol.
    pub got_slots: Vec<Option<u32>>,
    /// Symbols in slot order.
    pub got_order: Vec<usize>,
    /// Offset of the call stub of each external call target, indexed by
    /// symbol.
    pub stubs: Vec<Option<u64>>,
    /// Symbols in stub order.
    pub stub_order: Vec<usize>,
    /// Offset and entry count of a generated export table.
    pub ksymtab: Option<(u64, usize)>,
    /// Offset of the string area (module name, generated export names,
    /// string parameters).
    pub strings: u64,
    /// Offset of the dependency table (`module_ref` per used module).
    pub kmodtab: u64,
    /// Offset of the first init section (`runsize`), or the size.
    pub runsize: u64,
    /// Total size in bytes.
    pub size: u64,
    /// Ranges with their protection, in offset order.
    pub segments: Vec<Segment>,
    /// Offset of the room for the segment table (W^X layouts).
    pub archdata: Option<u64>,
    /// Offset of the generated `__kallsyms` table.
    pub kallsyms: Option<u64>,
}

impl Layout {
    /// Offset of the GOT base (`_GLOBAL_OFFSET_TABLE_`): just past the
    /// slots, where GNU ld puts it (the start of an empty `.got.plt`), so
    /// slot offsets from it are negative, as in a linked program.
    pub fn got_base(&self) -> Option<u64> {
        self.got.map(|g| g + 8 * self.got_order.len() as u64)
    }
}

/// What the layout must make room for besides the object's sections.
#[derive(Clone, Debug, Default)]
pub struct Extras {
    /// Entries of a generated export table.
    pub exports: usize,
    /// Bytes of the string area.
    pub strings: u64,
    /// Number of dependencies.
    pub deps: usize,
    /// Whether the layout is W^X (page-aligned protection changes); such
    /// a layout also reserves room for the table of its segments that
    /// `struct module`'s archdata points to (`umod_abi::archdata`), unless
    /// the object brings an `__archdata` section of its own.
    pub wx: bool,
    /// Bytes of the `__kallsyms` table to make room for (0: none).
    pub kallsyms: u64,
}

/// Whether section `s` is copied into the image (`.modinfo` and the
/// kit's `.modinfo.*` helpers are read by the loader, never loaded).
pub fn is_loaded(s: &Section<'_>) -> bool {
    s.is_alloc() && s.name != ".modinfo" && !s.name.starts_with(".modinfo.")
}

fn prot_of(s: &Section<'_>) -> Prot {
    if s.is_exec() {
        Prot::ReadExec
    } else if s.is_write() {
        Prot::ReadWrite
    } else {
        Prot::Read
    }
}

/// `.text.init`, `.data.init`... (modutils: a 10-character name ending in `.init`).
fn is_init(s: &Section<'_>) -> bool {
    s.name.len() == 10 && s.name.starts_with('.') && s.name.ends_with(".init")
}

/// modutils' `obj_load_order_prio`: higher goes first.
fn priority(s: &Section<'_>) -> u32 {
    let mut p = 0;
    if !is_init(s) {
        p |= 32;
    }
    if s.is_alloc() {
        p |= 16;
    }
    if !s.is_write() {
        p |= 8;
    }
    if s.is_exec() {
        p |= 4;
    }
    if !s.is_nobits() {
        p |= 2;
    }
    p
}

struct Cursor {
    at: u64,
    wx: bool,
    segments: Vec<Segment>,
}

impl Cursor {
    fn place(&mut self, size: u64, align: u64, prot: Prot) -> Result<u64, LoadError> {
        if size == 0 {
            // Nothing to map: no new page, no segment.
            return Ok(self.at);
        }
        let last = self.segments.last().map(|s| s.prot);
        let align = if self.wx && last != Some(prot) {
            PAGE
        } else {
            align.max(1)
        };
        let start = self.at.div_ceil(align) * align;
        let end = start
            .checked_add(size)
            .filter(|&e| e <= crate::elf::MAX_SECTION_SIZE)
            .ok_or(LoadError::TooLarge(start.saturating_add(size)))?;
        match self.segments.last_mut() {
            Some(seg) if seg.prot == prot => seg.size = end - seg.offset,
            _ => self.segments.push(Segment {
                offset: start,
                size: end - start,
                prot,
            }),
        }
        self.at = end;
        Ok(start)
    }
}

/// Plans the image for `object`. Every relocation of a loaded section is
/// checked here (supported type, field inside its section), before any
/// memory is asked for; relocating later cannot fail but for overflow.
/// (The per-symbol tables reuse the capacity of `reuse`'s.)
pub fn layout_in(
    object: &Object<'_>,
    externals: &[Option<u64>],
    extras: &Extras,
    reuse: Layout,
) -> Result<Layout, LoadError> {
    let n = object.symbols.len();
    let mut out = Layout {
        sections: vec![None; object.sections.len()],
        commons: refill(reuse.commons, n),
        got_slots: refill(reuse.got_slots, n),
        stubs: refill(reuse.stubs, n),
        ..Layout::default()
    };
    let mut needs_got = object
        .symbols
        .iter()
        .any(|s| s.name == crate::resolve::GLOBAL_OFFSET_TABLE);
    for rs in &object.relocations {
        let section = &object.sections[rs.target];
        if !is_loaded(section) {
            continue;
        }
        if section.is_nobits() && !rs.is_empty() {
            return Err(LoadError::BadRelocation {
                section: section.name.to_string(),
                index: 0,
                problem: "relocations against a section without file data".into(),
            });
        }
        let bad = |k: usize, problem: String| LoadError::BadRelocation {
            section: section.name.to_string(),
            index: k,
            problem,
        };
        // The common entries in a tight loop; each one it stops at is
        // looked at here (an error, a GOT slot, a stub), then it resumes.
        let raw = rs.raw();
        let external = |sym: usize| externals.get(sym).is_some_and(Option::is_some);
        let mut next = 0;
        while next < raw.len() {
            next += scan_common(&raw[next..], n, section.size, external);
            if next == raw.len() {
                break;
            }
            let (k, r) = (next, rs.entry(next));
            next += 1;
            if r.sym as usize >= n.max(1) {
                return Err(bad(k, format!("symbol index {} out of range", r.sym)));
            }
            if r.offset >= section.size {
                return Err(bad(
                    k,
                    format!("offset {:#x} lies outside the section", r.offset),
                ));
            }
            let kind = classify(r.r_type).map_err(|u| LoadError::UnsupportedRelocation {
                section: section.name.to_string(),
                r_type: r.r_type,
                name: u.name,
                why: u.why,
            })?;
            if kind.formula == Formula::None {
                continue;
            }
            let width = kind.field.width();
            if r.offset + width > section.size {
                return Err(LoadError::BadRelocation {
                    section: section.name.to_string(),
                    index: k,
                    problem: format!(
                        "{}-byte field at {:#x} runs past the section end",
                        width, r.offset
                    ),
                });
            }
            needs_got |= kind.needs_got();
            let sym = r.sym as usize;
            if kind.needs_got_slot() && out.got_slots[sym].is_none() {
                let slot = u32::try_from(out.got_order.len())
                    .map_err(|_| LoadError::TooLarge(u64::MAX))?;
                out.got_slots[sym] = Some(slot);
                out.got_order.push(sym);
            }
            if kind.formula == Formula::PltRelative
                && externals[sym].is_some()
                && out.stubs[sym].is_none()
            {
                out.stubs[sym] = Some(0);
                out.stub_order.push(sym);
            }
        }
    }

    // Non-init sections by group (code, constants, data), each group
    // followed by the loader's own pieces of that kind; then init sections.
    let groups = [Prot::ReadExec, Prot::Read, Prot::ReadWrite];
    let group_of = |i: usize| {
        groups
            .iter()
            .position(|&p| p == prot_of(&object.sections[i]))
            .expect("three groups")
    };
    let mut order: Vec<usize> = (1..object.sections.len())
        .filter(|&i| is_loaded(&object.sections[i]))
        .collect();
    if extras.wx {
        if let Some(&i) = order
            .iter()
            .find(|&&i| object.sections[i].is_exec() && object.sections[i].is_write())
        {
            return Err(LoadError::WritableCode(object.sections[i].name.to_string()));
        }
    }
    // Sections of one name sort together in their class, so that the
    // `__ksymtab` pieces rustc writes form one table.
    order.sort_by_key(|&i| {
        let s = &object.sections[i];
        (
            is_init(s),
            group_of(i),
            std::cmp::Reverse(priority(s)),
            s.name != "__ksymtab",
        )
    });

    let mut c = Cursor {
        at: 0,
        wx: extras.wx,
        segments: Vec::new(),
    };
    c.place(MODULE_HEADER_SIZE as u64, 8, Prot::ReadWrite)?;
    let mut next_group = 0;
    for &i in order.iter().chain(std::iter::once(&usize::MAX)) {
        let (init, group) = if i == usize::MAX {
            (true, groups.len())
        } else {
            (is_init(&object.sections[i]), group_of(i))
        };
        // Place the loader's pieces of every group this section is past.
        while next_group < groups.len() && (init || group > next_group) {
            place_extras(
                &mut c,
                &mut out,
                object,
                extras,
                needs_got,
                groups[next_group],
            )?;
            next_group += 1;
        }
        if i == usize::MAX {
            break;
        }
        let s = &object.sections[i];
        let at = c.place(s.size, s.align, prot_of(s))?;
        out.sections[i] = Some(at);
        if init && out.runsize == 0 {
            out.runsize = at;
        }
    }
    out.size = c.at;
    if out.runsize == 0 {
        out.runsize = out.size;
    }
    out.segments = c.segments;
    Ok(out)
}

/// Places the loader's own pieces of one protection group.
fn place_extras(
    c: &mut Cursor,
    out: &mut Layout,
    object: &Object<'_>,
    extras: &Extras,
    needs_got: bool,
    prot: Prot,
) -> Result<(), LoadError> {
    match prot {
        Prot::ReadExec => {
            if !out.stub_order.is_empty() {
                let start = c.place(STUB_SIZE * out.stub_order.len() as u64, 16, Prot::ReadExec)?;
                for (k, &s) in out.stub_order.iter().enumerate() {
                    out.stubs[s] = Some(start + STUB_SIZE * k as u64);
                }
            }
        }
        Prot::Read => {
            if needs_got || !out.got_order.is_empty() {
                out.got = Some(c.place(8 * out.got_order.len().max(1) as u64, 8, Prot::Read)?);
            }
            if extras.exports > 0 {
                let at = c.place(16 * extras.exports as u64, 8, Prot::Read)?;
                out.ksymtab = Some((at, extras.exports));
            }
            out.strings = c.place(extras.strings, 1, Prot::Read)?;
            let own = object.sections.iter().any(|s| s.name == "__archdata");
            if extras.wx && !own {
                let room = umod_abi::archdata::MAX_TABLE_SIZE as u64;
                out.archdata = Some(c.place(room, 8, Prot::Read)?);
            }
            if extras.kallsyms > 0 {
                out.kallsyms = Some(c.place(extras.kallsyms, 8, Prot::Read)?);
            }
        }
        Prot::ReadWrite => {
            let mut commons: Vec<usize> = (0..object.symbols.len())
                .filter(|&i| object.symbols[i].place == Place::Common)
                .collect();
            commons.sort_by_key(|&i| std::cmp::Reverse(object.symbols[i].value));
            for i in commons {
                let s = &object.symbols[i];
                out.commons[i] = Some(c.place(s.size, s.value, Prot::ReadWrite)?);
            }
            out.kmodtab = c.place(24 * extras.deps as u64, 8, Prot::ReadWrite)?;
        }
    }
    Ok(())
}

/// `v` holding `n` empty entries, in its own capacity.
fn refill<T>(mut v: Vec<Option<T>>, n: usize) -> Vec<Option<T>> {
    v.clear();
    v.resize_with(n, || None);
    v
}

/// The `__ksymtab` section(s) as the object has them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExportTable {
    /// Loaded, non-empty `__ksymtab` sections, in object order: their
    /// entries are the exports (gcc writes one section; rustc one per
    /// entry, which the layout places side by side).
    Sections(Vec<usize>),
    /// An empty, unloaded `__ksymtab` (`EXPORT_NO_SYMBOLS`): none.
    Nothing,
    /// No `__ksymtab`: every global symbol of a loaded section.
    AllGlobals,
}

/// Decides how exports are found.
pub fn export_table(object: &Object<'_>) -> ExportTable {
    let tables: Vec<usize> = (0..object.sections.len())
        .filter(|&i| object.sections[i].name == "__ksymtab")
        .collect();
    let loaded: Vec<usize> = tables
        .iter()
        .copied()
        .filter(|&i| is_loaded(&object.sections[i]) && object.sections[i].size > 0)
        .collect();
    match (tables.is_empty(), loaded.is_empty()) {
        (true, _) => ExportTable::AllGlobals,
        (false, true) => ExportTable::Nothing,
        (false, false) => ExportTable::Sections(loaded),
    }
}

/// Symbols a module without `__ksymtab` exports: globals defined in loaded
/// sections or COMMON, less the ones insmod makes local.
pub fn default_exports(object: &Object<'_>) -> Vec<usize> {
    let mut out = Vec::new();
    default_exports_in(object, &mut out);
    out
}

/// [`default_exports`] into `out` (cleared first).
pub fn default_exports_in(object: &Object<'_>, out: &mut Vec<usize>) {
    out.clear();
    const HIDDEN: [&[u8]; 4] = [
        b"init_module",
        b"cleanup_module",
        b"kernel_version",
        b"__this_module",
    ];
    // Runs once per symbol: the cheap tests first, names last.
    let hidden = |n: &[u8]| {
        HIDDEN.contains(&n)
            || n.starts_with(b"__module_")
            || n.starts_with(b"__ksymtab_")
            || n.starts_with(b"__kstrtab_")
    };
    let loaded: Vec<bool> = object.sections.iter().map(is_loaded).collect();
    for (i, s) in object.symbols.iter().enumerate().skip(1) {
        let placed = match s.place {
            Place::Section(k) => loaded[k],
            Place::Common => true,
            _ => false,
        };
        let exported = placed
            && s.is_global()
            && s.kind != elf::STT_SECTION.0
            && s.kind != elf::STT_FILE.0
            && !s.name.is_empty()
            && !(matches!(s.name[0], b'_' | b'c' | b'i' | b'k') && hidden(s.name));
        if exported {
            out.push(i);
        }
    }
}
