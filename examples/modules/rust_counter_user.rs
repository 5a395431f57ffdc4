//! rust_counter_user: counter_user.c in Rust: imports rust_counter's
//! exports, so rust_counter cannot go first.
#![no_std]

use core::sync::atomic::{AtomicI32, Ordering};

use umod_module::prelude::*;

module! {
    type: RustCounterUser,
    license: "GPL",
    description: "Bumps the rust_counter module's counter",
}

extern "C" {
    fn rust_counter_bump(by: i32) -> i32;
    #[allow(non_upper_case_globals)]
    static rust_counter_value: AtomicI32;
}

struct RustCounterUser;

impl Module for RustCounterUser {
    fn init() -> Result<Self> {
        // SAFETY: rust_counter's exports, resolved by the loader; the
        // dependency keeps it loaded while this module is.
        let value = unsafe {
            rust_counter_bump(40);
            rust_counter_bump(2);
            rust_counter_value.load(Ordering::SeqCst)
        };
        pr_info!("rust_counter_user: counter is {value}");
        Ok(RustCounterUser)
    }
}

impl Drop for RustCounterUser {
    fn drop(&mut self) {
        // SAFETY: as in init.
        unsafe { rust_counter_bump(-42) };
        pr_info!("rust_counter_user: gave it back");
    }
}
