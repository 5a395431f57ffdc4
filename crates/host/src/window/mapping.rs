//! The window's virtual memory: reservation below 2 GiB, protection
//! changes, and raw byte access. This file and `exec.rs` are the only
//! places that touch window memory through raw pointers.
//!
//! Module code may run on other threads (timers) while the host reads or
//! writes its memory, as in a kernel: all access here is by raw copies or
//! atomics, never through Rust references to the bytes.

use std::io;
use std::ptr;
use std::sync::atomic::{AtomicI32, AtomicU64};

/// Highest address (exclusive) the window may reach: 2 GiB, so that code
/// built with `-mcmodel=kernel`/`small` reaches it with 32-bit relocations.
pub const WINDOW_LIMIT: u64 = 0x8000_0000;

/// Lowest address tried for the window.
const FIRST_HINT: u64 = 0x1000_0000;

/// Distance between two tried placements.
const HINT_STEP: u64 = 0x0100_0000;

/// Page protections the host uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protection {
    /// Inaccessible (free pages and guard pages).
    None,
    /// Read only.
    Read,
    /// Read and write.
    ReadWrite,
    /// Read and execute.
    ReadExec,
    /// Read, write and execute (legacy 2.4 images).
    ReadWriteExec,
}

impl Protection {
    fn bits(self) -> libc::c_int {
        match self {
            Protection::None => libc::PROT_NONE,
            Protection::Read => libc::PROT_READ,
            Protection::ReadWrite => libc::PROT_READ | libc::PROT_WRITE,
            Protection::ReadExec => libc::PROT_READ | libc::PROT_EXEC,
            Protection::ReadWriteExec => libc::PROT_READ | libc::PROT_WRITE | libc::PROT_EXEC,
        }
    }
}

/// One contiguous anonymous mapping that lies wholly below 2 GiB.
#[derive(Debug)]
pub struct Mapping {
    base: u64,
    len: u64,
}

impl Mapping {
    /// Reserves `len` bytes (a multiple of the page size), inaccessible,
    /// ending at or below [`WINDOW_LIMIT`]. Tries fixed placements from a
    /// low hint upward without replacing anything already mapped, then
    /// falls back to `MAP_32BIT`.
    pub fn reserve(len: u64) -> io::Result<Mapping> {
        if len == 0 || len >= WINDOW_LIMIT - FIRST_HINT {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("window size {len:#x} does not fit below 2 GiB"),
            ));
        }
        let flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE;
        let mut hint = FIRST_HINT;
        while hint + len <= WINDOW_LIMIT {
            // SAFETY: MAP_FIXED_NOREPLACE never replaces an existing mapping;
            // on success we own the new range exclusively.
            let p = unsafe {
                libc::mmap(
                    hint as *mut libc::c_void,
                    len as usize,
                    libc::PROT_NONE,
                    flags | libc::MAP_FIXED_NOREPLACE,
                    -1,
                    0,
                )
            };
            if p != libc::MAP_FAILED {
                if p as u64 == hint {
                    return Ok(Mapping { base: hint, len });
                }
                // An old kernel took the flag as a mere hint: give it back.
                // SAFETY: `p` is the mapping just created, of `len` bytes.
                unsafe { libc::munmap(p, len as usize) };
            }
            hint += HINT_STEP;
        }
        // SAFETY: a fresh anonymous mapping at an address of the kernel's choice.
        let p = unsafe {
            libc::mmap(
                ptr::null_mut(),
                len as usize,
                libc::PROT_NONE,
                flags | libc::MAP_32BIT,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let mapping = Mapping {
            base: p as u64,
            len,
        };
        if mapping.base + len > WINDOW_LIMIT {
            return Err(io::Error::new(
                io::ErrorKind::OutOfMemory,
                "no room for the module window below 2 GiB",
            ));
        }
        Ok(mapping)
    }

    /// First address of the mapping.
    pub fn base(&self) -> u64 {
        self.base
    }

    /// Length in bytes.
    pub fn size(&self) -> u64 {
        self.len
    }

    /// Whether `[addr, addr + len)` lies inside the mapping.
    pub fn contains(&self, addr: u64, len: u64) -> bool {
        addr >= self.base
            && addr
                .checked_add(len)
                .is_some_and(|end| end <= self.base + self.len)
    }

    fn check(&self, addr: u64, len: u64) {
        assert!(
            self.contains(addr, len),
            "window access {addr:#x}+{len:#x} outside the mapping"
        );
    }

    /// Changes the protection of whole pages.
    pub fn protect(&self, addr: u64, len: u64, prot: Protection) -> io::Result<()> {
        self.check(addr, len);
        // SAFETY: the range lies inside our own mapping; changing its
        // protection cannot affect memory the host's Rust code references.
        let r = unsafe { libc::mprotect(addr as *mut libc::c_void, len as usize, prot.bits()) };
        if r == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }

    /// Drops the pages' contents; they read as zero when touched again.
    pub fn discard(&self, addr: u64, len: u64) {
        self.check(addr, len);
        // SAFETY: MADV_DONTNEED on a private anonymous range of our own
        // mapping only zeroes it.
        unsafe { libc::madvise(addr as *mut libc::c_void, len as usize, libc::MADV_DONTNEED) };
    }

    /// Copies bytes out of the window. The range must be mapped readable.
    pub fn read(&self, addr: u64, out: &mut [u8]) {
        self.check(addr, out.len() as u64);
        // SAFETY: in bounds (checked above) and readable (the caller holds
        // the block); a raw copy, since module code may write concurrently.
        unsafe { ptr::copy_nonoverlapping(addr as *const u8, out.as_mut_ptr(), out.len()) };
    }

    /// Copies bytes into the window. The range must be mapped writable.
    pub fn write(&self, addr: u64, data: &[u8]) {
        self.check(addr, data.len() as u64);
        // SAFETY: in bounds (checked above), writable, and owned by the
        // caller's block; `data` cannot overlap window memory held as Rust data.
        unsafe { ptr::copy_nonoverlapping(data.as_ptr(), addr as *mut u8, data.len()) };
    }

    /// Runs `f` on `[addr, addr + len)` as a mutable slice: for building a
    /// module image in place, which must be mapped writable and belong to
    /// the caller alone (a block no module code runs in yet).
    pub fn with_bytes_mut<R>(&self, addr: u64, len: u64, f: impl FnOnce(&mut [u8]) -> R) -> R {
        self.check(addr, len);
        // SAFETY: in bounds and writable (checked and promised above). The
        // host touches window memory only through raw copies made under its
        // big lock, which the caller holds, so no other reference to these
        // bytes exists while `f` runs.
        let bytes = unsafe { std::slice::from_raw_parts_mut(addr as *mut u8, len as usize) };
        f(bytes)
    }

    /// Fills bytes with zero. The range must be mapped writable.
    pub fn zero(&self, addr: u64, len: u64) {
        self.check(addr, len);
        // SAFETY: as for `write`.
        unsafe { ptr::write_bytes(addr as *mut u8, 0, len as usize) };
    }

    /// The 8-byte word at `addr` as an atomic (for header members that
    /// module code updates too, such as `flags`).
    pub fn atomic_u64(&self, addr: u64) -> &AtomicU64 {
        self.check(addr, 8);
        assert!(addr % 8 == 0, "unaligned atomic");
        // SAFETY: aligned, in bounds and mapped for as long as `self`; an
        // atomic is the right way to share a word with concurrent code.
        unsafe { AtomicU64::from_ptr(addr as *mut u64) }
    }

    /// The 4-byte word at `addr` as an atomic (`uc.usecount`).
    pub fn atomic_i32(&self, addr: u64) -> &AtomicI32 {
        self.check(addr, 4);
        assert!(addr % 4 == 0, "unaligned atomic");
        // SAFETY: as for `atomic_u64`.
        unsafe { AtomicI32::from_ptr(addr as *mut i32) }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: the mapping is ours and nothing refers to it any more
        // (the host drops it last, after all module code has stopped).
        unsafe { libc::munmap(self.base as *mut libc::c_void, self.len as usize) };
    }
}
