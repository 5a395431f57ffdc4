//! rust_procfile: procfile.c in Rust with the umod-module kit: a /proc
//! entry whose text is made at each read (umod cat /proc/umod_rust_hello).
#![no_std]

use core::fmt::Write;

use umod_module::prelude::*;
use umod_module::proc::Page;
use umod_module::time::jiffies;

module! {
    type: RustProcfile,
    license: "GPL",
    description: "Registers /proc/umod_rust_hello",
}

/// Reads so far: readers on several threads count under the lock.
static READS: SpinLock<u32> = SpinLock::new(0);

fn hello(page: &mut Page<'_>) -> Result {
    let reads = {
        let mut reads = READS.lock();
        *reads += 1;
        *reads
    };
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
