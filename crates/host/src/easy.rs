//! Typed wrappers over the raw calls for programs that embed a host.
//!
//! The raw calls take addresses in a caller's memory; these take Rust
//! values, stage them in a [`ScratchSpace`] and decode the results.

use umod_abi::{Errno, KernelSym, QueryAnswer};

use crate::caller::Caller;
use crate::host::Host;
use umod_abi::user::ScratchSpace;

impl Host {
    /// `create_module` with a Rust name.
    pub fn create(&self, caller: &Caller, name: &str, size: u64) -> Result<u64, Errno> {
        let mut mem = ScratchSpace::new();
        let name = mem.put_cstr(name.as_bytes());
        self.create_module(caller, &mem, name, size)
    }

    /// `init_module` with a Rust name and image bytes.
    pub fn init(&self, caller: &Caller, name: &str, image: &[u8]) -> Result<(), Errno> {
        let mut mem = ScratchSpace::new();
        let name = mem.put_cstr(name.as_bytes());
        let image = mem.put(image);
        self.init_module(caller, &mem, name, image)
    }

    /// `delete_module`; `None` runs the autoclean sweep.
    pub fn delete(&self, caller: &Caller, name: Option<&str>) -> Result<(), Errno> {
        let mut mem = ScratchSpace::new();
        let name = name.map_or(0, |n| mem.put_cstr(n.as_bytes()));
        self.delete_module(caller, &mem, name)
    }

    /// `query_module`, growing the buffer on `ENOSPC` as insmod does;
    /// `None` queries the kernel pseudo-module.
    pub fn query(&self, name: Option<&str>, which: i32) -> Result<QueryAnswer, Errno> {
        let caller = Caller::user(0, 0);
        let mut size = 256u64;
        loop {
            let mut mem = ScratchSpace::new();
            let name_addr = name.map_or(0, |n| mem.put_cstr(n.as_bytes()));
            let buf = mem.alloc(size as usize);
            let ret = mem.alloc(8);
            match self.query_module(&caller, &mut mem, name_addr, which, buf, size, ret) {
                Ok(()) => {
                    let n = mem.peek_u64(ret).unwrap_or(0);
                    let bytes = mem.peek(buf, size as usize).unwrap_or_default();
                    return QueryAnswer::decode(which, &bytes, n).ok_or(Errno::EPROTO);
                }
                Err(Errno::ENOSPC) => {
                    let needed = mem.peek_u64(ret).unwrap_or(0);
                    if needed <= size {
                        return Err(Errno::ENOSPC);
                    }
                    size = needed;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// `get_kernel_syms`: counts, allocates and fills, as old insmod did.
    /// Fails with `EAGAIN` when the two calls disagree ("inconsistency with
    /// get_kernel_syms", e.g. uninitialized entries make the count larger).
    pub fn kernel_syms(&self) -> Result<Vec<KernelSym>, Errno> {
        let caller = Caller::user(0, 0);
        let mut mem = ScratchSpace::new();
        let n = self.get_kernel_syms(&caller, &mut mem, 0)?;
        let table = mem.alloc(n as usize * KernelSym::SIZE);
        let written = self.get_kernel_syms(&caller, &mut mem, table)?;
        let bytes = mem
            .peek(table, written as usize * KernelSym::SIZE)
            .unwrap_or_default();
        let syms = bytes
            .chunks_exact(KernelSym::SIZE)
            .map(|c| KernelSym::decode(c.try_into().expect("72 bytes")))
            .collect();
        if written != n {
            return Err(Errno::EAGAIN);
        }
        Ok(syms)
    }
}
