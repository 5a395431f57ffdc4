//! rust_counter: counter.c in Rust with the umod-module kit: exports a
//! function and a counter for other modules, C or Rust.
#![no_std]

use core::sync::atomic::{AtomicI32, Ordering};

use umod_module::prelude::*;

module! {
    type: RustCounter,
    license: "GPL",
    description: "Exports rust_counter_bump() and rust_counter_value",
}

/// The counter (a C `int` to importers).
#[no_mangle]
#[allow(non_upper_case_globals)]
pub static rust_counter_value: AtomicI32 = AtomicI32::new(0);

/// Adds `by`; returns the new value.
#[no_mangle]
pub extern "C" fn rust_counter_bump(by: i32) -> i32 {
    rust_counter_value.fetch_add(by, Ordering::SeqCst) + by
}

export!(fn rust_counter_bump);
export!(static rust_counter_value);

struct RustCounter;

impl Module for RustCounter {
    fn init() -> Result<Self> {
        pr_info!("rust_counter: ready");
        Ok(RustCounter)
    }
}

impl Drop for RustCounter {
    fn drop(&mut self) {
        pr_info!(
            "rust_counter: final value {}",
            rust_counter_value.load(Ordering::SeqCst)
        );
    }
}
