//! Forwarding a raw module syscall made by a process (an intercepted
//! program, or a program linked with libumod): gather the memory the call
//! may touch from that process, run it through the daemon or an embedded
//! host, and write the results back into the process.

use umod_abi::{Errno, KernelSym, ModuleHeader, QM_PROBE};

use crate::procmem::ProcessMemory;
use crate::protocol::{CallKind, Region, Request, Response};

/// Largest image or buffer forwarded (larger ones are cut, and a read past
/// the cut faults as an unmapped page would).
pub const MAX_REGION: u64 = 64 << 20;

/// Where forwarded calls go.
pub trait Backend {
    /// Runs a request; `Err` carries an errno for the syscall.
    fn request(&mut self, req: Request) -> Result<Response, Errno>;
}

impl Backend for crate::Client {
    fn request(&mut self, req: Request) -> Result<Response, Errno> {
        crate::Client::request(self, &req).map_err(|e| e.errno())
    }
}

fn name_region(mem: &ProcessMemory, addr: u64, regions: &mut Vec<Region>) {
    if addr != 0 {
        let bytes = mem.name(addr);
        if !bytes.is_empty() {
            regions.push(Region {
                addr,
                bytes,
                writable: false,
            });
        }
    }
}

fn buffer_region(mem: &ProcessMemory, addr: u64, len: u64, regions: &mut Vec<Region>) {
    if addr != 0 && len != 0 {
        let bytes = mem.readable(addr, len.min(MAX_REGION));
        if !bytes.is_empty() {
            // Memory the process can read is taken as writable: a buffer
            // mapped read-only is the one case this gets wrong.
            regions.push(Region {
                addr,
                bytes,
                writable: true,
            });
        }
    }
}

/// The memory a call with `args` may touch in `mem`'s process.
/// `kernel_syms_count` answers `get_kernel_syms(NULL)` when the table size
/// is needed.
pub fn regions_for(
    call: CallKind,
    args: [u64; 6],
    mem: &ProcessMemory,
    kernel_syms_count: impl FnOnce() -> i64,
) -> Vec<Region> {
    let mut regions = Vec::new();
    match call {
        CallKind::Create | CallKind::Delete => name_region(mem, args[0], &mut regions),
        CallKind::Init => {
            name_region(mem, args[0], &mut regions);
            let image = args[1];
            let head = mem.readable(image, umod_abi::module::MODULE_HEADER_SIZE as u64);
            let size = ModuleHeader::decode(&head).size;
            let want = size.clamp(umod_abi::module::MAX_SIZE_OF_STRUCT, MAX_REGION);
            let bytes = mem.readable(image, want);
            if !bytes.is_empty() {
                regions.push(Region {
                    addr: image,
                    bytes,
                    writable: false,
                });
            }
        }
        CallKind::Query => {
            name_region(mem, args[0], &mut regions);
            if args[1] as i32 != QM_PROBE {
                buffer_region(mem, args[2], args[3], &mut regions);
                buffer_region(mem, args[4], 8, &mut regions);
            }
        }
        CallKind::KernelSyms => {
            if args[0] != 0 {
                let n = kernel_syms_count().max(0) as u64;
                buffer_region(mem, args[0], n * KernelSym::SIZE as u64, &mut regions);
            }
        }
    }
    regions
}

/// The call a syscall number stands for (x86_64: 174 to 178).
pub fn call_of(nr: i64) -> Option<CallKind> {
    Some(match nr as u64 {
        umod_abi::SYS_CREATE_MODULE => CallKind::Create,
        umod_abi::SYS_INIT_MODULE => CallKind::Init,
        umod_abi::SYS_DELETE_MODULE => CallKind::Delete,
        umod_abi::SYS_GET_KERNEL_SYMS => CallKind::KernelSyms,
        umod_abi::SYS_QUERY_MODULE => CallKind::Query,
        _ => return None,
    })
}

/// Runs syscall `call` of process `pid` with its raw arguments through
/// `backend` and writes the results back into the process; returns the raw
/// syscall result (a value, or `-errno`). `on_behalf_of` is the pid the
/// daemon should take the credentials of (0: the backend's own caller).
/// `still_valid` is asked after the process's memory was read and before
/// anything is done with it (a seccomp supervisor re-checks that the
/// notification is still live); `None` when it says no.
pub fn forward(
    backend: &mut dyn Backend,
    pid: u32,
    on_behalf_of: u32,
    call: CallKind,
    args: [u64; 6],
    still_valid: &mut dyn FnMut() -> bool,
) -> Option<i64> {
    let mem = ProcessMemory::of(pid);
    let count_backend = |b: &mut dyn Backend| -> i64 {
        let req = Request::Call {
            call: CallKind::KernelSyms,
            args: [0; 5],
            regions: Vec::new(),
            on_behalf_of,
            on_behalf_cap: false,
            tied: false,
        };
        match b.request(req) {
            Ok(Response::CallResult { ret, .. }) => ret,
            _ => 0,
        }
    };
    let count = if call == CallKind::KernelSyms && args[0] != 0 {
        count_backend(backend)
    } else {
        0
    };
    let regions = regions_for(call, args, &mem, || count);
    // The process's capability is read before the validity check too, so
    // that it is the capability of the process that made the call (after
    // the check, a pid may already name another process). Only the calls
    // that need privilege pay for it.
    let needs_privilege = matches!(call, CallKind::Create | CallKind::Init | CallKind::Delete);
    let on_behalf_cap = on_behalf_of != 0
        && needs_privilege
        && crate::caps::has(on_behalf_of, crate::caps::CAP_SYS_MODULE);
    if !still_valid() {
        return None;
    }
    let req = Request::Call {
        call,
        args: [args[0], args[1], args[2], args[3], args[4]],
        regions,
        on_behalf_of,
        on_behalf_cap,
        tied: false,
    };
    Some(match backend.request(req) {
        Ok(Response::CallResult { ret, writes }) => {
            // Only query_module and get_kernel_syms write, and neither
            // changes the host: a buffer the process can read but not
            // write (read-only mapping) fails the call as copy_to_user did.
            let mut ret = ret;
            for (addr, bytes) in writes {
                if !mem.write(addr, &bytes) {
                    ret = Errno::EFAULT.as_negative();
                }
            }
            ret
        }
        Ok(Response::Error { errno, .. }) => -i64::from(errno),
        Ok(_) => Errno::EPROTO.as_negative(),
        Err(e) => e.as_negative(),
    })
}
