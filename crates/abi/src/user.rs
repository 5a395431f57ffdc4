//! The caller's address space, as the module calls see it.
//!
//! Every pointer argument of the five calls is an address in the caller's
//! memory. A [`UserMemory`] copies bytes in and out of it and reports an
//! unreadable or unwritable address as a [`Fault`], which the calls turn
//! into `EFAULT` exactly where Linux 2.4 does. The interceptor implements it
//! over another process (`process_vm_readv`); in-process callers use a
//! [`ScratchSpace`], a small simulated address space made of page-granular
//! regions holding their slices.

use crate::{usize_of, PAGE_SIZE, TASK_SIZE};

/// An access to caller memory that is not mapped (or not permitted).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fault {
    /// The first address that could not be accessed.
    pub addr: u64,
}

/// The caller's memory.
pub trait UserMemory {
    /// Copies `out.len()` bytes starting at `addr`; all or nothing.
    fn read(&self, addr: u64, out: &mut [u8]) -> Result<(), Fault>;

    /// Copies `data` to `addr`; all or nothing.
    fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), Fault>;

    /// The user-range check (`access_ok`): the range does not wrap and ends
    /// at or below the top of user space. It says nothing about mappings.
    fn range_ok(&self, addr: u64, len: u64) -> bool {
        addr.checked_add(len).is_some_and(|end| end <= TASK_SIZE)
    }
}

/// Reads a NUL-terminated string of at most `limit` bytes (NUL excluded) the
/// way `strncpy_from_user` does: page by page, so a string that ends just
/// before an unmapped page is read without touching it.
///
/// Returns the bytes before the NUL, or `Ok(None)` when no NUL was found in
/// the first `limit + 1` bytes (which are then the only ones read).
pub fn read_cstr(mem: &dyn UserMemory, addr: u64, limit: usize) -> Result<Option<Vec<u8>>, Fault> {
    let mut out = Vec::new();
    let mut at = addr;
    let total = limit as u64 + 1;
    while (out.len() as u64) < total {
        let to_page_end = PAGE_SIZE - at % PAGE_SIZE;
        let chunk = usize_of(to_page_end.min(total - out.len() as u64));
        let mut buf = vec![0u8; chunk];
        mem.read(at, &mut buf).map_err(|_| Fault { addr: at })?;
        if let Some(nul) = buf.iter().position(|&c| c == 0) {
            out.extend_from_slice(&buf[..nul]);
            return Ok(Some(out));
        }
        out.extend_from_slice(&buf);
        at = at
            .checked_add(chunk as u64)
            .ok_or(Fault { addr: u64::MAX })?;
    }
    Ok(None)
}

/// A simulated user address space for in-process callers and tests.
///
/// Regions are whole pages at addresses far from the module window, each
/// followed by an unmapped page. Address 0 and `u64::MAX` are never mapped,
/// so `NULL` and `(char *)-1` fault as they do for a real process.
#[derive(Debug, Default)]
pub struct ScratchSpace {
    regions: Vec<Region>,
    next: u64,
}

#[derive(Debug)]
struct Region {
    start: u64,
    bytes: Vec<u8>,
    writable: bool,
}

/// Where scratch regions start: high in user space, far from the window.
const SCRATCH_BASE: u64 = 0x6000_0000_0000;

impl ScratchSpace {
    /// An empty space.
    pub fn new() -> ScratchSpace {
        ScratchSpace {
            regions: Vec::new(),
            next: SCRATCH_BASE,
        }
    }

    fn map(&mut self, len: usize, writable: bool) -> u64 {
        let pages = (len as u64).div_ceil(PAGE_SIZE).max(1);
        let start = self.next;
        self.next += (pages + 1) * PAGE_SIZE;
        self.regions.push(Region {
            start,
            bytes: vec![0; usize_of(pages * PAGE_SIZE)],
            writable,
        });
        start
    }

    /// Maps a zeroed, writable buffer of at least `len` bytes and returns
    /// its address.
    pub fn alloc(&mut self, len: usize) -> u64 {
        self.map(len, true)
    }

    /// Maps a copy of `bytes` (writable) and returns its address.
    pub fn put(&mut self, bytes: &[u8]) -> u64 {
        let addr = self.map(bytes.len(), true);
        self.poke(addr, bytes);
        addr
    }

    /// Maps `s` followed by a NUL and returns its address.
    pub fn put_cstr(&mut self, s: &[u8]) -> u64 {
        let mut v = s.to_vec();
        v.push(0);
        self.put(&v)
    }

    /// Maps `bytes` so that they end exactly at the end of their region:
    /// the byte after the last one is unmapped.
    pub fn put_at_page_end(&mut self, bytes: &[u8]) -> u64 {
        let region = self.map(bytes.len(), true);
        let len = self.regions.last().expect("just mapped").bytes.len();
        let addr = region + (len - bytes.len()) as u64;
        self.poke(addr, bytes);
        addr
    }

    /// Maps `bytes` at `addr`, padded with zeros to whole pages (memory is
    /// mapped in pages, so what a caller read up to a fault or a NUL lies in
    /// pages that are mapped whole). For rebuilding a remote caller's
    /// memory from the regions it sent. Fails if the pages overlap a region
    /// already mapped or leave user space.
    pub fn map_at(&mut self, addr: u64, bytes: &[u8], writable: bool) -> Result<(), Fault> {
        let start = addr / PAGE_SIZE * PAGE_SIZE;
        let end = addr
            .checked_add(bytes.len().max(1) as u64)
            .and_then(|e| e.checked_next_multiple_of(PAGE_SIZE))
            .filter(|&e| e <= TASK_SIZE)
            .ok_or(Fault { addr })?;
        let mut page_bytes = vec![0u8; usize_of(end - start)];
        let off = usize_of(addr - start);
        page_bytes[off..off + bytes.len()].copy_from_slice(bytes);
        self.map_owned(start, page_bytes, writable)
            .map_err(|_| Fault { addr })
    }

    /// [`map_at`](Self::map_at) for bytes the caller gives up: a whole
    /// number of pages at a page boundary is taken without a copy.
    pub fn map_owned(&mut self, addr: u64, bytes: Vec<u8>, writable: bool) -> Result<(), Fault> {
        let len = bytes.len() as u64;
        if addr % PAGE_SIZE != 0 || len == 0 || len % PAGE_SIZE != 0 {
            return self.map_at(addr, &bytes, writable);
        }
        let end = addr
            .checked_add(len)
            .filter(|&e| e <= TASK_SIZE)
            .ok_or(Fault { addr })?;
        let overlaps = self
            .regions
            .iter()
            .any(|r| addr < r.start + r.bytes.len() as u64 && r.start < end);
        if overlaps {
            return Err(Fault { addr });
        }
        self.regions.push(Region {
            start: addr,
            bytes,
            writable,
        });
        Ok(())
    }

    /// Every mapped region as (first address, bytes, writable).
    pub fn regions(&self) -> impl Iterator<Item = (u64, &[u8], bool)> {
        self.regions
            .iter()
            .map(|r| (r.start, &r.bytes[..], r.writable))
    }

    /// Maps a read-only copy of `bytes` (writes to it fault).
    pub fn put_read_only(&mut self, bytes: &[u8]) -> u64 {
        let addr = self.put(bytes);
        self.regions.last_mut().expect("just mapped").writable = false;
        addr
    }

    fn region(&self, addr: u64, len: u64) -> Option<(usize, usize)> {
        let end = addr.checked_add(len)?;
        self.regions.iter().enumerate().find_map(|(i, r)| {
            let r_end = r.start + r.bytes.len() as u64;
            (addr >= r.start && end <= r_end).then(|| (i, usize_of(addr - r.start)))
        })
    }

    /// Reads back `len` bytes at `addr` (for the caller's own use).
    pub fn peek(&self, addr: u64, len: usize) -> Option<Vec<u8>> {
        let mut out = vec![0; len];
        self.read(addr, &mut out).ok()?;
        Some(out)
    }

    /// Reads back a little-endian u64 at `addr`.
    pub fn peek_u64(&self, addr: u64) -> Option<u64> {
        let b = self.peek(addr, 8)?;
        Some(u64::from_le_bytes(b.try_into().ok()?))
    }

    /// Writes bytes regardless of the region's write permission (the
    /// caller setting up its own memory). Panics if unmapped.
    pub fn poke(&mut self, addr: u64, data: &[u8]) {
        let (i, off) = self
            .region(addr, data.len() as u64)
            .expect("poke into unmapped scratch memory");
        self.regions[i].bytes[off..off + data.len()].copy_from_slice(data);
    }
}

impl UserMemory for ScratchSpace {
    fn read(&self, addr: u64, out: &mut [u8]) -> Result<(), Fault> {
        if out.is_empty() {
            return Ok(());
        }
        let (i, off) = self.region(addr, out.len() as u64).ok_or(Fault { addr })?;
        out.copy_from_slice(&self.regions[i].bytes[off..off + out.len()]);
        Ok(())
    }

    fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), Fault> {
        if data.is_empty() {
            return Ok(());
        }
        let (i, off) = self
            .region(addr, data.len() as u64)
            .filter(|&(i, _)| self.regions[i].writable)
            .ok_or(Fault { addr })?;
        self.regions[i].bytes[off..off + data.len()].copy_from_slice(data);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_and_minus_one_fault() {
        let s = ScratchSpace::new();
        let mut b = [0u8; 1];
        assert!(s.read(0, &mut b).is_err());
        assert!(s.read(u64::MAX, &mut b).is_err());
    }

    #[test]
    fn cstr_stops_at_nul_before_an_unmapped_page() {
        let mut s = ScratchSpace::new();
        let a = s.put_at_page_end(b"abc\0");
        assert_eq!(read_cstr(&s, a, 4095).unwrap(), Some(b"abc".to_vec()));
        let b = s.put_at_page_end(b"abc");
        assert_eq!(read_cstr(&s, b, 4095), Err(Fault { addr: b + 3 }));
    }

    #[test]
    fn cstr_limit_reads_no_further() {
        let mut s = ScratchSpace::new();
        let a = s.put_at_page_end(&[b'm'; 4096]);
        // 4096 bytes without NUL, then an unmapped page: too long, not a fault.
        assert_eq!(read_cstr(&s, a, 4095).unwrap(), None);
    }

    #[test]
    fn map_owned_takes_whole_pages_and_refuses_overlap() {
        let mut s = ScratchSpace::new();
        let page = vec![7u8; PAGE_SIZE as usize];
        s.map_owned(0x10_0000, page.clone(), false).unwrap();
        assert_eq!(s.peek(0x10_0fff, 1).unwrap(), [7]);
        assert!(s.write(0x10_0000, b"q").is_err(), "read-only");
        assert!(s.map_owned(0x10_0000, page, true).is_err(), "overlap");
        // Unaligned bytes are padded to pages like map_at.
        s.map_owned(0x20_0010, b"ab".to_vec(), true).unwrap();
        assert_eq!(s.peek(0x20_0000, 0x12).unwrap()[0x10..], *b"ab");
    }

    #[test]
    fn read_only_regions_refuse_writes() {
        let mut s = ScratchSpace::new();
        let a = s.put_read_only(b"xyz");
        assert!(s.write(a, b"q").is_err());
        assert_eq!(s.peek(a, 3).unwrap(), b"xyz");
    }
}
