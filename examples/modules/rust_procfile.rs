//! rust_procfile: procfile.c in Rust with the umod-module kit: a /proc
//! entry whose text is made at each read (umod cat /proc/umod_rust_hello).
#![no_std]

use core::fmt::Write;
use core::sync::atomic::{AtomicU32, Ordering};

use umod_module::prelude::*;
use umod_module::proc::Page;
use umod_module::time::jiffies;

module! {
    type: RustProcfile,
    license: "GPL",
    description: "Registers /proc/umod_rust_hello",
}

static READS: AtomicU32 = AtomicU32::new(0);

fn hello(page: &mut Page<'_>) -> Result {
    let reads = READS.fetch_add(1, Ordering::SeqCst) + 1;
    let _ = writeln!(page, "Hello from rust_procfile: read {reads} at jiffies {}", jiffies());
    Ok(())
}

struct RustProcfile {
    _entry: ProcEntry,
}

impl Module for RustProcfile {
    fn init() -> Result<Self> {
        Ok(RustProcfile {
            _entry: ProcEntry::new(c"umod_rust_hello", 0o444, hello)?,
        })
    }
}
