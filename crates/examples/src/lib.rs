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
/// `rust_hello.rs`: a `#![no_std]` Rust module.
pub const RUST_HELLO: Example = example!("rust_hello", "rs");

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
