//! The module window: one contiguous region below 2 GiB that holds every
//! module block and the host's own "kernel image" (export thunks and
//! exported data).
//!
//! ```text
//!  base                                             base + size
//!  | module blocks, first fit, guard page after each | kernel area |
//! ```
//!
//! Free pages and guard pages are inaccessible; a module block is mapped
//! read-write-execute (legacy images) or read-write (images the host
//! builds in place and then narrows to W^X). A block is wiped when it is
//! handed out, so no module sees another's bytes; freeing only makes it
//! inaccessible (large blocks are also given back to the OS).

mod first_fit;
mod mapping;

use std::io;
use std::sync::Mutex;

pub use first_fit::{Block, FirstFit};
pub use mapping::{Mapping, Protection, WINDOW_LIMIT};

use umod_abi::PAGE_SIZE;

/// Default window size: 256 MiB, as the x86_64 2.4 module area.
pub const DEFAULT_WINDOW_SIZE: u64 = 256 << 20;

/// Export thunks in the kernel area (8 bytes of code each).
pub const THUNK_COUNT: u64 = 2048;
const THUNK_CODE_BYTES: u64 = THUNK_COUNT * 8;
const THUNK_SLOT_BYTES: u64 = THUNK_COUNT * 8;
/// Bytes of exported kernel data (jiffies and what embedders export).
pub const KERNEL_DATA_BYTES: u64 = 224 << 10;
/// Total size of the kernel area at the top of the window.
pub const KERNEL_AREA_BYTES: u64 = THUNK_CODE_BYTES + THUNK_SLOT_BYTES + KERNEL_DATA_BYTES;

/// Freed blocks up to this size keep their pages resident for the next
/// module (a page fault costs more than wiping); larger ones are handed
/// back to the OS.
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
    alloc: Mutex<FirstFit>,
}

impl Window {
    /// Reserves a window of `size` bytes (rounded up to pages) below 2 GiB.
    pub fn new(size: u64) -> io::Result<Window> {
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
        let mapping = Mapping::reserve(size)?;
        let module_bytes = size - KERNEL_AREA_BYTES;
        let window = Window {
            alloc: Mutex::new(FirstFit::new(module_bytes / PAGE_SIZE)),
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

    /// Takes a block for `bytes` bytes (first fit, guard page after it)
    /// mapped with `prot`. With `wipe`, its bytes read as zero; without,
    /// the caller must write every byte of it before anything reads it.
    /// `None` when nothing fits.
    pub fn alloc(&self, bytes: u64, prot: Protection, wipe: bool) -> Option<ModuleBlock> {
        let pages = FirstFit::pages_for(bytes, PAGE_SIZE);
        let block = self.alloc.lock().expect("window lock").alloc(pages)?;
        let mb = ModuleBlock {
            addr: self.base() + block.first_page * PAGE_SIZE,
            block,
        };
        if self.mapping.protect(mb.addr, mb.size(), prot).is_err() {
            self.alloc.lock().expect("window lock").free(block);
            return None;
        }
        if wipe {
            self.mapping.zero(mb.addr, mb.size());
        }
        Some(mb)
    }

    /// Makes a block inaccessible and returns it to the window.
    pub fn free(&self, block: ModuleBlock) {
        let (addr, len) = (block.addr, block.size());
        // Cannot fail for a range of our own mapping with valid flags.
        let _ = self.mapping.protect(addr, len, Protection::None);
        if len > KEEP_RESIDENT_LIMIT {
            self.mapping.discard(addr, len);
        }
        self.alloc.lock().expect("window lock").free(block.block);
    }

    /// Current accounting.
    pub fn usage(&self) -> WindowUsage {
        let a = self.alloc.lock().expect("window lock");
        WindowUsage {
            base: self.base(),
            capacity: self.module_bytes,
            in_use: a.in_use() * PAGE_SIZE,
            blocks: a.blocks(),
            largest_free: a.largest_free() * PAGE_SIZE,
        }
    }
}
