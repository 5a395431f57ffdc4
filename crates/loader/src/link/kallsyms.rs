//! The `__kallsyms` table the loader writes into every image, as 2.4.20+'s
//! modutils did (`obj_kallsyms`, format in `umod_abi::kallsyms`): each
//! loaded section, and each symbol defined in one (functions and data,
//! local ones too), at its load address, sorted by address. The header's
//! `kallsyms_start/kallsyms_end` point to it. An object that brings its
//! own `__kallsyms` section keeps it, and none is generated.
//!
//! What it holds does not depend on the base: the plan counts and sorts
//! it once; relocating for a base writes it with the addresses added.
//! Names are the object's symbol string table, copied whole (one copy
//! rather than one per name), then the section names.

use object::elf;
use umod_abi::kallsyms::{
    SectionEntry, Shape, SymbolEntry, MAX_NAME_BYTES, MAX_NAME_LEN, MAX_SECTIONS, MAX_SYMBOLS,
    SECTION_NAME, SECTION_SIZE,
};

use crate::elf::{Object, Place, Symbol};
use crate::error::{bad_section, LoadError};
use crate::layout::{is_loaded, Layout};

/// Marks a section the table does not list.
const UNLISTED: u32 = u32::MAX;

/// The table of one plan, without its addresses.
#[derive(Clone, Debug, Default)]
pub(crate) struct KallsymsPlan {
    /// Listed sections (object indexes), in object order.
    sections: Vec<usize>,
    /// Each object section's entry number, or [`UNLISTED`].
    entry_of: Vec<u32>,
    /// Listed symbols (object indexes), sorted by address once laid out.
    pub symbols: Vec<usize>,
    /// The section names, each with its NUL.
    section_names: Vec<u8>,
    /// Where each section's name starts in `section_names`.
    section_name_at: Vec<u64>,
    shape: Shape,
}

/// Whether symbol `s` goes in the table (`loaded` by section index).
fn listed(s: &Symbol<'_>, loaded: &[bool]) -> bool {
    let Place::Section(k) = s.place else {
        return false;
    };
    loaded[k]
        && !s.name.is_empty()
        && s.name.len() <= MAX_NAME_LEN
        && s.kind != elf::STT_SECTION.0
        && s.kind != elf::STT_FILE.0
        && s.name != b"gcc2_compiled."
        && !s.name.starts_with(b"__insmod_")
}

impl KallsymsPlan {
    /// The table for `object`, its symbols in `symbols` (a reused
    /// buffer); `None` when the object brings its own.
    pub fn new(
        object: &Object<'_>,
        mut symbols: Vec<usize>,
    ) -> Result<Option<KallsymsPlan>, LoadError> {
        if object.section_index(SECTION_NAME).is_some() {
            return Ok(None);
        }
        let loaded: Vec<bool> = object.sections.iter().map(is_loaded).collect();
        let mut plan = KallsymsPlan {
            entry_of: vec![UNLISTED; object.sections.len()],
            ..KallsymsPlan::default()
        };
        for (i, s) in object.sections.iter().enumerate().skip(1) {
            if loaded[i] {
                plan.entry_of[i] = u32::try_from(plan.sections.len()).unwrap_or(UNLISTED);
                plan.sections.push(i);
                plan.section_name_at.push(plan.section_names.len() as u64);
                plan.section_names.extend_from_slice(s.name.as_bytes());
                plan.section_names.push(0);
            }
        }
        symbols.clear();
        let mut name_bytes = 0usize;
        for (i, s) in object.symbols.iter().enumerate().skip(1) {
            if listed(s, &loaded) {
                symbols.push(i);
                name_bytes += s.name.len();
            }
        }
        plan.symbols = symbols;
        let too_many = |what: String| Err(bad_section(SECTION_NAME, what));
        if plan.sections.len() > MAX_SECTIONS {
            return too_many(format!(
                "{} loaded sections (a table lists at most {MAX_SECTIONS})",
                plan.sections.len()
            ));
        }
        if plan.symbols.len() > MAX_SYMBOLS {
            return too_many(format!(
                "{} symbols (a table lists at most {MAX_SYMBOLS})",
                plan.symbols.len()
            ));
        }
        if name_bytes + plan.section_names.len() > MAX_NAME_BYTES {
            return too_many(format!("names of more than {MAX_NAME_BYTES} bytes in all"));
        }
        plan.shape = Shape {
            sections: plan.sections.len(),
            symbols: plan.symbols.len(),
            strings: object.strtab.len() + plan.section_names.len(),
        };
        if plan.shape.header(0, 0).is_none() {
            return Err(LoadError::TooLarge(plan.shape.size() as u64));
        }
        Ok(Some(plan))
    }

    /// Bytes of the table.
    pub fn size(&self) -> u64 {
        self.shape.size() as u64
    }

    /// Sorts the symbols by offset in the image, then name.
    pub fn sort(&mut self, object: &Object<'_>, layout: &Layout) {
        let at = |i: usize| {
            let s = &object.symbols[i];
            match s.place {
                Place::Section(k) => layout.sections[k].unwrap_or(0) + s.value,
                _ => 0,
            }
        };
        // Objects list locals first, then globals: mostly sorted runs.
        self.symbols.sort_unstable_by(|&a, &b| {
            at(a)
                .cmp(&at(b))
                .then_with(|| object.symbols[a].name.cmp(object.symbols[b].name))
        });
    }

    /// Writes the table for an image at `base` into `out` (exactly
    /// [`KallsymsPlan::size`] bytes).
    pub fn write(&self, object: &Object<'_>, layout: &Layout, base: u64, out: &mut [u8]) {
        let shape = &self.shape;
        let section_at = |i: usize| base + layout.sections[i].expect("a loaded section");
        let (mut start, mut end) = (u64::MAX, 0);
        for &i in &self.sections {
            start = start.min(section_at(i));
            end = end.max(section_at(i) + object.sections[i].size);
        }
        if self.sections.is_empty() {
            (start, end) = (base, base);
        }
        let header = shape.header(start, end).expect("checked by the plan");
        out[..header.encode().len()].copy_from_slice(&header.encode());
        let strtab_len = object.strtab.len() as u64;
        let entries = &mut out[shape.section_off()..shape.symbol_off()];
        for ((entry, &i), &name) in entries
            .chunks_exact_mut(SECTION_SIZE)
            .zip(&self.sections)
            .zip(&self.section_name_at)
        {
            let s = &object.sections[i];
            let e = SectionEntry {
                start: section_at(i),
                // Sections are at most 1 GiB (elf::MAX_SECTION_SIZE).
                size: u32::try_from(s.size).expect("a section of at most 1 GiB"),
                name_off: strtab_len + name,
                // kallsyms keeps an Elf64_Word of the flags: the low bits.
                flags: u32::try_from(s.flags & u64::from(u32::MAX)).expect("masked"),
                ..SectionEntry::default()
            };
            entry.copy_from_slice(&e.encode());
        }
        let entries = &mut out[shape.symbol_off()..shape.string_off()];
        for (entry, &i) in entries
            .chunks_exact_mut(umod_abi::kallsyms::SYMBOL_SIZE)
            .zip(&self.symbols)
        {
            let s = &object.symbols[i];
            let Place::Section(k) = s.place else {
                unreachable!("listed symbols are defined in a section")
            };
            let e = SymbolEntry {
                section_off: u64::from(self.entry_of[k]) * SECTION_SIZE as u64,
                symbol_addr: section_at(k) + s.value,
                name_off: u64::from(s.name_offset),
            };
            entry.copy_from_slice(&e.encode());
        }
        let strings = &mut out[shape.string_off()..];
        let (symtab_names, section_names) = strings.split_at_mut(object.strtab.len());
        symtab_names.copy_from_slice(object.strtab);
        section_names.copy_from_slice(&self.section_names);
    }
}
