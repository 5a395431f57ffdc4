//! Wall time and busy waits (2.4's kernel/time.c, arch delay.c): `xtime`
//! is exported data the clock thread advances with `jiffies`; the delays
//! are C entry points in `time.c` that spin on the monotonic clock.

use std::sync::atomic::Ordering;
use std::time::{SystemTime, UNIX_EPOCH};

use super::Kernel;
use crate::exports::{ExportError, ExportTable};
use crate::window::Window;

/// `loops_per_jiffy`: the unit of `__delay` (one loop = 10 ns here).
pub const LOOPS_PER_JIFFY: u64 = 1_000_000;

/// The exported wall clock, a `struct timeval` (16 bytes).
pub const XTIME: &str = "xtime";

/// Exports `xtime` (returns its address) and `loops_per_jiffy`.
pub(crate) fn export_data(exports: &mut ExportTable, window: &Window) -> Result<u64, ExportError> {
    let xtime = exports.export_data(window, XTIME.as_bytes(), 16, 8)?;
    let lpj = exports.export_data(window, b"loops_per_jiffy", 8, 8)?;
    window.mapping().write(lpj, &LOOPS_PER_JIFFY.to_le_bytes());
    Ok(xtime)
}

/// `loops_per_jiffy` for `time.c`.
#[no_mangle]
pub extern "C" fn umod_loops_per_jiffy() -> u64 {
    LOOPS_PER_JIFFY
}

impl Kernel {
    /// Sets `xtime` to the wall time (the clock thread calls it each tick).
    pub(crate) fn tick_xtime(&self) {
        let Some(data) = self.kapi_data() else {
            return;
        };
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let w = self.window.mapping();
        w.atomic_u64(data.xtime)
            .store(now.as_secs(), Ordering::Relaxed);
        w.atomic_u64(data.xtime + 8)
            .store(u64::from(now.subsec_micros()), Ordering::Relaxed);
    }
}

macro_rules! entry_points {
    ($($name:ident),* $(,)?) => {
        extern "C" {
            $(fn $name();)*
        }
    };
}

entry_points!(
    umod_do_gettimeofday,
    umod_udelay,
    umod_ndelay,
    umod_const_udelay,
    umod_delay,
);

/// The clock services' exports (never `__bad_udelay`: a constant udelay
/// over 20000 µs must fail to load, as in 2.4).
pub fn functions() -> Vec<(&'static str, usize)> {
    vec![
        (
            "do_gettimeofday",
            umod_do_gettimeofday as *const () as usize,
        ),
        ("__udelay", umod_udelay as *const () as usize),
        ("__ndelay", umod_ndelay as *const () as usize),
        ("__const_udelay", umod_const_udelay as *const () as usize),
        ("__delay", umod_delay as *const () as usize),
    ]
}
