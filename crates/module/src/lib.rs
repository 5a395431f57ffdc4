//! Modules for umod written in Rust, as easily as in C.
//!
//! A module is a `no_std` crate built as a `staticlib` with fat LTO and
//! one codegen unit (`umod new --rust NAME` writes such a project): the
//! archive's one object holds the module with everything it uses from
//! `core` and `alloc`, and `umod insmod target/release/libNAME.a` loads it
//! like a C module. This crate gives it what C modules get from the kit's
//! headers, in Rust's terms:
//!
//! - [`module!`] writes `init_module`/`cleanup_module` around a type whose
//!   `init()` returns [`Result`] and whose `Drop` is the cleanup, and the
//!   module's `.modinfo` (license, author, description);
//! - [`params!`] declares `MODULE_PARM`-style parameters with their
//!   descriptions, set by `insmod NAME.a irq=7` and read back typed;
//! - [`pr_info!`] and friends print through `printk` with Rust
//!   formatting, into a bounded line, with no allocation;
//! - a global allocator over `kmalloc`/`kfree`, so `alloc`'s `Box`, `Vec`
//!   and `String` work;
//! - [`Error`]: a 2.4 errno; `init` failing with one fails `insmod` with it;
//! - a panic prints its message at `KERN_EMERG` and stops the module with
//!   an invalid instruction: the host reports an oops, as for a fault;
//! - [`timer::Timer`] and [`proc::ProcEntry`], registrations undone when
//!   dropped, and [`sync::SpinLock`] between a timer and the rest;
//! - [`export!`] puts a function or static in `__ksymtab` for other
//!   modules, C or Rust; another module's exports are plain `extern "C"`
//!   declarations.

// A module has no standard library; `cargo clippy --all-targets` also
// builds this crate as a test harness, which has one.
#![cfg_attr(not(test), no_std)]

extern crate alloc as alloc_crate;

pub mod alloc;
pub mod error;
pub mod export;
pub mod ffi;
pub mod modinfo;
pub mod module;
pub mod panic;
pub mod param;
pub mod print;
pub mod proc;
pub mod sync;
pub mod time;
pub mod timer;

pub use error::{Error, Result};
pub use module::Module;

/// What a module usually needs.
pub mod prelude {
    pub use crate::error::{Error, Result};
    pub use crate::module::Module;
    pub use crate::proc::ProcEntry;
    pub use crate::sync::SpinLock;
    pub use crate::timer::Timer;
    pub use crate::{
        export, module, params, pr_alert, pr_debug, pr_err, pr_info, pr_notice, pr_warn,
    };
    pub use alloc_crate::{boxed::Box, format, string::String, vec, vec::Vec};
}
