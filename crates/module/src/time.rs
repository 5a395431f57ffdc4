//! The clock modules see: `jiffies`, `HZ` ticks a second.

/// Ticks a second (`HZ`).
pub const HZ: u64 = 100;

/// The tick counter now.
pub fn jiffies() -> u64 {
    // SAFETY: an exported counter the host's clock advances; read as the
    // volatile it is in C.
    unsafe { core::ptr::read_volatile(&raw const crate::ffi::jiffies) }
}
