//! rust_uses_c: a Rust module calling the C module counter's exports.
#![no_std]

use umod_module::prelude::*;

module! {
    type: RustUsesC,
    license: "GPL",
    description: "Bumps the C counter from Rust",
}

extern "C" {
    fn counter_bump(by: i32) -> i32;
}

struct RustUsesC;

impl Module for RustUsesC {
    fn init() -> Result<Self> {
        // SAFETY: counter's export, resolved by the loader.
        let value = unsafe { counter_bump(7) };
        pr_info!("rust_uses_c: counter is {value}");
        Ok(RustUsesC)
    }
}

impl Drop for RustUsesC {
    fn drop(&mut self) {
        // SAFETY: as in init.
        unsafe { counter_bump(-7) };
    }
}
