//! `delete_module(name)` and `delete_module(NULL)`, the autoclean sweep.

use umod_abi::{
    Errno, MOD_AUTOCLEAN, MOD_DELETED, MOD_JUST_FREED, MOD_RUNNING, MOD_USED_ONCE, MOD_VISITED,
};

use super::get_mod_name;
use crate::oops;
use crate::services::KERN_WARNING;
use crate::state::{Module, Shared, State};
use crate::user::UserMemory;

/// Spec §4 rows 2-6 (EPERM was checked by the caller). `name_addr == 0`
/// is the autoclean sweep.
pub(crate) fn delete_module(
    sh: &Shared,
    st: &mut State,
    mem: &dyn UserMemory,
    name_addr: u64,
) -> Result<(), Errno> {
    if name_addr == 0 {
        sweep(sh, st);
        return Ok(());
    }
    let name = get_mod_name(mem, name_addr)?;
    let idx = st.find(sh, &name).ok_or(Errno::ENOENT)?;
    if !st.modules[idx].refs.is_empty() || in_use(sh, st, idx) {
        return Err(Errno::EBUSY);
    }
    sh.or_flags(&st.modules[idx], MOD_DELETED);
    free_module(sh, st, idx, false);
    Ok(())
}

/// `__MOD_IN_USE`: a present, non-null `can_unload` decides; otherwise the
/// use count.
pub(crate) fn in_use(sh: &Shared, st: &State, idx: usize) -> bool {
    let m = &st.modules[idx];
    can_unload_says_busy(sh, m).unwrap_or_else(|| sh.usecount(m) != 0)
}

/// What the module's live `can_unload` answers, `None` when it has none.
/// 2.4 called whatever the member held; here only a pointer into the
/// module's own block is called, and one that points elsewhere or faults
/// says nothing: the module is taken as busy.
pub(crate) fn can_unload_says_busy(sh: &Shared, m: &Module) -> Option<bool> {
    let can_unload = sh.can_unload(m);
    if can_unload == 0 {
        return None;
    }
    if !m.block.contains(can_unload, 1) {
        sh.printk(
            KERN_WARNING,
            &format!(
                "{}: can_unload {can_unload:#x} is outside the module; taken as busy",
                String::from_utf8_lossy(&m.name)
            ),
        );
        return Some(true);
    }
    Some(!matches!(
        oops::run(sh, m, "can_unload", can_unload, [0; 6]),
        Ok(0)
    ))
}

/// The sweep: passes over the list until one frees nothing, giving each
/// recently used candidate a second chance, then clears JUST_FREED.
fn sweep(sh: &Shared, st: &mut State) {
    loop {
        let mut changed = false;
        let order: Vec<u64> = st.modules.iter().map(|m| m.id).collect();
        for id in order {
            let Some(idx) = st.index_of_id(id) else {
                continue;
            };
            let m = &st.modules[idx];
            let f = sh.flags(m);
            let candidate = m.refs.is_empty()
                && f & MOD_AUTOCLEAN != 0
                && f & MOD_RUNNING != 0
                && f & MOD_DELETED == 0
                && f & MOD_USED_ONCE != 0
                && !in_use(sh, st, idx);
            if !candidate {
                continue;
            }
            if f & MOD_VISITED != 0 && f & MOD_JUST_FREED == 0 {
                sh.clear_flags(&st.modules[idx], MOD_VISITED);
            } else {
                sh.or_flags(&st.modules[idx], MOD_DELETED);
                free_module(sh, st, idx, true);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    for m in &st.modules {
        sh.clear_flags(m, MOD_JUST_FREED);
    }
}

/// Frees an entry: cleanup if it was running, unlink it from its
/// dependencies' refs lists, drop it from the list, return its memory.
pub(crate) fn free_module(sh: &Shared, st: &mut State, idx: usize, tag_freed: bool) {
    let m = &st.modules[idx];
    if sh.flags(m) & MOD_RUNNING != 0 {
        if m.image.cleanup != 0 {
            // A cleanup that faults is not run again: the module goes anyway.
            let _ = oops::run(sh, m, "cleanup", m.image.cleanup, [0; 6]);
        }
        sh.clear_flags(&st.modules[idx], MOD_RUNNING);
    }
    unlink_deps(sh, st, idx, tag_freed);
    let m = st.modules.remove(idx);
    sh.kernel
        .forget_module(m.id, &m.name, m.addr(), m.addr() + m.block.size());
    sh.window.free(m.block);
    sh.sync_next(st);
}

/// Removes entry `idx` from the refs list of every module it depends on.
/// With `tag_freed`, a dependency left with no users gets JUST_FREED.
pub(crate) fn unlink_deps(sh: &Shared, st: &mut State, idx: usize, tag_freed: bool) {
    let id = st.modules[idx].id;
    let deps = std::mem::take(&mut st.modules[idx].deps);
    for (i, dep) in deps.iter().enumerate() {
        let Some(j) = st.index_of_id(*dep) else {
            continue;
        };
        let refs = &mut st.modules[j].refs;
        if let Some(k) = refs.iter().position(|&r| r == (id, i as u32)) {
            refs.remove(k);
        }
        if tag_freed && refs.is_empty() {
            sh.or_flags(&st.modules[j], MOD_JUST_FREED);
        }
        sh.sync_refs(st, j);
    }
}
