//! [`HostConfig`]: what a host is built with.

use std::time::Duration;

use crate::caller::Personality;
use crate::services::printk::DEFAULT_LOG_BUF_LEN;
use crate::window::DEFAULT_WINDOW_SIZE;

/// How to build a [`Host`](crate::Host).
#[derive(Clone, Debug)]
pub struct HostConfig {
    /// Size of the module window in bytes (rounded up to pages), kernel
    /// area included. Default 256 MiB.
    pub window_size: u64,
    /// Which kernel generation to impersonate. Default 2.4.
    pub personality: Personality,
    /// Bytes of text the printk ring keeps. Default 64 KiB.
    pub log_buf_len: usize,
    /// How long one call into module code may run before the watchdog
    /// reports it in the log. Default 5 s.
    pub watchdog: Duration,
    /// Most entries in the module list; `create_module` gives ENOMEM past
    /// it. Default 1024.
    pub max_modules: usize,
    /// Map the window once, without the host's read-write view: no
    /// writable alias of module code anywhere, at the cost of protection
    /// changes on every load and unload. What a system that refuses
    /// executable memory files gets anyway. Default false.
    pub single_view_window: bool,
    /// Keep `/tmp/perf-PID.map`, the perf convention that lets `perf
    /// report` and `perf top` name module functions, rewritten on every
    /// load and removal. Default false: a library writes no files in
    /// `/tmp` unasked (`umod serve` turns it on; `--no-perf-map`).
    pub perf_map: bool,
    /// Describe each module to gdb through its JIT interface (an object
    /// file at the module's load addresses, with its DWARF when the host
    /// loaded it from an object built with `-g`). Default true: it costs
    /// a copy of the module's sections per load, and a debugger attached
    /// later still finds every module.
    pub gdb_jit: bool,
}

impl Default for HostConfig {
    fn default() -> Self {
        HostConfig {
            window_size: DEFAULT_WINDOW_SIZE,
            personality: Personality::Linux24,
            log_buf_len: DEFAULT_LOG_BUF_LEN,
            watchdog: Duration::from_secs(5),
            max_modules: 1024,
            single_view_window: false,
            perf_map: false,
            gdb_jit: true,
        }
    }
}
