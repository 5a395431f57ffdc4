//! `delete_module(name)` and `delete_module(NULL)`, the autoclean sweep.
//!
//! Module code (`can_unload`, `cleanup`) runs with the big lock released,
//! the module busy meanwhile (see `pin.rs`): whatever changed while it ran
//! is checked again before the entry goes.

use umod_abi::{
    Errno, MOD_AUTOCLEAN, MOD_DELETED, MOD_JUST_FREED, MOD_RUNNING, MOD_USED_ONCE, MOD_VISITED,
};

use super::get_mod_name;
use crate::pin::{self, Hold};
use crate::services::KERN_WARNING;
use crate::state::{Module, Shared, State, StateGuard};
use umod_abi::user::UserMemory;

/// How long freeing an entry waits, at a time, for its timers and /proc
/// reads in progress to return (the watchdog bounds them).
const DRAIN_POLL: std::time::Duration = std::time::Duration::from_millis(100);

/// Spec §4 rows 2-6 (EPERM was checked by the caller). `name_addr == 0`
/// is the autoclean sweep.
pub(crate) fn delete_module(
    sh: &Shared,
    st: &mut StateGuard<'_>,
    mem: &dyn UserMemory,
    name_addr: u64,
) -> Result<(), Errno> {
    if name_addr == 0 {
        sweep(sh, st);
        return Ok(());
    }
    let name = get_mod_name(mem, name_addr)?;
    let idx = st.find(sh, &name).ok_or(Errno::ENOENT)?;
    let id = st.modules[idx].id;
    if !removable(st, idx) || in_use(sh, st, id) {
        return Err(Errno::EBUSY);
    }
    // can_unload ran without the lock: a module may have started to use
    // this one meanwhile.
    let idx = st.index_of_id(id).expect("a busy entry stays listed");
    if !removable(st, idx) {
        return Err(Errno::EBUSY);
    }
    sh.or_flags(&st.modules[idx], MOD_DELETED);
    free_module(sh, st, id, false);
    Ok(())
}

/// No module uses it, none of its code that excludes removal runs (its
/// init, cleanup or can_unload), and this thread is not inside its code.
fn removable(st: &State, idx: usize) -> bool {
    let m = &st.modules[idx];
    m.refs.is_empty() && !m.busy && !pin::running_on_this_thread(m.id)
}

/// `__MOD_IN_USE`: a present, non-null `can_unload` decides; otherwise the
/// use count.
pub(crate) fn in_use(sh: &Shared, st: &mut StateGuard<'_>, id: u64) -> bool {
    match can_unload_says_busy(sh, st, id, Hold::Busy) {
        Some(busy) => busy,
        None => {
            let idx = st.index_of_id(id).expect("the caller found the module");
            sh.usecount(&st.modules[idx]) != 0
        }
    }
}

/// What the module's live `can_unload` answers, `None` when it has none.
/// 2.4 called whatever the member held; here only a pointer into the
/// module's own block is called, and one that points elsewhere, faults or
/// spins says nothing: the module is taken as busy. The call runs without
/// the big lock, the module held as `hold` says.
pub(crate) fn can_unload_says_busy(
    sh: &Shared,
    st: &mut StateGuard<'_>,
    id: u64,
    hold: Hold,
) -> Option<bool> {
    let idx = st.index_of_id(id).expect("the caller found the module");
    let m = &st.modules[idx];
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
    if m.busy && hold == Hold::Busy {
        return Some(true);
    }
    Some(!matches!(
        pin::run(sh, st, id, hold, "can_unload", can_unload, [0; 6]),
        Ok(0)
    ))
}

/// The sweep: passes over the list until one frees nothing, giving each
/// recently used candidate a second chance, then clears JUST_FREED.
fn sweep(sh: &Shared, st: &mut StateGuard<'_>) {
    loop {
        let mut changed = false;
        let order: Vec<u64> = st.modules.iter().map(|m| m.id).collect();
        for id in order {
            let Some(idx) = st.index_of_id(id) else {
                continue;
            };
            if !candidate(sh, st, idx) || in_use(sh, st, id) {
                continue;
            }
            // Checked again: can_unload ran without the lock.
            let idx = st.index_of_id(id).expect("a busy entry stays listed");
            if !candidate(sh, st, idx) {
                continue;
            }
            let f = sh.flags(&st.modules[idx]);
            if f & MOD_VISITED != 0 && f & MOD_JUST_FREED == 0 {
                sh.clear_flags(&st.modules[idx], MOD_VISITED);
            } else {
                sh.or_flags(&st.modules[idx], MOD_DELETED);
                free_module(sh, st, id, true);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    for m in st.modules.iter() {
        sh.clear_flags(m, MOD_JUST_FREED);
    }
}

/// An autoclean candidate, use count aside.
fn candidate(sh: &Shared, st: &State, idx: usize) -> bool {
    let f = sh.flags(&st.modules[idx]);
    removable(st, idx)
        && f & MOD_AUTOCLEAN != 0
        && f & MOD_RUNNING != 0
        && f & MOD_DELETED == 0
        && f & MOD_USED_ONCE != 0
}

/// Frees entry `id` (marked DELETED, or never listed by name): cleanup if
/// it was running (without the lock, the entry busy), then, once no timer
/// or /proc read of it is still running, unlink it from its dependencies'
/// refs lists, drop it from the list, forget what it left registered and
/// return its memory.
pub(crate) fn free_module(sh: &Shared, st: &mut StateGuard<'_>, id: u64, tag_freed: bool) {
    let idx = st.index_of_id(id).expect("the caller found the module");
    let m = &st.modules[idx];
    if sh.flags(m) & MOD_RUNNING != 0 {
        let cleanup = m.image.cleanup;
        if cleanup != 0 {
            // A cleanup that faults or spins is not run again: the module
            // goes anyway.
            let _ = pin::run(sh, st, id, Hold::Busy, "cleanup", cleanup, [0; 6]);
        }
        let idx = st.index_of_id(id).expect("a busy entry stays listed");
        sh.clear_flags(&st.modules[idx], MOD_RUNNING);
    }
    while st.modules[st.index_of_id(id).expect("pinned")].pins > 0 {
        st.wait_for_release(DRAIN_POLL);
    }
    let idx = st.index_of_id(id).expect("a pinned entry stays listed");
    unlink_deps(sh, st, idx, tag_freed);
    let newer = st.modules.newer(idx);
    let keys = std::mem::take(&mut st.modules[idx].sym_keys);
    st.symbols
        .remove(u32::try_from(idx).expect("a listed slot"), &keys);
    let mut m = st.modules.remove(idx);
    if let Some(newer) = newer {
        sh.write_next(st, newer);
    }
    sh.kernel
        .forget_module(m.id, &m.name, m.addr(), m.addr() + m.block.size());
    crate::debug::removed(sh, &mut m);
    sh.window.free(m.block);
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

/// Asks entries `ids` that have a `can_unload` callback what it answers
/// now, for the use counts a query reports; the answers are kept in each
/// entry for the query that follows under the same lock. With `hold`, the
/// use count is one higher while it answers, as during 2.4's query_module.
pub(crate) fn refresh_can_unload(sh: &Shared, st: &mut StateGuard<'_>, ids: &[u64], hold: bool) {
    let ids: Vec<u64> = ids
        .iter()
        .copied()
        .filter(|&id| {
            st.index_of_id(id)
                .is_some_and(|i| sh.can_unload(&st.modules[i]) != 0)
        })
        .collect();
    for id in ids {
        let Some(idx) = st.index_of_id(id) else {
            continue;
        };
        // Code that cannot be called right now (it is deleting, or
        // initializing) is taken as busy, as a fault is.
        let answer = if st.modules[idx].busy {
            Some(true)
        } else {
            let held = hold.then(|| sh.add_usecount(&st.modules[idx], 1));
            let answer = can_unload_says_busy(sh, st, id, Hold::Pinned);
            if held.is_some() {
                let idx = st.index_of_id(id).expect("a pinned entry stays listed");
                sh.add_usecount(&st.modules[idx], -1);
            }
            answer
        };
        if let Some(idx) = st.index_of_id(id) {
            st.modules[idx].can_unload_busy = answer;
        }
    }
}

/// The last [`refresh_can_unload`] answer for `m` (busy or not), or `None`
/// when it has no callback.
pub(crate) fn last_can_unload(sh: &Shared, m: &Module) -> Option<bool> {
    if sh.can_unload(m) == 0 {
        None
    } else {
        Some(m.can_unload_busy.unwrap_or(true))
    }
}
