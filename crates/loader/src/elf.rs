//! Reading and validating an x86_64 ELF relocatable object.
//!
//! The `object` crate does the byte-level reading; this stage checks what a
//! loader must be able to trust before laying anything out (class, machine,
//! type, section ranges that neither leave the file nor overlap, sane
//! alignments and sizes, in-range symbol and relocation indexes) and turns
//! the object into plain data the later stages use.

use object::elf;
use object::read::elf::{FileHeader, Rela as _, SectionHeader as _, Sym as _};
use object::{LittleEndian, SectionIndex, SymbolIndex};

use crate::error::{bad_section, bad_symbol, LoadError};

/// x86_64 objects are little endian (`check_ident` refuses the rest), so
/// every field is read with a fixed byte order: no per-field dispatch.
type Header = elf::FileHeader64<LittleEndian>;

/// The largest section, and so image, the loader accepts (the module
/// window itself is smaller).
pub const MAX_SECTION_SIZE: u64 = 1 << 30;

/// Largest section alignment accepted: one page.
pub const MAX_ALIGN: u64 = 4096;

/// A section of the object.
#[derive(Clone, Debug)]
pub struct Section<'data> {
    /// Name from the section-name string table (`"?"` if not UTF-8).
    pub name: &'data str,
    /// `sh_type`.
    pub kind: u32,
    /// `sh_flags`.
    pub flags: u64,
    /// `sh_addralign` (at least 1).
    pub align: u64,
    /// `sh_size`.
    pub size: u64,
    /// File bytes (empty for `SHT_NOBITS`).
    pub data: &'data [u8],
}

impl Section<'_> {
    /// Occupies memory at run time.
    pub fn is_alloc(&self) -> bool {
        self.flags & elf::SHF_ALLOC.0 != 0
    }
    /// Writable at run time.
    pub fn is_write(&self) -> bool {
        self.flags & elf::SHF_WRITE.0 != 0
    }
    /// Holds machine code.
    pub fn is_exec(&self) -> bool {
        self.flags & elf::SHF_EXECINSTR.0 != 0
    }
    /// Has no file bytes (`.bss`).
    pub fn is_nobits(&self) -> bool {
        self.kind == elf::SHT_NOBITS.0
    }
}

/// Where a symbol lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// Defined elsewhere (`SHN_UNDEF`).
    Undefined,
    /// An absolute value (`SHN_ABS`).
    Absolute,
    /// A COMMON block to allocate; the value is its alignment.
    Common,
    /// Defined in this section.
    Section(usize),
}

/// A symbol of the object.
#[derive(Clone, Debug)]
pub struct Symbol<'data> {
    /// Name (may be empty, e.g. section symbols).
    pub name: &'data [u8],
    /// Where the name starts in [`Object::strtab`].
    pub name_offset: u32,
    /// `st_value`.
    pub value: u64,
    /// `st_size`.
    pub size: u64,
    /// `STB_*`.
    pub bind: u8,
    /// `STT_*`.
    pub kind: u8,
    /// Section or special index.
    pub place: Place,
}

impl Symbol<'_> {
    /// Not local: `STB_GLOBAL` or `STB_WEAK` (or `STB_GNU_UNIQUE`).
    pub fn is_global(&self) -> bool {
        self.bind != elf::STB_LOCAL.0
    }
    /// `STB_WEAK`.
    pub fn is_weak(&self) -> bool {
        self.bind == elf::STB_WEAK.0
    }
    /// The name for messages.
    pub fn display_name(&self) -> String {
        String::from_utf8_lossy(self.name).into_owned()
    }
}

/// One `Elf64_Rela`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rela {
    /// Offset in the target section.
    pub offset: u64,
    /// Symbol index.
    pub sym: u32,
    /// `R_X86_64_*`.
    pub r_type: u32,
    /// Addend.
    pub addend: i64,
}

/// The relocations that apply to one section, read in place.
#[derive(Clone, Debug)]
pub struct RelocSection<'data> {
    /// Index of the section they patch.
    pub target: usize,
    raw: &'data [elf::Rela64<LittleEndian>],
}

fn decode(r: &elf::Rela64<LittleEndian>) -> Rela {
    let e = LittleEndian;
    Rela {
        offset: r.r_offset(e),
        sym: r.r_sym(e, false),
        r_type: r.r_type(e, false).0,
        addend: r.r_addend(e),
    }
}

impl<'data> RelocSection<'data> {
    /// Number of entries.
    pub fn len(&self) -> usize {
        self.raw.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// The entries in file order.
    pub fn entries(&self) -> impl Iterator<Item = Rela> + '_ {
        self.raw.iter().map(decode)
    }

    /// Entry `k`.
    pub fn entry(&self, k: usize) -> Rela {
        decode(&self.raw[k])
    }

    /// The entries as the file holds them.
    pub fn raw(&self) -> &'data [elf::Rela64<LittleEndian>] {
        self.raw
    }
}

/// A validated ELF64 x86_64 relocatable object.
#[derive(Clone, Debug)]
pub struct Object<'data> {
    /// Sections by ELF index (index 0 is the null section).
    pub sections: Vec<Section<'data>>,
    /// Symbols by ELF index (index 0 is the null symbol).
    pub symbols: Vec<Symbol<'data>>,
    /// Relocation sections for allocated targets.
    pub relocations: Vec<RelocSection<'data>>,
    /// Relocation sections for `.debug_*` targets: never applied to the
    /// image, only to the debug sections a debugger is given (their
    /// entries are checked as they are applied).
    pub debug_relocations: Vec<RelocSection<'data>>,
    /// The symbols' string table.
    pub strtab: &'data [u8],
}

fn malformed(e: object::read::Error) -> LoadError {
    LoadError::Malformed(e.to_string())
}

impl<'data> Object<'data> {
    /// Reads and validates `data`.
    pub fn parse(data: &'data [u8]) -> Result<Object<'data>, LoadError> {
        check_ident(data)?;
        let header = Header::parse(data).map_err(malformed)?;
        let endian = header
            .endian()
            .map_err(|_| LoadError::WrongClass("big endian".into()))?;
        let machine = header.e_machine(endian).0;
        if machine != elf::EM_X86_64.0 {
            return Err(LoadError::WrongMachine(machine));
        }
        let kind = header.e_type(endian).0;
        if kind != elf::ET_REL.0 {
            return Err(LoadError::WrongType(kind));
        }
        let table = header.sections(endian, data).map_err(malformed)?;
        let mut sections = Vec::with_capacity(table.len());
        let mut ranges: Vec<(u64, u64, usize)> = Vec::new();
        for (i, sh) in table.iter().enumerate() {
            let name = table
                .section_name(endian, sh)
                .ok()
                .and_then(|n| std::str::from_utf8(n).ok())
                .unwrap_or("?");
            let kind = sh.sh_type(endian).0;
            let size = sh.sh_size(endian);
            let align = sh.sh_addralign(endian).max(1);
            if !align.is_power_of_two() {
                return Err(bad_section(
                    name,
                    format!("alignment {align} is not a power of two"),
                ));
            }
            if align > MAX_ALIGN {
                return Err(bad_section(
                    name,
                    format!("alignment {align} is larger than a page"),
                ));
            }
            if size > MAX_SECTION_SIZE {
                return Err(bad_section(name, format!("size {size:#x} is too large")));
            }
            let data = if i == 0 {
                &[][..]
            } else {
                sh.data(endian, data)
                    .map_err(|_| bad_section(name, "data lies outside the file (truncated?)"))?
            };
            if kind != elf::SHT_NOBITS.0 && !data.is_empty() {
                let start = sh.sh_offset(endian);
                ranges.push((start, start + size, i));
            }
            sections.push(Section {
                name,
                kind,
                flags: sh.sh_flags(endian).0,
                align,
                size,
                data,
            });
        }
        check_overlaps(&ranges, &sections)?;

        let symtab = table
            .symbols(endian, data, elf::SHT_SYMTAB)
            .map_err(malformed)?;
        let mut symbols = Vec::with_capacity(symtab.len());
        // Names are short: a plain scan for their NUL beats a general
        // search started at every name (this loop runs once per symbol).
        let strtab = sections
            .get(symtab.string_section().0)
            .map_or(&[][..], |s| s.data);
        for (i, sym) in symtab.iter().enumerate() {
            let name_offset = sym.st_name(endian);
            let name = strtab
                .get(name_offset as usize..)
                .and_then(|rest| nul_position(rest).map(|n| &rest[..n]))
                .ok_or_else(|| bad_symbol(format!("#{i}"), "name outside the string table"))?;
            let shndx = sym.st_shndx(endian);
            // Most symbols are defined in a section: that test first.
            let place = if shndx.0.wrapping_sub(1) < elf::SHN_LORESERVE - 1 {
                Place::Section(usize::from(shndx.0))
            } else if shndx == elf::SHN_UNDEF {
                Place::Undefined
            } else if shndx == elf::SHN_ABS {
                Place::Absolute
            } else if shndx == elf::SHN_COMMON {
                Place::Common
            } else {
                let idx = symtab
                    .symbol_section(endian, sym, SymbolIndex(i))
                    .map_err(|e| bad_symbol(String::from_utf8_lossy(name), e.to_string()))?
                    .ok_or_else(|| {
                        bad_symbol(String::from_utf8_lossy(name), "reserved section index")
                    })?;
                Place::Section(idx.0)
            };
            let (value, size) = (sym.st_value(endian), sym.st_size(endian));
            // Checked on the values, before the symbol is stored: checking
            // a stored copy stalled on store forwarding (measured: half of
            // all parsing).
            let fits = symbol_fits(place, value, size, &sections);
            symbols.push(Symbol {
                name,
                name_offset,
                value,
                size,
                bind: sym.st_bind().0,
                kind: sym.st_type().0,
                place,
            });
            if !fits {
                return Err(symbol_error(&symbols[i], &sections, i));
            }
        }

        if symbols.is_empty() {
            // No symbol table: relocations may still name symbol 0, the
            // null symbol, so it exists for every later stage.
            symbols.push(Symbol {
                name: &[],
                name_offset: 0,
                value: 0,
                size: 0,
                bind: elf::STB_LOCAL.0,
                kind: elf::STT_NOTYPE.0,
                place: Place::Undefined,
            });
        }

        let mut relocations = Vec::new();
        let mut debug_relocations = Vec::new();
        for (i, sh) in table.iter().enumerate() {
            let name = sections[i].name;
            if sh.sh_type(endian) == elf::SHT_REL {
                return Err(bad_section(
                    name,
                    "SHT_REL relocations are not used on x86_64 (need SHT_RELA)",
                ));
            }
            let Some((entries, link)) = sh
                .rela(endian, data)
                .map_err(|_| bad_section(name, "relocation entries lie outside the file"))?
            else {
                continue;
            };
            let target = sh.sh_info(endian) as usize;
            if target >= sections.len() {
                return Err(bad_section(
                    name,
                    format!("applies to section {target}, which does not exist"),
                ));
            }
            if target == 0 {
                return Err(bad_section(name, "applies to the null section"));
            }
            if !symtab.is_empty() && link != SectionIndex(symtab.section().0) {
                return Err(bad_section(name, "is linked to a table other than .symtab"));
            }
            if !sections[target].is_alloc() {
                // Relocations of debug or note sections are never needed
                // to run the module; those of debug sections serve a
                // debugger.
                if sections[target].name.starts_with(".debug_") {
                    debug_relocations.push(RelocSection {
                        target,
                        raw: entries,
                    });
                }
                continue;
            }
            // Entry indexes and offsets are checked where every entry is
            // visited anyway: by the layout, before anything is allocated.
            relocations.push(RelocSection {
                target,
                raw: entries,
            });
        }
        Ok(Object {
            sections,
            symbols,
            relocations,
            debug_relocations,
            strtab,
        })
    }

    /// The index of the section called `name`.
    pub fn section_index(&self, name: &str) -> Option<usize> {
        self.sections.iter().position(|s| s.name == name)
    }

    /// The first global defined symbol called `name`, else a local one.
    pub fn find_symbol(&self, name: &[u8]) -> Option<usize> {
        // One pass: the load looks names up that most modules lack.
        let mut local = None;
        for (i, s) in self.symbols.iter().enumerate() {
            if s.name == name && s.place != Place::Undefined {
                if s.is_global() {
                    return Some(i);
                }
                local = local.or(Some(i));
            }
        }
        local
    }
}

/// Where the first NUL of `s` is, eight bytes at a time: symbol names are
/// short, and a byte loop mispredicts the end of nearly every one.
fn nul_position(s: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let mut at = 0;
    while let Some(chunk) = s.get(at..at + 8) {
        let v = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        // The lowest flagged byte is always a real zero byte.
        let zeros = v.wrapping_sub(ONES) & !v & HIGHS;
        if zeros != 0 {
            return Some(at + (zeros.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    s[at..].iter().position(|&b| b == 0).map(|n| at + n)
}

fn check_ident(data: &[u8]) -> Result<(), LoadError> {
    if data.len() < 16 || &data[..4] != b"\x7fELF" {
        return Err(LoadError::Malformed("no ELF magic number".into()));
    }
    match (data[4], data[5]) {
        (2, 1) => Ok(()),
        (1, _) => Err(LoadError::WrongClass("ELF32".into())),
        (2, 2) => Err(LoadError::WrongClass("big endian".into())),
        (c, d) => Err(LoadError::WrongClass(format!("class {c}, data {d}"))),
    }
}

fn check_overlaps(ranges: &[(u64, u64, usize)], sections: &[Section<'_>]) -> Result<(), LoadError> {
    let mut sorted = ranges.to_vec();
    sorted.sort_unstable();
    for pair in sorted.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        if b.0 < a.1 {
            return Err(bad_section(
                sections[b.2].name,
                format!("file bytes overlap those of section {}", sections[a.2].name),
            ));
        }
    }
    Ok(())
}

/// Whether a symbol at `place` with `value` and `size` points where it
/// may (this runs once per symbol; [`symbol_error`] says what is wrong).
#[inline(always)]
fn symbol_fits(place: Place, value: u64, size: u64, sections: &[Section<'_>]) -> bool {
    match place {
        Place::Section(s) => s != 0 && sections.get(s).is_some_and(|sec| value <= sec.size),
        Place::Common => {
            size <= MAX_SECTION_SIZE
                && value <= MAX_ALIGN
                && (value == 0 || value.is_power_of_two())
        }
        Place::Undefined | Place::Absolute => true,
    }
}

#[cold]
#[inline(never)]
fn symbol_error(sym: &Symbol<'_>, sections: &[Section<'_>], index: usize) -> LoadError {
    let shown = if sym.name.is_empty() {
        format!("#{index}")
    } else {
        sym.display_name()
    };
    match sym.place {
        Place::Section(s) => match sections.get(s) {
            None => bad_symbol(shown, format!("section index {s} out of range")),
            Some(_) if s == 0 => bad_symbol(shown, "defined in the null section"),
            Some(section) => bad_symbol(
                shown,
                format!(
                    "value {:#x} lies outside section {} (size {:#x})",
                    sym.value, section.name, section.size
                ),
            ),
        },
        Place::Common if sym.size > MAX_SECTION_SIZE => {
            bad_symbol(shown, format!("COMMON size {:#x} is too large", sym.size))
        }
        _ => bad_symbol(
            shown,
            format!("COMMON alignment {} is not usable", sym.value),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_position_finds_the_first_nul_at_any_length() {
        for len in 0..20 {
            let mut s: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
            assert_eq!(nul_position(&s), None, "no NUL in {len} bytes");
            s.push(0);
            s.extend_from_slice(b"x\0\x01\x80\0");
            assert_eq!(nul_position(&s), Some(len as usize));
        }
        // Bytes next to 0x01 and 0x80 that a sloppy zero test mistakes.
        let tricky = [0x01, 0x80, 0x01, 0x80, 0x81, 0x7f, 0x01, 0xff, 0];
        assert_eq!(nul_position(&tricky), Some(8));
        assert_eq!(nul_position(&[0x00, 0x01]), Some(0));
        assert_eq!(
            nul_position(&[0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x00]),
            Some(7)
        );
    }
}
