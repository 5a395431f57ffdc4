//! The window's virtual memory: reservation below 2 GiB, protection
//! changes, and raw byte access. This file and `exec.rs` are the only
//! places that touch window memory through raw pointers.
//!
//! The memory is one memory file mapped twice. The *module view*, below
//! 2 GiB, is where modules live and run; each page there is W^X or
//! inaccessible (legacy 2.4 images excepted). The *host view*, at an
//! address of the kernel's choice, is always read-write and never
//! executable: the host reads and writes through it only, so building a
//! module into pages that are read-execute in the module view needs no
//! protection change (the JIT "dual mapping" way to W^X). Where the system
//! refuses an executable memory file, one anonymous view serves as both.
//!
//! Module code may run on other threads (timers) while the host reads or
//! writes its memory, as in a kernel: all access here is by raw copies or
//! atomics, never through Rust references to the bytes.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
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

/// One memory file mapped as the module view (wholly below 2 GiB) and as
/// the host view.
#[derive(Debug)]
pub struct Mapping {
    base: u64,
    len: u64,
    host_view: u64,
}

/// A fresh memory file of `len` bytes that may be mapped executable.
fn memory_file(len: u64) -> io::Result<OwnedFd> {
    use rustix::fs::{memfd_create, MemfdFlags};
    let name = "umod-window";
    let fd = match memfd_create(name, MemfdFlags::CLOEXEC | MemfdFlags::EXEC) {
        // Before Linux 6.3 there is no MFD_EXEC, and every memfd may be
        // mapped executable.
        Err(rustix::io::Errno::INVAL) => memfd_create(name, MemfdFlags::CLOEXEC),
        r => r,
    }
    .map_err(|e| {
        io::Error::new(
            io::Error::from(e).kind(),
            format!("cannot create the window's memory file: {e}"),
        )
    })?;
    rustix::fs::ftruncate(&fd, len)?;
    Ok(fd)
}

/// Maps `len` bytes with `prot` at `addr` (with `flags`): of `fd`,
/// shared, or else anonymous and private.
fn map_view(
    addr: u64,
    len: u64,
    prot: libc::c_int,
    flags: libc::c_int,
    fd: Option<&OwnedFd>,
) -> Option<u64> {
    let (share, fd) = match fd {
        Some(fd) => (libc::MAP_SHARED, fd.as_raw_fd()),
        None => (libc::MAP_PRIVATE | libc::MAP_ANONYMOUS, -1),
    };
    // SAFETY: a mapping of our own memory file or fresh anonymous memory;
    // callers pass MAP_FIXED_NOREPLACE or no fixed address, so nothing is
    // replaced.
    let p = unsafe {
        libc::mmap(
            addr as *mut libc::c_void,
            len as usize,
            prot,
            share | libc::MAP_NORESERVE | flags,
            fd,
            0,
        )
    };
    (p != libc::MAP_FAILED).then_some(p as u64)
}

/// Unmaps a mapping `map_view` made.
fn unmap(addr: u64, len: u64) {
    // SAFETY: the range is a mapping of ours that nothing refers to.
    unsafe { libc::munmap(addr as *mut libc::c_void, len as usize) };
}

/// Maps the module view, inaccessible, wholly below [`WINDOW_LIMIT`]:
/// fixed placements from a low hint upward without replacing anything
/// already mapped, then `MAP_32BIT`.
fn place_module_view(len: u64, fd: Option<&OwnedFd>) -> io::Result<u64> {
    let mut hint = FIRST_HINT;
    while hint + len <= WINDOW_LIMIT {
        let fixed = libc::MAP_FIXED_NOREPLACE;
        if let Some(p) = map_view(hint, len, libc::PROT_NONE, fixed, fd) {
            if p == hint {
                return Ok(p);
            }
            // An old kernel took the flag as a mere hint: give it back.
            unmap(p, len);
        }
        hint += HINT_STEP;
    }
    let base = map_view(0, len, libc::PROT_NONE, libc::MAP_32BIT, fd)
        .ok_or_else(io::Error::last_os_error)?;
    if base + len > WINDOW_LIMIT {
        unmap(base, len);
        return Err(io::Error::new(
            io::ErrorKind::OutOfMemory,
            "no room for the module window below 2 GiB",
        ));
    }
    Ok(base)
}

impl Mapping {
    /// Reserves `len` bytes (a multiple of the page size) of a fresh
    /// memory file: the module view inaccessible and ending at or below
    /// [`WINDOW_LIMIT`], the host view read-write. Where the system will
    /// not have an executable memory file (`vm.memfd_noexec=2`), falls
    /// back to one anonymous view (see [`Mapping::has_host_view`]).
    pub fn reserve(len: u64) -> io::Result<Mapping> {
        if len == 0 || len >= WINDOW_LIMIT - FIRST_HINT {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("window size {len:#x} does not fit below 2 GiB"),
            ));
        }
        let Ok(fd) = memory_file(len) else {
            return Mapping::reserve_single_view(len);
        };
        let rw = libc::PROT_READ | libc::PROT_WRITE;
        let host_view = map_view(0, len, rw, 0, Some(&fd)).ok_or_else(io::Error::last_os_error)?;
        match place_module_view(len, Some(&fd)) {
            Ok(base) => Ok(Mapping {
                base,
                len,
                host_view,
            }),
            Err(e) => {
                unmap(host_view, len);
                Err(e)
            }
        }
    }

    /// Reserves `len` bytes as one anonymous view: the host then reaches
    /// the memory at module addresses, and may touch a page only while the
    /// module view lets it.
    pub fn reserve_single_view(len: u64) -> io::Result<Mapping> {
        let base = place_module_view(len, None)?;
        Ok(Mapping {
            base,
            len,
            host_view: base,
        })
    }

    /// Whether the host has its own read-write view. Without one, a block
    /// must be writable in the module view while the host builds it.
    pub fn has_host_view(&self) -> bool {
        self.host_view != self.base
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

    /// Panics unless `[addr, addr + len)` lies inside the window (a host
    /// bug, never input).
    fn check(&self, addr: u64, len: u64) {
        assert!(
            self.contains(addr, len),
            "window access {addr:#x}+{len:#x} outside the mapping"
        );
    }

    /// Where module-view address `addr` is in the host view, for an access
    /// of `len` bytes inside the window.
    fn host_ptr(&self, addr: u64, len: u64) -> *mut u8 {
        self.check(addr, len);
        (self.host_view + (addr - self.base)) as *mut u8
    }

    /// Changes the module view's protection of whole pages.
    pub fn protect(&self, addr: u64, len: u64, prot: Protection) -> io::Result<()> {
        self.check(addr, len);
        // SAFETY: the range lies inside our module view; the host's Rust
        // code holds no references into window memory (raw copies and
        // atomics only), so no reference loses its access.
        let r = unsafe { libc::mprotect(addr as *mut libc::c_void, len as usize, prot.bits()) };
        if r == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }

    /// Gives the pages' memory back to the system; they read as zero in
    /// both views when touched again.
    pub fn discard(&self, addr: u64, len: u64) {
        let p = self.host_ptr(addr, len);
        // A file's pages are freed by punching them out; private anonymous
        // ones by dropping them.
        let advice = if self.has_host_view() {
            libc::MADV_REMOVE
        } else {
            libc::MADV_DONTNEED
        };
        // SAFETY: on a range of our own mapping, either advice only zeroes
        // window memory.
        unsafe { libc::madvise(p.cast(), len as usize, advice) };
    }

    /// Copies bytes out of the window (whatever the module view allows).
    pub fn read(&self, addr: u64, out: &mut [u8]) {
        let p = self.host_ptr(addr, out.len() as u64);
        // SAFETY: in bounds of the always-readable host view (checked
        // above); a raw copy, since module code may write concurrently.
        unsafe { ptr::copy_nonoverlapping(p, out.as_mut_ptr(), out.len()) };
    }

    /// Copies bytes into the window (whatever the module view allows).
    pub fn write(&self, addr: u64, data: &[u8]) {
        let p = self.host_ptr(addr, data.len() as u64);
        // SAFETY: in bounds of the always-writable host view, and owned by
        // the caller's block; `data` cannot overlap window memory held as
        // Rust data.
        unsafe { ptr::copy_nonoverlapping(data.as_ptr(), p, data.len()) };
    }

    /// Runs `f` on `[addr, addr + len)` as a mutable slice: for building a
    /// module image in place.
    ///
    /// # Safety
    /// Nothing else reads or writes those bytes while `f` runs: they are a
    /// block just handed to the caller, in which no module code runs yet,
    /// and no other call of this function covers them.
    pub unsafe fn with_bytes_mut<R>(
        &self,
        addr: u64,
        len: u64,
        f: impl FnOnce(&mut [u8]) -> R,
    ) -> R {
        let p = self.host_ptr(addr, len);
        // SAFETY: in bounds of the host view, which is always writable;
        // the caller guarantees the bytes are its alone while `f` runs.
        let bytes = unsafe { std::slice::from_raw_parts_mut(p, len as usize) };
        f(bytes)
    }

    /// Sets every byte of `[addr, addr + len)` to `byte`.
    pub fn fill(&self, addr: u64, len: u64, byte: u8) {
        let p = self.host_ptr(addr, len);
        // SAFETY: as for `write`.
        unsafe { ptr::write_bytes(p, byte, len as usize) };
    }

    /// Fills bytes with zero.
    pub fn zero(&self, addr: u64, len: u64) {
        self.fill(addr, len, 0);
    }

    /// The 8-byte word at `addr` as an atomic (for header members that
    /// module code updates too, such as `flags`). Both views reach the
    /// same memory, so atomics through the host view are seen by module
    /// code through the module view.
    pub fn atomic_u64(&self, addr: u64) -> &AtomicU64 {
        let p = self.host_ptr(addr, 8);
        assert!(addr % 8 == 0, "unaligned atomic");
        // SAFETY: aligned, in bounds and mapped for as long as `self`; an
        // atomic is the right way to share a word with concurrent code.
        unsafe { AtomicU64::from_ptr(p.cast()) }
    }

    /// The 4-byte word at `addr` as an atomic (`uc.usecount`).
    pub fn atomic_i32(&self, addr: u64) -> &AtomicI32 {
        let p = self.host_ptr(addr, 4);
        assert!(addr % 4 == 0, "unaligned atomic");
        // SAFETY: as for `atomic_u64`.
        unsafe { AtomicI32::from_ptr(p.cast()) }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // Nothing refers to either view any more: the host drops the
        // mapping last, after all module code has stopped.
        unmap(self.base, self.len);
        if self.has_host_view() {
            unmap(self.host_view, self.len);
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use std::os::unix::fs::FileExt;

    /// The permissions /proc/self/maps shows at `addr` (`rwx` letters).
    pub fn perms(addr: u64) -> String {
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
        maps.lines()
            .find_map(|line| {
                let (range, rest) = line.split_once(' ')?;
                let (lo, hi) = range.split_once('-')?;
                let lo = u64::from_str_radix(lo, 16).ok()?;
                let hi = u64::from_str_radix(hi, 16).ok()?;
                (lo..hi).contains(&addr).then(|| rest[..3].to_string())
            })
            .expect("mapped")
    }

    /// Bytes at `addr` as the process sees them, whatever their protection.
    pub fn peek(addr: u64, len: usize) -> Vec<u8> {
        let mem = std::fs::File::open("/proc/self/mem").unwrap();
        let mut out = vec![0u8; len];
        mem.read_exact_at(&mut out, addr).unwrap();
        out
    }

    #[test]
    fn the_host_writes_code_the_module_view_runs_without_making_it_writable() {
        let m = Mapping::reserve(1 << 20).unwrap();
        let code = m.base();
        m.protect(code, 4096, Protection::ReadExec).unwrap();
        m.write(code, &[0x31, 0xc0, 0xc3]);
        assert_eq!(peek(code, 3), [0x31, 0xc0, 0xc3]);
        assert_eq!(perms(code), "r-x");
        assert_eq!(perms(m.host_view), "rw-", "the host view never runs");
        assert_eq!(perms(code + 4096), "---", "the rest stays reserved");
        let mut back = [0u8; 3];
        m.read(code, &mut back);
        assert_eq!(back, [0x31, 0xc0, 0xc3]);
        m.discard(code, 4096);
        assert_eq!(peek(code, 3), [0, 0, 0], "discarded memory reads as zero");
        assert!(m.base() + m.size() <= WINDOW_LIMIT);
    }
}
