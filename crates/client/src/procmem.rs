//! Another process's memory (or our own), read and written with
//! `process_vm_readv`/`process_vm_writev`: an unmapped address is an error,
//! never a crash, so a bad pointer becomes `EFAULT` where 2.4 gave it.

use umod_abi::PAGE_SIZE;

/// The memory of process `pid`.
#[derive(Clone, Copy, Debug)]
pub struct ProcessMemory {
    pid: libc::pid_t,
}

impl ProcessMemory {
    /// Process `pid`'s memory.
    pub fn of(pid: u32) -> ProcessMemory {
        ProcessMemory {
            pid: pid as libc::pid_t,
        }
    }

    /// This process's memory.
    pub fn own() -> ProcessMemory {
        ProcessMemory::of(std::process::id())
    }

    /// Copies `out.len()` bytes from `addr`; false unless all were read.
    pub fn read(&self, addr: u64, out: &mut [u8]) -> bool {
        if out.is_empty() {
            return true;
        }
        let local = libc::iovec {
            iov_base: out.as_mut_ptr().cast(),
            iov_len: out.len(),
        };
        let remote = libc::iovec {
            iov_base: addr as *mut libc::c_void,
            iov_len: out.len(),
        };
        // SAFETY: `local` describes `out`, which we own; the kernel checks
        // the remote range and reports a fault instead of touching it.
        let n = unsafe { libc::process_vm_readv(self.pid, &local, 1, &remote, 1, 0) };
        n == out.len() as isize
    }

    /// Copies `data` to `addr`; false unless all were written.
    pub fn write(&self, addr: u64, data: &[u8]) -> bool {
        if data.is_empty() {
            return true;
        }
        let local = libc::iovec {
            iov_base: data.as_ptr() as *mut libc::c_void,
            iov_len: data.len(),
        };
        let remote = libc::iovec {
            iov_base: addr as *mut libc::c_void,
            iov_len: data.len(),
        };
        // SAFETY: `local` describes `data`, only read by the kernel; the
        // remote range is checked by the kernel, which reports faults.
        let n = unsafe { libc::process_vm_writev(self.pid, &local, 1, &remote, 1, 0) };
        n == data.len() as isize
    }

    /// The bytes readable from `addr` on, up to `max`, read a page at a
    /// time: everything before the first unreadable page.
    pub fn readable(&self, addr: u64, max: u64) -> Vec<u8> {
        let mut out = Vec::new();
        let mut at = addr;
        while (out.len() as u64) < max {
            let chunk = (PAGE_SIZE - at % PAGE_SIZE).min(max - out.len() as u64) as usize;
            let mut buf = vec![0u8; chunk];
            if !self.read(at, &mut buf) {
                break;
            }
            out.extend_from_slice(&buf);
            match at.checked_add(chunk as u64) {
                Some(next) => at = next,
                None => break,
            }
        }
        out
    }

    /// What a name copy-in reads at `addr`: the bytes through the first NUL
    /// (and perhaps a few after it), at most 4096, stopping early at an
    /// unreadable page.
    pub fn name(&self, addr: u64) -> Vec<u8> {
        // Most names are short: a first read of 64 bytes (within the page)
        // usually holds the NUL, and the rest of the page is read only when
        // it does not. Page by page, so a fault falls where 2.4 had it.
        const FIRST: u64 = 64;
        let mut out = Vec::with_capacity(FIRST as usize);
        let mut at = addr;
        while (out.len() as u64) < PAGE_SIZE {
            let to_page_end = PAGE_SIZE - at % PAGE_SIZE;
            let want = if out.is_empty() {
                to_page_end.min(FIRST)
            } else {
                to_page_end
            };
            let chunk = want.min(PAGE_SIZE - out.len() as u64) as usize;
            let old = out.len();
            out.resize(old + chunk, 0);
            if !self.read(at, &mut out[old..]) {
                out.truncate(old);
                break;
            }
            if out[old..].contains(&0) {
                break;
            }
            match at.checked_add(chunk as u64) {
                Some(next) => at = next,
                None => break,
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_memory_and_faults() {
        let m = ProcessMemory::own();
        let data = *b"hello\0world";
        let mut out = [0u8; 11];
        assert!(m.read(data.as_ptr() as u64, &mut out));
        assert_eq!(out, data);
        assert!(!m.read(0, &mut out), "NULL faults");
        assert!(!m.read(u64::MAX - 4, &mut out));
        assert_eq!(m.name(data.as_ptr() as u64)[..6], *b"hello\0");
        // Longer than the first read: the rest follows.
        let mut long = vec![b'x'; 300];
        long.push(0);
        let got = m.name(long.as_ptr() as u64);
        assert_eq!(got[..301], long[..]);
        // No NUL at all: 4096 bytes, no more.
        let page = vec![b'y'; 3 * PAGE_SIZE as usize];
        assert_eq!(m.name(page.as_ptr() as u64 + 10), vec![b'y'; 4096]);
        assert!(m.readable(8, 100).is_empty());
        let mut target = [0u8; 4];
        assert!(m.write(target.as_mut_ptr() as u64, b"abcd"));
        assert_eq!(&target, b"abcd");
    }
}
