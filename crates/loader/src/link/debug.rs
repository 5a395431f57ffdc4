//! The object's DWARF for a debugger: its `.debug_*` sections with their
//! relocations applied for an image at a given base, so that every
//! address in them (a function's `DW_AT_low_pc`, a line table's start) is
//! a load address, and every reference between debug sections an offset,
//! as a debugger reads a linked program's. The image itself never holds
//! them (they are not loaded).
//!
//! Best effort: an entry that cannot be applied (an unknown type, an
//! index or offset out of range, a value that does not fit) is left as
//! the object has it. A module's debug information never fails its load.

use crate::elf::Place;
use crate::link::Plan;
use crate::x86_64::{classify, Formula};
use umod_abi::usize_of;

/// A `.debug_*` section, relocated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DebugSection {
    /// Its name (`.debug_info`, `.debug_line`...).
    pub name: String,
    /// Its bytes.
    pub data: Vec<u8>,
}

impl Plan<'_> {
    /// The object's `.debug_*` sections relocated for an image at `base`
    /// (none for an object built without `-g`). A symbol of a debug
    /// section stands for its offset there: debug sections are laid out
    /// at address 0 in the object file a debugger is given.
    pub fn debug_sections(&self, base: u64) -> Vec<DebugSection> {
        let object = self.object;
        let mut out: Vec<(usize, DebugSection)> = object
            .sections
            .iter()
            .enumerate()
            .filter(|(_, s)| s.name.starts_with(".debug_") && !s.is_nobits())
            .map(|(i, s)| {
                let section = DebugSection {
                    name: s.name.to_string(),
                    data: s.data.to_vec(),
                };
                (i, section)
            })
            .collect();
        for rs in &object.debug_relocations {
            let Some((_, target)) = out.iter_mut().find(|(i, _)| *i == rs.target) else {
                continue;
            };
            for r in rs.entries() {
                let Some(sym) = object.symbols.get(r.sym as usize) else {
                    continue;
                };
                let Ok(kind) = classify(r.r_type) else {
                    continue;
                };
                let s = match (self.address_of(r.sym as usize, base), sym.place) {
                    (Some(a), _) => a,
                    (None, Place::Section(_)) => sym.value,
                    (None, _) => continue,
                };
                let value = match kind.formula {
                    Formula::Absolute => i128::from(s) + i128::from(r.addend),
                    Formula::PcRelative => {
                        i128::from(s) + i128::from(r.addend) - i128::from(r.offset)
                    }
                    _ => continue,
                };
                let width = kind.field.width();
                let fits = r
                    .offset
                    .checked_add(width)
                    .is_some_and(|end| end <= target.data.len() as u64);
                if fits {
                    kind.field
                        .store(value, &mut target.data[usize_of(r.offset)..]);
                }
            }
        }
        out.into_iter().map(|(_, s)| s).collect()
    }
}
