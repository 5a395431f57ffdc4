//! The module window: one contiguous region below 2 GiB that holds every
//! module block and the host's own "kernel image" (export thunks and
//! exported data).
//!
//! ```text
//!  base                                             base + size
//!  | module blocks, first fit, guard page after each | kernel area |
//! ```
//!
//! The host writes module images through its own read-write view of the
//! window memory (see `mapping`), so a block is handed out with the module
//! view as its last owner left it. A legacy image becomes
//! read-write-execute when `init_module` copies it in; an image the host
//! builds in place gets code read-execute, constants read-only and data
//! read-write. Guard pages and never-used pages are inaccessible.
//!
//! A freed block stays mapped and resident. Its code pages stay
//! read-execute but are filled with `int3`: a stale call into them traps
//! (an oops), never runs the old code, and the next module with code on
//! those pages needs no protection change (see `page_states`). Pages a
//! legacy image had read-write-execute become read-write. Large blocks
//! are instead made inaccessible and given back to the OS. A block is
//! wiped or wholly rewritten when it is handed out, so no module sees
//! another's bytes. A window mapped once (no host view: see
//! [`Mapping::has_host_view`]) hands blocks out read-write instead and
//! parks freed ones read-write, never executable.

mod first_fit;
mod mapping;
mod page_states;

use std::io;
use std::sync::Mutex;

use page_states::PageStates;

pub use first_fit::{Block, FirstFit};
pub use mapping::{Mapping, Protection, WINDOW_LIMIT};

use umod_abi::PAGE_SIZE;

/// Default window size: 256 MiB, as the x86_64 2.4 module area.
pub const DEFAULT_WINDOW_SIZE: u64 = 256 << 20;

/// `int3`: what freed code pages are filled with.
const TRAP: u8 = 0xcc;

/// Export thunks in the kernel area (8 bytes of code each).
pub const THUNK_COUNT: u64 = 2048;
const THUNK_CODE_BYTES: u64 = THUNK_COUNT * 8;
const THUNK_SLOT_BYTES: u64 = THUNK_COUNT * 8;
/// Bytes of exported kernel data (jiffies and what embedders export).
pub const KERNEL_DATA_BYTES: u64 = 224 << 10;
/// Total size of the kernel area at the top of the window.
pub const KERNEL_AREA_BYTES: u64 = THUNK_CODE_BYTES + THUNK_SLOT_BYTES + KERNEL_DATA_BYTES;

/// Freed blocks up to this size stay mapped and resident for the next
/// module (a page fault or a protection change costs more than wiping);
/// larger ones are made inaccessible and handed back to the OS.
const KEEP_RESIDENT_LIMIT: u64 = 1 << 20;

/// A module's block of window memory.
#[derive(Debug, PartialEq, Eq)]
pub struct ModuleBlock {
    addr: u64,
    block: Block,
}

impl ModuleBlock {
    /// First address; where the module header lives.
    pub fn addr(&self) -> u64 {
        self.addr
    }

    /// Usable length in bytes (whole pages).
    pub fn size(&self) -> u64 {
        self.block.pages * PAGE_SIZE
    }

    /// Whether `[addr, addr + len)` lies inside the block.
    pub fn contains(&self, addr: u64, len: u64) -> bool {
        addr >= self.addr
            && addr
                .checked_add(len)
                .is_some_and(|end| end <= self.addr + self.size())
    }
}

/// Window accounting, for tools and for tests that prove nothing leaked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WindowUsage {
    /// First address of the window.
    pub base: u64,
    /// Bytes available to module blocks (the window less the kernel area).
    pub capacity: u64,
    /// Bytes held by module blocks, guard pages included.
    pub in_use: u64,
    /// Number of module blocks.
    pub blocks: u64,
    /// Largest free contiguous run in bytes.
    pub largest_free: u64,
}

/// The reserved region and its allocator.
#[derive(Debug)]
pub struct Window {
    mapping: Mapping,
    module_bytes: u64,
    pages: Mutex<Pages>,
}

/// Which pages are taken, and how each is mapped: changed together.
#[derive(Debug)]
struct Pages {
    fit: FirstFit,
    states: PageStates,
}

impl Pages {
    /// Gives `count` pages from `first` protection `prot` in `mapping`.
    fn protect(
        &mut self,
        mapping: &Mapping,
        first: u64,
        count: u64,
        prot: Protection,
    ) -> io::Result<()> {
        self.states.set(first, count, prot, |first, count, prot| {
            mapping.protect(mapping.base() + first * PAGE_SIZE, count * PAGE_SIZE, prot)
        })
    }
}

impl Window {
    /// Reserves a window of `size` bytes (rounded up to pages) below 2 GiB.
    pub fn new(size: u64) -> io::Result<Window> {
        Window::reserved_by(size, Mapping::reserve)
    }

    /// [`Window::new`], mapped once: the host writes at module addresses
    /// (see [`Mapping::has_host_view`]).
    pub fn single_view(size: u64) -> io::Result<Window> {
        Window::reserved_by(size, Mapping::reserve_single_view)
    }

    /// [`Window::new`] with the mapping made by `reserve`.
    fn reserved_by(
        size: u64,
        reserve: impl FnOnce(u64) -> io::Result<Mapping>,
    ) -> io::Result<Window> {
        let size = FirstFit::pages_for(size, PAGE_SIZE)
            .checked_mul(PAGE_SIZE)
            .filter(|&s| s >= KERNEL_AREA_BYTES + 2 * PAGE_SIZE)
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "window size {size} is too small: at least {} bytes",
                        KERNEL_AREA_BYTES + 2 * PAGE_SIZE
                    ),
                )
            })?;
        let mapping = reserve(size)?;
        let module_bytes = size - KERNEL_AREA_BYTES;
        let window = Window {
            pages: Mutex::new(Pages {
                fit: FirstFit::new(module_bytes / PAGE_SIZE),
                states: PageStates::new(module_bytes / PAGE_SIZE),
            }),
            module_bytes,
            mapping,
        };
        let k = window.kernel_base();
        window
            .mapping
            .protect(k, THUNK_CODE_BYTES, Protection::ReadWrite)?;
        window.mapping.protect(
            k + THUNK_CODE_BYTES,
            THUNK_SLOT_BYTES + KERNEL_DATA_BYTES,
            Protection::ReadWrite,
        )?;
        Ok(window)
    }

    /// The page records, whatever panicked while holding them (they are
    /// updated in single steps that leave them consistent).
    fn pages(&self) -> std::sync::MutexGuard<'_, Pages> {
        self.pages
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The raw mapping (reads, writes, atomics, protection).
    pub fn mapping(&self) -> &Mapping {
        &self.mapping
    }

    /// First address of the window.
    pub fn base(&self) -> u64 {
        self.mapping.base()
    }

    /// First address of the kernel area.
    pub fn kernel_base(&self) -> u64 {
        self.mapping.base() + self.module_bytes
    }

    /// Address of thunk `i`'s code.
    pub fn thunk_addr(&self, i: u64) -> u64 {
        self.kernel_base() + i * 8
    }

    /// Address of thunk `i`'s target slot.
    pub fn thunk_slot(&self, i: u64) -> u64 {
        self.kernel_base() + THUNK_CODE_BYTES + i * 8
    }

    /// First address of the kernel data area.
    pub fn kernel_data_base(&self) -> u64 {
        self.kernel_base() + THUNK_CODE_BYTES + THUNK_SLOT_BYTES
    }

    /// Writes every thunk (`jmp *slot(%rip)`, then two `int3`) and makes the
    /// thunk code read-execute. Called once at start-up.
    pub fn seal_thunks(&self) -> io::Result<()> {
        for i in 0..THUNK_COUNT {
            let at = self.thunk_addr(i);
            let disp = (self.thunk_slot(i) - (at + 6)) as u32;
            let mut code = [0xff, 0x25, 0, 0, 0, 0, 0xcc, 0xcc];
            code[2..6].copy_from_slice(&disp.to_le_bytes());
            self.mapping.write(at, &code);
        }
        self.mapping
            .protect(self.kernel_base(), THUNK_CODE_BYTES, Protection::ReadExec)
    }

    /// Takes a block for `bytes` bytes (first fit, guard page after it);
    /// its pages keep the module-view protection they had (nothing that
    /// runs old code: see the file's comment), or become read-write in a
    /// window mapped once. With `wipe`, its bytes read
    /// as zero; without, the caller must write every byte of it before
    /// anything reads it. `None` when nothing fits.
    pub fn alloc(&self, bytes: u64, wipe: bool) -> Option<ModuleBlock> {
        let pages = FirstFit::pages_for(bytes, PAGE_SIZE);
        let mut p = self.pages();
        let block = p.fit.alloc(pages)?;
        let guard = block.first_page + block.pages;
        let mut mapped = p.protect(&self.mapping, guard, 1, Protection::None);
        if !self.mapping.has_host_view() {
            // The host writes at module addresses: the block must be
            // writable there.
            let rw = Protection::ReadWrite;
            mapped = mapped.and_then(|()| p.protect(&self.mapping, block.first_page, pages, rw));
        }
        if mapped.is_err() {
            p.fit.free(block);
            return None;
        }
        drop(p);
        let mb = ModuleBlock {
            addr: self.base() + block.first_page * PAGE_SIZE,
            block,
        };
        if wipe {
            self.mapping.zero(mb.addr, mb.size());
        }
        Some(mb)
    }

    /// Changes the protection of whole pages `[addr, addr + len)` of
    /// `block`: a legacy image made executable, a W^X image narrowed.
    ///
    /// # Panics
    /// When the range is not page-aligned inside the block (a host bug).
    pub fn protect(
        &self,
        block: &ModuleBlock,
        addr: u64,
        len: u64,
        prot: Protection,
    ) -> io::Result<()> {
        assert!(
            block.contains(addr, len) && addr % PAGE_SIZE == 0 && len % PAGE_SIZE == 0,
            "protection change {addr:#x}+{len:#x} outside its block"
        );
        let first = (addr - self.base()) / PAGE_SIZE;
        self.pages()
            .protect(&self.mapping, first, len / PAGE_SIZE, prot)
    }

    /// Returns a block to the window. Its code never runs again: a small
    /// block's code pages are filled with traps (read-write-execute ones
    /// also lose execute), a large block is made inaccessible and handed
    /// back to the OS.
    pub fn free(&self, block: ModuleBlock) {
        let (addr, len) = (block.addr, block.size());
        let (first, pages) = (block.block.first_page, block.block.pages);
        let mut p = self.pages();
        // Protection changes on our own mapping with valid flags fail
        // only when the system is out of memory for mapping records. The
        // states then say "unknown" and the next user of these pages sets
        // them again; their code is already traps.
        if len > KEEP_RESIDENT_LIMIT {
            let _ = p.protect(&self.mapping, first, pages, Protection::None);
            self.mapping.discard(addr, len);
        } else if !self.mapping.has_host_view() {
            // One view: parked read-write, never executable, ready for the
            // host to write the next module.
            let _ = p.protect(&self.mapping, first, pages, Protection::ReadWrite);
        } else {
            for (page, count, state) in p.states.runs(first, pages) {
                let may_run = !matches!(
                    state,
                    Some(Protection::None | Protection::Read | Protection::ReadWrite)
                );
                if may_run {
                    let at = self.base() + page * PAGE_SIZE;
                    self.mapping.fill(at, count * PAGE_SIZE, TRAP);
                }
                if matches!(state, Some(Protection::ReadWriteExec) | None) {
                    let _ = p.protect(&self.mapping, page, count, Protection::ReadWrite);
                }
            }
        }
        p.fit.free(block.block);
    }

    /// Current accounting.
    pub fn usage(&self) -> WindowUsage {
        let a = &self.pages().fit;
        WindowUsage {
            base: self.base(),
            capacity: self.module_bytes,
            in_use: a.in_use() * PAGE_SIZE,
            blocks: a.blocks(),
            largest_free: a.largest_free() * PAGE_SIZE,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::mapping::tests::{peek, perms};
    use super::*;

    #[test]
    fn with_two_views_freed_code_stays_read_execute_and_is_traps() {
        let w = Window::new(4 << 20).unwrap();
        assert!(w.mapping().has_host_view());
        let b = w.alloc(3 * PAGE_SIZE, false).unwrap();
        let addr = b.addr();
        w.protect(&b, addr, PAGE_SIZE, Protection::ReadExec)
            .unwrap();
        // Written after the change: through the host view.
        w.mapping().write(addr, &[0x31, 0xc0, 0xc3]);
        assert_eq!(peek(addr, 3), [0x31, 0xc0, 0xc3]);
        w.free(b);
        assert_eq!(perms(addr), "r-x");
        assert!(peek(addr, 4096).iter().all(|&b| b == 0xcc));
    }

    #[test]
    fn with_one_view_blocks_are_writable_while_built_and_parked_read_write() {
        // What a system without executable memory files gets.
        let w = Window::single_view(4 << 20).unwrap();
        assert!(!w.mapping().has_host_view());
        let b = w.alloc(3 * PAGE_SIZE, true).unwrap();
        let addr = b.addr();
        assert_eq!(perms(addr), "rw-", "writable while the host builds it");
        w.mapping().write(addr, &[0x31, 0xc0, 0xc3]);
        w.protect(&b, addr, PAGE_SIZE, Protection::ReadExec)
            .unwrap();
        assert_eq!(perms(addr), "r-x");
        w.free(b);
        assert_eq!(perms(addr), "rw-", "freed code is not executable");
        let again = w.alloc(3 * PAGE_SIZE, true).unwrap();
        assert_eq!(again.addr(), addr);
        assert_eq!(peek(addr, 3), [0, 0, 0], "wiped for the next module");
        let large = w.alloc(2 << 20, true).unwrap();
        let at = large.addr();
        w.mapping().write(at, b"x");
        w.free(large);
        assert_eq!(perms(at), "---", "a large block goes back to the system");
    }
}
