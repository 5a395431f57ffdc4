//! The example modules of `examples/modules`, as relocatable objects built
//! by this crate's build script.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

/// One example module.
#[derive(Clone, Copy, Debug)]
pub struct Example {
    /// Module name (the file name up to the first `.`).
    pub name: &'static str,
    /// Source file in `examples/modules`.
    pub source: &'static str,
    /// The compiled object.
    pub object: &'static [u8],
}

macro_rules! example {
    ($name:literal, $ext:literal) => {
        Example {
            name: $name,
            source: concat!($name, ".", $ext),
            object: include_bytes!(concat!(env!("OUT_DIR"), "/", $name, ".o")),
        }
    };
}

/// `chardev.c`: a character device with read, write, ioctl and llseek.
pub const CHARDEV: Example = example!("chardev", "c");
/// `sleepy.c`: readers asleep on a wait queue until a writer comes.
pub const SLEEPY: Example = example!("sleepy", "c");
/// `procrw.c`: a /proc entry with `read_proc` and `write_proc`.
pub const PROCRW: Example = example!("procrw", "c");
/// `hello.c`: printk in init and cleanup.
pub const HELLO: Example = example!("hello", "c");
/// `counter.c`: exports `counter_bump` and `counter_value`.
pub const COUNTER: Example = example!("counter", "c");
/// `counter_user.c`: depends on `counter`.
pub const COUNTER_USER: Example = example!("counter_user", "c");
/// `params.c`: int, int array, string and char-array parameters.
pub const PARAMS: Example = example!("params", "c");
/// `procfile.c`: registers `/proc/umod_hello`.
pub const PROCFILE: Example = example!("procfile", "c");
/// `ticker.c`: a self-re-arming kernel timer.
pub const TICKER: Example = example!("ticker", "c");
/// `failing.c`: init fails with -ENODEV after registering a proc entry.
pub const FAILING: Example = example!("failing", "c");
/// `deferred.c`: a timer, a tasklet, tq_timer, tq_immediate and keventd
/// work, counted in `/proc/deferred`.
pub const DEFERRED: Example = example!("deferred", "c");
/// `irqdemo.c`: an irq handler on a shared software line that schedules
/// a tasklet.
pub const IRQDEMO: Example = example!("irqdemo", "c");
/// `rust_hello.rs`: a `#![no_std]` Rust module.
pub const RUST_HELLO: Example = example!("rust_hello", "rs");

/// `c_uses_rust.c`: a C module calling `rust_counter`'s exports.
pub const C_USES_RUST: Example = example!("c_uses_rust", "c");

// Modules written with the umod-module kit (as `umod new --rust` projects
// are): the object the loader takes out of their `staticlib` archive.

/// `rust_params.rs`: `params.c` with the kit.
pub const RUST_PARAMS: Example = example!("rust_params", "rs");
/// `rust_procfile.rs`: `procfile.c` with the kit (`/proc/umod_rust_hello`).
pub const RUST_PROCFILE: Example = example!("rust_procfile", "rs");
/// `rust_counter.rs`: `counter.c` with the kit.
pub const RUST_COUNTER: Example = example!("rust_counter", "rs");
/// `rust_counter_user.rs`: `counter_user.c` with the kit.
pub const RUST_COUNTER_USER: Example = example!("rust_counter_user", "rs");
/// `rust_ticker.rs`: `ticker.c` with the kit's `Timer`.
pub const RUST_TICKER: Example = example!("rust_ticker", "rs");
/// `rust_uses_c.rs`: a Rust module calling the C `counter`'s exports.
pub const RUST_USES_C: Example = example!("rust_uses_c", "rs");
/// `rust_panic.rs`: `alloc` over kmalloc, and a panic that is an oops.
pub const RUST_PANIC: Example = example!("rust_panic", "rs");

/// The kit modules, in an order they can be loaded in.
pub const RUST_KIT: [Example; 7] = [
    RUST_PARAMS,
    RUST_PROCFILE,
    RUST_COUNTER,
    RUST_COUNTER_USER,
    RUST_TICKER,
    RUST_USES_C,
    RUST_PANIC,
];

/// The `staticlib` archive a kit module was built as (`libNAME.a`), as
/// `cargo build --release` leaves it in a module project.
pub fn archive(ex: &Example) -> Option<Vec<u8>> {
    let path = std::path::Path::new(env!("OUT_DIR")).join(format!("lib{}.a", ex.name));
    std::fs::read(path).ok()
}

/// Every example, in an order they can be loaded in.
pub const ALL: [Example; 8] = [
    HELLO,
    COUNTER,
    COUNTER_USER,
    PARAMS,
    PROCFILE,
    TICKER,
    FAILING,
    RUST_HELLO,
];
