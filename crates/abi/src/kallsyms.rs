//! The `__kallsyms` table of a 2.4.20+ module image: every non-stack
//! symbol of the module at its load address, as modutils' `obj_kallsyms`
//! wrote it and `struct module`'s `kallsyms_start/kallsyms_end` point to
//! it (`include/linux/kallsyms.h`). umod's loader writes one into each
//! image; the host reads it to name functions in oopses, for profilers
//! and for debuggers.
//!
//! ```text
//!  header   (size bytes; 72 here)   counts, offsets and entry sizes
//!  sections (section_size each; 32) start, size, name, sh_flags
//!  symbols  (symbol_size each; 24)  owning section, address, name
//!  strings                          NUL-terminated names
//! ```
//! Every "pointer" is a byte offset (from the table's start; names from
//! `string_off`; a symbol's section from `section_off`), except the
//! addresses of sections and symbols, which are load addresses. Symbols
//! are sorted by address, then name. Readers use the entry sizes the
//! header gives, not the structure sizes: a writer may append fields.
//!
//! [`decode`] reads a table from an image, which the module could have
//! written anything into: every offset and count is checked against the
//! table's bytes, the counts and the total length of the names are
//! bounded, and the work is linear in the table's size (plus a sort).

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// The section modutils named it by (`KALLSYMS_SEC_NAME`).
pub const SECTION_NAME: &str = "__kallsyms";

/// Most section entries a table may hold.
pub const MAX_SECTIONS: usize = 1 << 16;
/// Most symbol entries a table may hold.
pub const MAX_SYMBOLS: usize = 1 << 20;
/// Longest name, as a module name may be (4095 bytes).
pub const MAX_NAME_LEN: usize = 4095;
/// Most bytes all names together may take, each counted once per entry
/// that names it (what a reader that copies them may have to hold).
pub const MAX_NAME_BYTES: usize = 16 << 20;

/// `struct kallsyms_header` on x86_64 (`ElfW` = `Elf64_*`), 72 bytes.
#[repr(C)]
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct Header {
    /// `int size`: bytes of this header.
    pub size: i32,
    /// `Elf64_Word total_size`: bytes of the whole table, names included.
    pub total_size: u32,
    /// `int sections`: number of section entries.
    pub sections: i32,
    /// Padding before `section_off`: zero.
    pub pad0: u32,
    /// `Elf64_Off section_off`: offset of the first section entry.
    pub section_off: u64,
    /// `int section_size`: bytes of one section entry.
    pub section_size: i32,
    /// `int symbols`: number of symbol entries.
    pub symbols: i32,
    /// `Elf64_Off symbol_off`: offset of the first symbol entry.
    pub symbol_off: u64,
    /// `int symbol_size`: bytes of one symbol entry.
    pub symbol_size: i32,
    /// Padding before `string_off`: zero.
    pub pad1: u32,
    /// `Elf64_Off string_off`: offset of the first name.
    pub string_off: u64,
    /// `Elf64_Addr start`: lowest section address.
    pub start: u64,
    /// `Elf64_Addr end`: highest section end.
    pub end: u64,
}

/// `struct kallsyms_section`, 32 bytes.
#[repr(C)]
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct SectionEntry {
    /// `Elf64_Addr start`: load address.
    pub start: u64,
    /// `Elf64_Word size`.
    pub size: u32,
    /// Padding: zero.
    pub pad0: u32,
    /// `Elf64_Off name_off`: the name's offset from `string_off`.
    pub name_off: u64,
    /// `Elf64_Word flags`: the section's `sh_flags`.
    pub flags: u32,
    /// Padding: zero.
    pub pad1: u32,
}

/// `struct kallsyms_symbol`, 24 bytes.
#[repr(C)]
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct SymbolEntry {
    /// `Elf64_Off section_off`: its section entry's offset from `section_off`.
    pub section_off: u64,
    /// `Elf64_Addr symbol_addr`: load address.
    pub symbol_addr: u64,
    /// `Elf64_Off name_off`: the name's offset from `string_off`.
    pub name_off: u64,
}

/// Bytes of the header.
pub const HEADER_SIZE: usize = core::mem::size_of::<Header>();
/// Bytes of a section entry.
pub const SECTION_SIZE: usize = core::mem::size_of::<SectionEntry>();
/// Bytes of a symbol entry.
pub const SYMBOL_SIZE: usize = core::mem::size_of::<SymbolEntry>();

const _: () = assert!(HEADER_SIZE == 72 && SECTION_SIZE == 32 && SYMBOL_SIZE == 24);

/// The sizes as the header's `int` members hold them.
const HEADER_SIZE_I32: i32 = 72;
const SECTION_SIZE_I32: i32 = 32;
const SYMBOL_SIZE_I32: i32 = 24;

impl Header {
    /// The header at the start of `bytes`, if they hold one.
    pub fn decode(bytes: &[u8]) -> Option<Header> {
        Header::read_from_prefix(bytes).ok().map(|(h, _)| h)
    }

    /// The 72 bytes.
    pub fn encode(&self) -> [u8; HEADER_SIZE] {
        let mut b = [0u8; HEADER_SIZE];
        b.copy_from_slice(self.as_bytes());
        b
    }
}

impl SectionEntry {
    /// The 32 bytes.
    pub fn encode(&self) -> [u8; SECTION_SIZE] {
        let mut b = [0u8; SECTION_SIZE];
        b.copy_from_slice(self.as_bytes());
        b
    }
}

impl SymbolEntry {
    /// The 24 bytes.
    pub fn encode(&self) -> [u8; SYMBOL_SIZE] {
        let mut b = [0u8; SYMBOL_SIZE];
        b.copy_from_slice(self.as_bytes());
        b
    }
}

/// `sh_flags` bits a reader looks at.
pub const SHF_WRITE: u32 = 1;
/// `SHF_ALLOC`.
pub const SHF_ALLOC: u32 = 2;
/// `SHF_EXECINSTR`: the section holds code, its symbols are functions.
pub const SHF_EXECINSTR: u32 = 4;

/// Where the parts of a table of `sections` sections, `symbols` symbols
/// and `strings` bytes of names go, as `obj_kallsyms` placed them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Shape {
    /// Section entries.
    pub sections: usize,
    /// Symbol entries.
    pub symbols: usize,
    /// Bytes of names, NULs included.
    pub strings: usize,
}

impl Shape {
    /// Offset of the first section entry.
    pub fn section_off(&self) -> usize {
        HEADER_SIZE
    }
    /// Offset of the first symbol entry.
    pub fn symbol_off(&self) -> usize {
        HEADER_SIZE + SECTION_SIZE * self.sections
    }
    /// Offset of the names.
    pub fn string_off(&self) -> usize {
        self.symbol_off() + SYMBOL_SIZE * self.symbols
    }
    /// Bytes of the whole table.
    pub fn size(&self) -> usize {
        self.string_off() + self.strings
    }

    /// The header of a table of this shape covering `[start, end)`.
    /// `None` when it cannot be described (more than 2^31 entries, or
    /// 4 GiB of table).
    pub fn header(&self, start: u64, end: u64) -> Option<Header> {
        Some(Header {
            size: HEADER_SIZE_I32,
            total_size: u32::try_from(self.size()).ok()?,
            sections: i32::try_from(self.sections).ok()?,
            pad0: 0,
            section_off: self.section_off() as u64,
            section_size: SECTION_SIZE_I32,
            symbols: i32::try_from(self.symbols).ok()?,
            symbol_off: self.symbol_off() as u64,
            symbol_size: SYMBOL_SIZE_I32,
            pad1: 0,
            string_off: self.string_off() as u64,
            start,
            end,
        })
    }
}

/// A name in a decoded table: `len` bytes at `offset` of its strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NameRef {
    /// Offset from the start of the names.
    pub offset: u32,
    /// Length, NUL excluded.
    pub len: u32,
}

/// A section of a decoded table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Section {
    /// Load address.
    pub start: u64,
    /// Size in bytes.
    pub size: u64,
    /// `sh_flags` (low 32 bits).
    pub flags: u32,
    /// Its name.
    pub name: NameRef,
}

impl Section {
    /// Whether it holds code.
    pub fn is_code(&self) -> bool {
        self.flags & SHF_EXECINSTR != 0
    }
}

/// A symbol of a decoded table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Symbol {
    /// Index of its section in [`Table::sections`].
    pub section: u32,
    /// Load address (inside its section, or at its end).
    pub addr: u64,
    /// Its name.
    pub name: NameRef,
}

/// A decoded, checked table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table<'a> {
    /// The header as read.
    pub header: Header,
    /// Sections in table order.
    pub sections: Vec<Section>,
    /// Symbols sorted by address, then name.
    pub symbols: Vec<Symbol>,
    /// The names area (from `string_off` to the table's end).
    pub strings: &'a [u8],
}

impl Table<'_> {
    /// The bytes of a name.
    pub fn name(&self, n: NameRef) -> &[u8] {
        &self.strings[n.offset as usize..(n.offset + n.len) as usize]
    }
}

/// Why a range is not a usable table: what was wrong, in words.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("kallsyms: {0}")]
pub struct TableError(pub String);

fn bad<T>(why: impl Into<String>) -> Result<T, TableError> {
    Err(TableError(why.into()))
}

/// Reads and checks the table in `bytes` (the range `kallsyms_start` to
/// `kallsyms_end` of an image).
pub fn decode(bytes: &[u8]) -> Result<Table<'_>, TableError> {
    let Ok((header, _)) = Header::read_from_prefix(bytes) else {
        return bad(format!(
            "{} bytes cannot hold a {HEADER_SIZE}-byte header",
            bytes.len()
        ));
    };
    let total = header.total_size as usize;
    if total > bytes.len() {
        return bad(format!(
            "total_size {total} is larger than the {} bytes of the range",
            bytes.len()
        ));
    }
    let bytes = &bytes[..total];
    let count = |v: i32, what: &str, max: usize| match usize::try_from(v) {
        Ok(n) if n <= max => Ok(n),
        _ => bad(format!("{v} {what} (at most {max})")),
    };
    let entry_size = |v: i32, what: &str, min: usize| match usize::try_from(v) {
        Ok(n) if n >= min && n <= total => Ok(n),
        _ => bad(format!("{what} entries of {v} bytes (at least {min})")),
    };
    match usize::try_from(header.size) {
        Ok(s) if (HEADER_SIZE..=total).contains(&s) => {}
        _ => return bad(format!("header size {} is out of range", header.size)),
    }
    let nsec = count(header.sections, "sections", MAX_SECTIONS)?;
    let nsym = count(header.symbols, "symbols", MAX_SYMBOLS)?;
    let sec_size = entry_size(header.section_size, "section", SECTION_SIZE)?;
    let sym_size = entry_size(header.symbol_size, "symbol", SYMBOL_SIZE)?;
    let area = |off: u64, n: usize, size: usize, what: &str| -> Result<usize, TableError> {
        let fits = usize::try_from(off).ok().and_then(|o| {
            let end = o.checked_add(n.checked_mul(size)?)?;
            (end <= total).then_some(o)
        });
        match fits {
            Some(o) => Ok(o),
            None => bad(format!(
                "{n} {what} entries at offset {off:#x} run past the table's {total} bytes"
            )),
        }
    };
    let sec_off = area(header.section_off, nsec, sec_size, "section")?;
    let sym_off = area(header.symbol_off, nsym, sym_size, "symbol")?;
    let str_off = match usize::try_from(header.string_off) {
        Ok(o) if o <= total => o,
        _ => {
            return bad(format!(
                "string_off {:#x} lies outside the table's {total} bytes",
                header.string_off
            ))
        }
    };
    let strings = &bytes[str_off..];

    // Names: each offset is resolved to its NUL by one forward scan over
    // the names, in offset order, so shared and overlapping names cost
    // nothing more.
    let mut wanted: Vec<(u64, usize)> = Vec::with_capacity(nsec + nsym);
    let mut raw_sections = Vec::with_capacity(nsec);
    for k in 0..nsec {
        let at = sec_off + k * sec_size;
        let (e, _) = SectionEntry::read_from_prefix(&bytes[at..]).expect("checked above");
        wanted.push((e.name_off, k));
        raw_sections.push(e);
    }
    let mut raw_symbols = Vec::with_capacity(nsym);
    for k in 0..nsym {
        let at = sym_off + k * sym_size;
        let (e, _) = SymbolEntry::read_from_prefix(&bytes[at..]).expect("checked above");
        wanted.push((e.name_off, nsec + k));
        raw_symbols.push(e);
    }
    let names = resolve_names(strings, &mut wanted)?;

    let mut sections = Vec::with_capacity(nsec);
    for (k, e) in raw_sections.iter().enumerate() {
        let size = u64::from(e.size);
        if e.start.checked_add(size).is_none() {
            return bad(format!("section {k} wraps around the address space"));
        }
        sections.push(Section {
            start: e.start,
            size,
            flags: e.flags,
            name: names[k],
        });
    }
    let mut symbols = Vec::with_capacity(nsym);
    for (k, e) in raw_symbols.iter().enumerate() {
        let name = names[nsec + k];
        let shown = || {
            String::from_utf8_lossy(&strings[name.offset as usize..][..name.len as usize])
                .into_owned()
        };
        let section = usize::try_from(e.section_off)
            .ok()
            .filter(|&o| o % sec_size == 0 && o / sec_size < nsec)
            .map(|o| o / sec_size);
        let Some(section) = section else {
            return bad(format!(
                "symbol {k} ({}): section offset {:#x} names no section entry",
                shown(),
                e.section_off
            ));
        };
        let s = &sections[section];
        if e.symbol_addr < s.start || e.symbol_addr - s.start > s.size {
            return bad(format!(
                "symbol {k} ({}) at {:#x} lies outside its section ({:#x}, {} bytes)",
                shown(),
                e.symbol_addr,
                s.start,
                s.size
            ));
        }
        symbols.push(Symbol {
            section: u32::try_from(section).expect("at most MAX_SECTIONS"),
            addr: e.symbol_addr,
            name,
        });
    }
    symbols.sort_unstable_by(|a, b| {
        let name = |n: NameRef| &strings[n.offset as usize..(n.offset + n.len) as usize];
        (a.addr, name(a.name)).cmp(&(b.addr, name(b.name)))
    });
    Ok(Table {
        header,
        sections,
        symbols,
        strings,
    })
}

/// Resolves the names at the offsets of `wanted` (offset, entry) into
/// `strings`: a name per entry, in entry order.
fn resolve_names(strings: &[u8], wanted: &mut [(u64, usize)]) -> Result<Vec<NameRef>, TableError> {
    wanted.sort_unstable();
    let mut names = vec![NameRef { offset: 0, len: 0 }; wanted.len()];
    let mut nul: Option<usize> = None;
    let mut total = 0usize;
    for &(off, entry) in wanted.iter() {
        let start = match usize::try_from(off) {
            Ok(o) if o < strings.len() => o,
            _ => {
                return bad(format!(
                    "a name at offset {off:#x} lies outside the {} bytes of names",
                    strings.len()
                ))
            }
        };
        if nul.is_none_or(|n| n < start) {
            match strings[start..].iter().position(|&b| b == 0) {
                Some(p) => nul = Some(start + p),
                None => return bad(format!("the name at offset {off:#x} has no NUL")),
            }
        }
        let len = nul.expect("found above") - start;
        if len > MAX_NAME_LEN {
            return bad(format!(
                "the name at offset {off:#x} is {len} bytes long (at most {MAX_NAME_LEN})"
            ));
        }
        total += len;
        if total > MAX_NAME_BYTES {
            return bad(format!("the names take more than {MAX_NAME_BYTES} bytes"));
        }
        // Both fit: the names area is part of a table of at most 4 GiB.
        names[entry] = NameRef {
            offset: u32::try_from(start).expect("a table of at most 4 GiB"),
            len: u32::try_from(len).expect("at most MAX_NAME_LEN"),
        };
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A table of one code section with two symbols, built by hand.
    fn sample() -> Vec<u8> {
        let strings = b".text\0second\0first\0";
        let shape = Shape {
            sections: 1,
            symbols: 2,
            strings: strings.len(),
        };
        let mut out = Vec::new();
        out.extend_from_slice(shape.header(0x1000, 0x1100).unwrap().as_bytes());
        let sec = SectionEntry {
            start: 0x1000,
            size: 0x100,
            name_off: 0,
            flags: SHF_ALLOC | SHF_EXECINSTR,
            ..Default::default()
        };
        out.extend_from_slice(sec.as_bytes());
        for (addr, name_off) in [(0x1040u64, 6u64), (0x1000, 13)] {
            let s = SymbolEntry {
                section_off: 0,
                symbol_addr: addr,
                name_off,
            };
            out.extend_from_slice(s.as_bytes());
        }
        out.extend_from_slice(strings);
        assert_eq!(out.len(), shape.size());
        out
    }

    #[test]
    fn a_table_decodes_sorted_with_its_names() {
        let bytes = sample();
        let t = decode(&bytes).unwrap();
        assert_eq!(t.sections.len(), 1);
        assert!(t.sections[0].is_code());
        assert_eq!(t.name(t.sections[0].name), b".text");
        let names: Vec<&[u8]> = t.symbols.iter().map(|s| t.name(s.name)).collect();
        assert_eq!(names, [&b"first"[..], b"second"]);
        assert_eq!(t.symbols[1].addr, 0x1040);
    }

    fn patched(at: usize, value: &[u8]) -> Result<(), TableError> {
        let mut b = sample();
        b[at..at + value.len()].copy_from_slice(value);
        decode(&b).map(|_| ())
    }

    #[test]
    fn hostile_tables_are_refused_by_name() {
        let err = |r: Result<(), TableError>| r.unwrap_err().0;
        assert!(err(decode(&sample()[..40]).map(|_| ())).contains("cannot hold"));
        // total_size past the range.
        assert!(err(patched(4, &9999u32.to_le_bytes())).contains("total_size"));
        // Counts: negative, huge, past the bytes.
        assert!(err(patched(8, &(-1i32).to_le_bytes())).contains("sections"));
        assert!(err(patched(28, &i32::MAX.to_le_bytes())).contains("symbols"));
        assert!(err(patched(28, &1000i32.to_le_bytes())).contains("run past"));
        // Entry sizes smaller than the structures.
        assert!(err(patched(40, &8i32.to_le_bytes())).contains("symbol entries"));
        // Offsets past the end, and wrapping ones.
        assert!(err(patched(16, &u64::MAX.to_le_bytes())).contains("run past"));
        assert!(err(patched(48, &u64::MAX.to_le_bytes())).contains("string_off"));
        // A name offset outside the names, and a name without its NUL.
        let sym0 = HEADER_SIZE + SECTION_SIZE;
        assert!(err(patched(sym0 + 16, &500u64.to_le_bytes())).contains("outside"));
        let mut b = sample();
        let n = b.len();
        b[n - 1] = b'x';
        assert!(decode(&b).unwrap_err().0.contains("no NUL"));
        // A symbol naming no section entry, or outside its section.
        assert!(err(patched(sym0, &32u64.to_le_bytes())).contains("names no section"));
        assert!(err(patched(sym0, &3u64.to_le_bytes())).contains("names no section"));
        assert!(err(patched(sym0 + 8, &0x2000u64.to_le_bytes())).contains("outside its section"));
        // A section that wraps.
        assert!(err(patched(HEADER_SIZE, &u64::MAX.to_le_bytes())).contains("wraps"));
    }

    #[test]
    fn larger_entries_are_stepped_over() {
        // A writer with an extra field in each entry: readers use the sizes.
        let bytes = sample();
        let t = decode(&bytes).unwrap();
        let strings = t.strings.to_vec();
        let shape = Shape {
            sections: 1,
            symbols: 2,
            strings: strings.len(),
        };
        let mut h = shape.header(0x1000, 0x1100).unwrap();
        h.section_size = 40;
        h.symbol_size = 32;
        h.symbol_off = (HEADER_SIZE + 40) as u64;
        h.string_off = h.symbol_off + 64;
        h.total_size = (h.string_off as usize + strings.len()) as u32;
        let mut out = h.as_bytes().to_vec();
        let mut sec = SectionEntry {
            start: 0x1000,
            size: 0x100,
            flags: SHF_EXECINSTR,
            ..Default::default()
        }
        .as_bytes()
        .to_vec();
        sec.resize(40, 0xee);
        out.extend_from_slice(&sec);
        for (addr, name_off) in [(0x1040u64, 6u64), (0x1000, 13)] {
            let mut s = SymbolEntry {
                section_off: 0,
                symbol_addr: addr,
                name_off,
            }
            .as_bytes()
            .to_vec();
            s.resize(32, 0xee);
            out.extend_from_slice(&s);
        }
        out.extend_from_slice(&strings);
        let t2 = decode(&out).unwrap();
        assert_eq!(t2.symbols, t.symbols);
    }
}
