//! `/proc` entries that modules register with `create_proc_read_entry`.
//!
//! Each entry's `struct proc_dir_entry` lives in a slot of the kernel data
//! area, so module code can set its fields (`data`, `read_proc`, `owner`)
//! and the host reads them back through the window, never through a raw
//! pointer.

use std::collections::HashMap;

/// Bytes of one slot: the 80-byte struct, then the name (NUL included).
pub const SLOT_SIZE: u64 = 128;
/// Slots in the table.
pub const SLOTS: u64 = 128;
/// Offset of the name copy in a slot.
pub const NAME_AT: u64 = 80;
/// Longest entry name.
pub const MAX_NAME: usize = (SLOT_SIZE - NAME_AT - 1) as usize;

/// Offsets in `struct proc_dir_entry` (kit `<linux/proc_fs.h>`).
pub mod field {
    /// `unsigned short namelen`
    pub const NAMELEN: u64 = 2;
    /// `const char *name`
    pub const NAME: u64 = 8;
    /// `mode_t mode`
    pub const MODE: u64 = 16;
    /// `void *data`
    pub const DATA: u64 = 56;
    /// `read_proc_t *read_proc`
    pub const READ_PROC: u64 = 64;
}

/// A registered entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProcEntry {
    /// Address of its `proc_dir_entry`.
    pub addr: u64,
    /// The module that created it, if module code did.
    pub owner: Option<u64>,
}

/// The registered entries and the free slots.
#[derive(Debug)]
pub struct ProcTable {
    base: u64,
    free: Vec<u64>,
    entries: HashMap<Vec<u8>, ProcEntry>,
}

impl ProcTable {
    /// A table whose slots start at `base` in the kernel data area.
    pub fn new(base: u64) -> ProcTable {
        ProcTable {
            base,
            free: (0..SLOTS).rev().collect(),
            entries: HashMap::new(),
        }
    }

    /// Registers `name`; returns the slot address, or `None` when the name
    /// is taken, too long, empty, or the table is full.
    pub fn create(&mut self, name: &[u8], owner: Option<u64>) -> Option<u64> {
        if name.is_empty()
            || name.len() > MAX_NAME
            || name.contains(&b'/')
            || self.entries.contains_key(name)
        {
            return None;
        }
        let slot = self.free.pop()?;
        let addr = self.base + slot * SLOT_SIZE;
        self.entries
            .insert(name.to_vec(), ProcEntry { addr, owner });
        Some(addr)
    }

    /// Unregisters `name`; the freed slot's address.
    pub fn remove(&mut self, name: &[u8]) -> Option<u64> {
        let e = self.entries.remove(name)?;
        self.free.push((e.addr - self.base) / SLOT_SIZE);
        Some(e.addr)
    }

    /// Looks an entry up.
    pub fn get(&self, name: &[u8]) -> Option<ProcEntry> {
        self.entries.get(name).copied()
    }

    /// Names owned by module `owner`.
    pub fn owned_by(&self, owner: u64) -> Vec<Vec<u8>> {
        self.entries
            .iter()
            .filter(|(_, e)| e.owner == Some(owner))
            .map(|(n, _)| n.clone())
            .collect()
    }

    /// Every registered name, sorted.
    pub fn names(&self) -> Vec<Vec<u8>> {
        let mut v: Vec<Vec<u8>> = self.entries.keys().cloned().collect();
        v.sort();
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_reused_and_names_unique() {
        let mut t = ProcTable::new(0x1000);
        let a = t.create(b"a", Some(1)).unwrap();
        assert_eq!(a, 0x1000);
        assert!(t.create(b"a", None).is_none());
        assert!(t.create(b"", None).is_none());
        assert!(t.create(&[b'x'; 48], None).is_none());
        let b = t.create(b"b", None).unwrap();
        assert_eq!(b, 0x1000 + SLOT_SIZE);
        assert_eq!(t.owned_by(1), vec![b"a".to_vec()]);
        assert_eq!(t.remove(b"a"), Some(a));
        assert_eq!(t.create(b"c", None), Some(a));
    }
}
