//! `query_module(name, which, buf, bufsize, ret)`.

use umod_abi::{
    Errno, ModuleInfo, ModuleSymbol, QM_DEPS, QM_INFO, QM_MODULES, QM_PROBE, QM_REFS, QM_SYMBOLS,
};

use super::{get_mod_name, put_user_u64};
use crate::caller::Personality;
use crate::state::{Shared, State};
use umod_abi::user::UserMemory;

/// The target of a query: the kernel pseudo-module or a list entry.
#[derive(Clone, Copy)]
enum Target {
    Kernel,
    Module(usize),
}

/// The caller's memory and the output arguments `buf`, `bufsize`, `ret`.
pub(crate) struct Out<'a> {
    pub mem: &'a mut dyn UserMemory,
    pub buf: u64,
    pub bufsize: u64,
    pub ret: u64,
}

/// Spec §5: name resolution first, then dispatch on `which`.
pub(crate) fn query_module(
    sh: &Shared,
    st: &mut State,
    name_addr: u64,
    which: i32,
    mut out: Out<'_>,
) -> Result<(), Errno> {
    if sh.personality == Personality::NoModules {
        return if which == QM_PROBE {
            Ok(())
        } else {
            Err(Errno::ENOSYS)
        };
    }
    let target = if name_addr == 0 {
        Target::Kernel
    } else {
        let name = get_mod_name(out.mem, name_addr)?;
        Target::Module(st.find(sh, &name).ok_or(Errno::ENOENT)?)
    };
    // The target's use count is raised for the duration of the call (a
    // can_unload run by QM_INFO sees it); QM_INFO compensates.
    if let Target::Module(i) = target {
        sh.add_usecount(&st.modules[i], 1);
    }
    let result = match which {
        QM_PROBE => Ok(()),
        QM_MODULES => qm_modules(st, &mut out),
        QM_DEPS => qm_deps(sh, st, target, &mut out),
        QM_REFS => qm_refs(sh, st, target, &mut out),
        QM_SYMBOLS => qm_symbols(sh, st, target, &mut out),
        QM_INFO => qm_info(sh, st, target, &mut out),
        _ => Err(Errno::EINVAL),
    };
    if let Target::Module(i) = target {
        sh.add_usecount(&st.modules[i], -1);
    }
    result
}

/// Copies NUL-terminated names while they fit. Success: `*ret` = count.
/// At the first name that does not fit: `*ret` = bytes needed for the
/// whole list, `ENOSPC` (the names before it are already in `buf`).
fn copy_names(names: &[&[u8]], out: &mut Out<'_>) -> Result<(), Errno> {
    let mut at = out.buf;
    let mut left = out.bufsize;
    let mut space = 0u64;
    for (i, name) in names.iter().enumerate() {
        let len = name.len() as u64 + 1;
        if len > left {
            let needed = space + names[i..].iter().map(|n| n.len() as u64 + 1).sum::<u64>();
            put_user_u64(out.mem, out.ret, needed)?;
            return Err(Errno::ENOSPC);
        }
        let mut z = name.to_vec();
        z.push(0);
        out.mem.write(at, &z).map_err(|_| Errno::EFAULT)?;
        at = at.wrapping_add(len);
        left -= len;
        space += len;
    }
    put_user_u64(out.mem, out.ret, names.len() as u64)
}

fn qm_modules(st: &State, out: &mut Out<'_>) -> Result<(), Errno> {
    let names: Vec<&[u8]> = st.modules.iter().map(|m| &m.name[..]).collect();
    copy_names(&names, out)
}

/// Resolves the target to an entry that can answer DEPS/REFS/SYMBOLS:
/// `Ok(None)` means "not queryable": `*ret = 0` and success.
fn queryable(
    sh: &Shared,
    st: &State,
    target: Target,
    out: &mut Out<'_>,
) -> Result<Option<usize>, Errno> {
    match target {
        Target::Kernel => Err(Errno::EINVAL),
        Target::Module(i) if !sh.can_query(&st.modules[i]) => {
            put_user_u64(out.mem, out.ret, 0)?;
            Ok(None)
        }
        Target::Module(i) => Ok(Some(i)),
    }
}

fn qm_deps(sh: &Shared, st: &State, target: Target, out: &mut Out<'_>) -> Result<(), Errno> {
    let Some(i) = queryable(sh, st, target, out)? else {
        return Ok(());
    };
    let names: Vec<&[u8]> = st.modules[i].deps.iter().map(|&d| st.name_of(d)).collect();
    copy_names(&names, out)
}

fn qm_refs(sh: &Shared, st: &State, target: Target, out: &mut Out<'_>) -> Result<(), Errno> {
    let Some(i) = queryable(sh, st, target, out)? else {
        return Ok(());
    };
    let names: Vec<&[u8]> = st.modules[i]
        .refs
        .iter()
        .map(|&(user, _)| st.name_of(user))
        .collect();
    copy_names(&names, out)
}

fn qm_symbols(sh: &Shared, st: &State, target: Target, out: &mut Out<'_>) -> Result<(), Errno> {
    let syms: Vec<(u64, Vec<u8>)> = match target {
        Target::Kernel => st
            .exports
            .symbols()
            .iter()
            .map(|s| (s.value, s.name.clone()))
            .collect(),
        Target::Module(i) if !sh.can_query(&st.modules[i]) => {
            return put_user_u64(out.mem, out.ret, 0);
        }
        Target::Module(i) => sh.module_symbols(&st.modules[i]),
    };
    let table = 16 * syms.len() as u64;
    let total = table + syms.iter().map(|(_, n)| n.len() as u64 + 1).sum::<u64>();
    if table > out.bufsize {
        put_user_u64(out.mem, out.ret, total)?;
        return Err(Errno::ENOSPC);
    }
    if !out.mem.range_ok(out.buf, table) {
        return Err(Errno::EFAULT);
    }
    let mut left = out.bufsize - table;
    let mut space = table;
    for (k, (value, name)) in syms.iter().enumerate() {
        let len = name.len() as u64 + 1;
        if len > left {
            put_user_u64(out.mem, out.ret, total)?;
            return Err(Errno::ENOSPC);
        }
        let mut z = name.clone();
        z.push(0);
        let entry = ModuleSymbol {
            value: *value,
            name: space,
        };
        out.mem
            .write(out.buf.wrapping_add(space), &z)
            .and_then(|()| {
                out.mem
                    .write(out.buf.wrapping_add(16 * k as u64), &entry.encode())
            })
            .map_err(|_| Errno::EFAULT)?;
        left -= len;
        space += len;
    }
    put_user_u64(out.mem, out.ret, syms.len() as u64)
}

fn qm_info(sh: &Shared, st: &State, target: Target, out: &mut Out<'_>) -> Result<(), Errno> {
    let Target::Module(i) = target else {
        return Err(Errno::EINVAL);
    };
    let mut result = Ok(());
    if out.bufsize >= ModuleInfo::SIZE as u64 {
        let m = &st.modules[i];
        let info = ModuleInfo {
            addr: m.addr(),
            size: header_size(sh, st, i),
            flags: sh.flags(m),
            // One too high while we hold the target.
            usecount: reported_usecount(sh, st, i, 1),
        };
        out.mem
            .write(out.buf, &info.encode())
            .map_err(|_| Errno::EFAULT)?;
    } else {
        result = Err(Errno::ENOSPC);
    }
    put_user_u64(out.mem, out.ret, ModuleInfo::SIZE as u64)?;
    result
}

/// The header's `size` member: the created size until an image is in.
pub(crate) fn header_size(_sh: &Shared, st: &State, i: usize) -> u64 {
    let m = &st.modules[i];
    if m.image.sos == 0 {
        m.reserved
    } else {
        m.image.size
    }
}

/// The use count QM_INFO and /proc/modules report: -1 when a `can_unload`
/// callback says the module is busy (2.4.32; asked just before, without
/// the lock, by `refresh_can_unload`), else the count less `held` (the
/// query's own reference).
pub(crate) fn reported_usecount(sh: &Shared, st: &State, i: usize, held: i32) -> i64 {
    let m = &st.modules[i];
    if super::delete::last_can_unload(sh, m) == Some(true) {
        -1
    } else {
        i64::from(sh.usecount(m) - held)
    }
}
