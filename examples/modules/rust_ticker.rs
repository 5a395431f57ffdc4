//! rust_ticker: ticker.c in Rust with the umod-module kit: a timer that
//! runs again every tenth of a second, stopped when the module goes.
#![no_std]

use core::sync::atomic::{AtomicI32, Ordering};

use umod_module::prelude::*;
use umod_module::time::HZ;
use umod_module::timer::Running;

module! {
    type: RustTicker,
    license: "GPL",
    description: "Counts timer ticks",
}

/// The tick count, exported as ticker.c exports its `ticks`.
#[no_mangle]
#[allow(non_upper_case_globals)]
pub static rust_ticks: AtomicI32 = AtomicI32::new(0);
export!(static rust_ticks);

static TIMER: Timer = Timer::new();

fn tick() -> Option<u64> {
    let ticks = rust_ticks.fetch_add(1, Ordering::SeqCst) + 1;
    if ticks == 1 || ticks % 10 == 0 {
        pr_debug!("rust_ticker: tick {ticks}");
    }
    Some(HZ / 10)
}

struct RustTicker {
    running: Option<Running>,
}

impl Module for RustTicker {
    fn init() -> Result<Self> {
        Ok(RustTicker {
            running: Some(TIMER.start(1, tick)),
        })
    }
}

impl Drop for RustTicker {
    fn drop(&mut self) {
        // Stopped (and waited for) before the count is read.
        drop(self.running.take());
        pr_info!(
            "rust_ticker: stopped after {} ticks",
            rust_ticks.load(Ordering::SeqCst)
        );
    }
}
