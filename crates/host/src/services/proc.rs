//! `/proc` entries that modules register with `create_proc_read_entry`.
//!
//! Each entry's `struct proc_dir_entry` lives in a slot of the kernel data
//! area, so module code can set its fields (`data`, `read_proc`, `owner`)
//! and the host reads them back through the window, never through a raw
//! pointer.

use std::collections::HashMap;
use std::sync::{Condvar, Mutex};

use umod_abi::PAGE_SIZE;

/// Bytes of one slot: the 144-byte struct, then the name (NUL included).
pub const SLOT_SIZE: u64 = 256;
/// Slots in the table.
pub const SLOTS: u64 = 128;
/// Offset of the name copy in a slot (2.4 put it just after the struct).
pub const NAME_AT: u64 = 144;
/// Longest entry name.
pub const MAX_NAME: usize = (SLOT_SIZE - NAME_AT - 1) as usize;

/// Offsets in `struct proc_dir_entry` (kit `<linux/proc_fs.h>`, 2.4.22's).
pub mod field {
    /// `unsigned short namelen`
    pub const NAMELEN: u64 = 2;
    /// `const char *name`
    pub const NAME: u64 = 8;
    /// `mode_t mode`
    pub const MODE: u64 = 16;
    /// `nlink_t nlink`
    pub const NLINK: u64 = 24;
    /// `uid_t uid`
    pub const UID: u64 = 32;
    /// `gid_t gid`
    pub const GID: u64 = 36;
    /// `unsigned long size`
    pub const SIZE: u64 = 40;
    /// `void *data`
    pub const DATA: u64 = 104;
    /// `read_proc_t *read_proc`
    pub const READ_PROC: u64 = 112;
    /// `write_proc_t *write_proc`
    pub const WRITE_PROC: u64 = 120;
}

/// Pages proc read functions may fill at once: one per /proc read in
/// progress (more readers wait for a page).
pub const PROC_PAGES: u64 = 8;
/// Bytes of kernel data the pages take: the pages, then a `start` word and
/// an `eof` word (16 bytes) for each.
pub const PROC_PAGES_BYTES: u64 = PROC_PAGES * (PAGE_SIZE + 16);

/// The pages /proc reads are produced in, handed out one per read.
#[derive(Debug)]
pub struct ProcPages {
    base: u64,
    free: Mutex<Vec<u64>>,
    returned: Condvar,
}

/// A page a read function writes into (2.4's `__get_free_page`), with its
/// `start` and `eof` words; back to the pool on drop.
#[derive(Debug)]
pub struct ProcPage<'a> {
    pool: &'a ProcPages,
    index: u64,
}

impl ProcPage<'_> {
    /// The page's address.
    pub fn page(&self) -> u64 {
        self.pool.base + self.index * PAGE_SIZE
    }

    /// The `char *start` word.
    pub fn start_word(&self) -> u64 {
        self.pool.base + PROC_PAGES * PAGE_SIZE + self.index * 16
    }

    /// The `int eof` word.
    pub fn eof_word(&self) -> u64 {
        self.start_word() + 8
    }
}

impl Drop for ProcPage<'_> {
    fn drop(&mut self) {
        self.pool
            .free
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(self.index);
        self.pool.returned.notify_one();
    }
}

impl ProcPages {
    /// The pool at `base` in the kernel data area (page-aligned,
    /// [`PROC_PAGES_BYTES`] long).
    pub fn new(base: u64) -> ProcPages {
        ProcPages {
            base,
            free: Mutex::new((0..PROC_PAGES).rev().collect()),
            returned: Condvar::new(),
        }
    }

    /// A page for one read, waiting while every page is in use (reads are
    /// bounded by the watchdog). The caller clears it before use.
    pub fn take(&self) -> ProcPage<'_> {
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(index) = free.pop() {
                return ProcPage { pool: self, index };
            }
            free = self.returned.wait(free).unwrap_or_else(|e| e.into_inner());
        }
    }
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
        assert!(t.create(&[b'x'; MAX_NAME + 1], None).is_none());
        let b = t.create(b"b", None).unwrap();
        assert_eq!(b, 0x1000 + SLOT_SIZE);
        assert!(t.create(&[b'y'; MAX_NAME], None).is_some());
        assert_eq!(t.owned_by(1), vec![b"a".to_vec()]);
        assert_eq!(t.remove(b"a"), Some(a));
        assert_eq!(t.create(b"c", None), Some(a));
    }
}
