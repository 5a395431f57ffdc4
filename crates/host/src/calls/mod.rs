//! The five 2.4 module calls, one file each, in kernel order of checks.
//!
//! Each takes the caller, the caller's memory and raw addresses, exactly
//! like the syscalls, and runs under the host's big lock.

pub(crate) mod create;
pub(crate) mod delete;
pub(crate) mod init;
pub(crate) mod ksyms;
pub(crate) mod query;

use umod_abi::{Errno, PAGE_SIZE};

use crate::caller::{Caller, Personality};
use umod_abi::user::{read_cstr, UserMemory};

/// `get_mod_name`: copies a module name from the caller.
///
/// NULL or unreadable before the NUL → `EFAULT`; empty → `EINVAL`; no NUL
/// in the first 4096 bytes → `ENAMETOOLONG` (bytes past 4096 are never read).
pub(crate) fn get_mod_name(mem: &dyn UserMemory, addr: u64) -> Result<Vec<u8>, Errno> {
    match read_cstr(mem, addr, PAGE_SIZE as usize - 1) {
        Err(_) => Err(Errno::EFAULT),
        Ok(None) => Err(Errno::ENAMETOOLONG),
        Ok(Some(name)) if name.is_empty() => Err(Errno::EINVAL),
        Ok(Some(name)) => Ok(name),
    }
}

/// `put_user` of a `size_t`.
pub(crate) fn put_user_u64(mem: &mut dyn UserMemory, addr: u64, v: u64) -> Result<(), Errno> {
    mem.write(addr, &v.to_le_bytes()).map_err(|_| Errno::EFAULT)
}

/// The checks before anything else: the personality's ENOSYS, then
/// CAP_SYS_MODULE for the calls that change state.
pub(crate) fn gate(
    personality: Personality,
    caller: &Caller,
    exists_on_26: bool,
    privileged: bool,
) -> Result<(), Errno> {
    match personality {
        Personality::NoModules => return Err(Errno::ENOSYS),
        Personality::Linux26 if !exists_on_26 => return Err(Errno::ENOSYS),
        _ => {}
    }
    if privileged && !caller.cap_sys_module {
        return Err(Errno::EPERM);
    }
    Ok(())
}

/// `mod_bound(p, n, mod)`: `base + sos <= p` and `p + n <= base + size`,
/// with overflow counted as out of bounds (2.4's pointer sum could wrap).
pub(crate) fn mod_bound(p: u64, n: u64, base: u64, sos: u64, size: u64) -> bool {
    let (Some(lo), Some(hi), Some(end)) = (
        base.checked_add(sos),
        base.checked_add(size),
        p.checked_add(n),
    ) else {
        return false;
    };
    p >= lo && end <= hi
}
