//! Running a module's code without the big lock.
//!
//! The module is marked busy ([`Hold::Busy`]: its init, cleanup or
//! can_unload, which exclude every other change to it) or pinned
//! ([`Hold::Pinned`]: a timer or a /proc read, which only need it to stay),
//! the lock is released for the call and taken again, and a fault or a
//! watchdog stop is reported as an oops. The module cannot leave the list
//! meanwhile: deletes refuse a busy module and wait for pins to drop.

use crate::exec::{self, Fault};
use crate::oops;
use crate::state::{Shared, StateGuard};

/// How a call holds its module.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Hold {
    /// Init, cleanup, can_unload: the module is busy.
    Busy,
    /// A timer or a /proc read: the module is pinned.
    Pinned,
}

/// Runs module `id`'s function at `addr` for `what`, the big lock released
/// meanwhile. The caller has checked that `addr` lies in the module's
/// executable code, and found the module in `st`.
pub(crate) fn run(
    sh: &Shared,
    st: &mut StateGuard<'_>,
    id: u64,
    hold: Hold,
    what: &'static str,
    addr: u64,
    args: [u64; 6],
) -> Result<i32, Fault> {
    let idx = st.index_of_id(id).expect("the caller found the module");
    let m = &mut st.modules[idx];
    match hold {
        Hold::Busy => m.busy = true,
        Hold::Pinned => m.pins += 1,
    }
    let name = m.name.clone();
    let r = st.unlocked(|| exec::call_module(&sh.kernel, Some((id, &name)), what, addr, args));
    let idx = st.index_of_id(id).expect("a held module stays listed");
    let m = &mut st.modules[idx];
    match hold {
        Hold::Busy => m.busy = false,
        Hold::Pinned => m.pins -= 1,
    }
    sh.notify_released();
    if let Err(fault) = &r {
        oops::report(sh, st, idx, what, fault);
    }
    r
}

/// Whether this thread is running code of module `id` right now (module
/// code that reached the host through an export of the embedding program):
/// such a thread must not wait for the module to be released.
pub(crate) fn running_on_this_thread(id: u64) -> bool {
    crate::services::context::running(id)
}
