//! The host's part of the kit's spinlocks (`asm/spinlock.h`): a lock
//! found all zero was never initialised; `spinlock.c` sets it free and
//! warns once per lock address.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, OnceLock};

use super::context;

/// Whether the lock at `addr` is new to the calling host's warnings.
#[no_mangle]
pub extern "C" fn umod_spin_first_warning(addr: u64) -> i32 {
    static SEEN: OnceLock<Mutex<HashSet<(u64, u64)>>> = OnceLock::new();
    let tag = context::current().map_or(0, |f| Arc::as_ptr(&f.kernel) as u64);
    let mut seen = SEEN
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    i32::from(seen.insert((tag, addr)))
}

extern "C" {
    fn umod_spin_lock_uninit();
}

/// The spinlock service's export.
pub fn functions() -> Vec<(&'static str, usize)> {
    vec![(
        "__spin_lock_uninit",
        umod_spin_lock_uninit as *const () as usize,
    )]
}
