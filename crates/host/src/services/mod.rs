//! Kernel services for module code: what a module can call or read through
//! the host's exported symbols (`printk`, `kmalloc`, string functions,
//! `jiffies`...), and the state those services keep.

pub mod builtin;
pub mod printk;

use std::sync::Mutex;
use std::time::{Duration, Instant};

pub use printk::{LogRecord, LogRing};

/// State shared between the host and the services module code calls.
#[derive(Debug)]
pub struct Kernel {
    log: Mutex<LogRing>,
    started: Instant,
}

/// Length of one jiffy: 2.4's `HZ` is 100 on x86.
pub const HZ: u64 = 100;

impl Kernel {
    pub(crate) fn new(log_buf_len: usize) -> Kernel {
        Kernel {
            log: Mutex::new(LogRing::new(log_buf_len)),
            started: Instant::now(),
        }
    }

    /// Time since the host started.
    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }

    /// Jiffies since the host started.
    pub fn jiffies(&self) -> u64 {
        (self.uptime().as_nanos() / (1_000_000_000 / u128::from(HZ))) as u64
    }

    /// Appends formatted `printk` text (with `<N>` markers, continuations).
    pub fn printk_raw(&self, text: &[u8]) {
        let t = self.uptime();
        self.log.lock().expect("log lock").emit(text, t);
    }

    /// Logs one line at `level` (0..=7).
    pub fn log(&self, level: u8, text: &str) {
        let t = self.uptime();
        self.log.lock().expect("log lock").log(level, text, t);
    }

    /// The log lines, oldest first.
    pub fn records(&self) -> Vec<LogRecord> {
        self.log.lock().expect("log lock").records()
    }

    /// Empties the log.
    pub fn clear_log(&self) {
        self.log.lock().expect("log lock").clear()
    }
}

/// `KERN_ERR`, the level of the host's own complaints about bad images.
pub const KERN_ERR: u8 = 3;
/// `KERN_WARNING`.
pub const KERN_WARNING: u8 = 4;
/// `KERN_INFO`.
pub const KERN_INFO: u8 = 6;
