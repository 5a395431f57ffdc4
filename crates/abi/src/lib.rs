//! The Linux 2.4 loadable-module ABI as seen from x86_64 user space.
//!
//! Everything here is plain data: byte-exact encoders and decoders for the
//! structures the five legacy calls exchange (`struct module`,
//! `module_symbol`, `module_ref`, `module_info`, `kernel_sym`), the `MOD_*`
//! flag bits, the `QM_*` query selectors, the syscall numbers, an
//! [`Errno`] type, and the caller's address space as the calls see it
//! ([`user`]: a trait, and a simulated space for callers that build one).
//! No I/O, no `unsafe`.
//!
//! The layouts follow `shared/spec/abi-2.4.md` §1 (x86_64, LP64, little
//! endian). Every type has `encode`/`decode` that round-trip exactly.

#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![warn(clippy::cast_possible_truncation)]
#![cfg_attr(test, allow(clippy::cast_possible_truncation))]

pub mod archdata;
pub mod consts;
pub mod errno;
pub mod image;
pub mod kallsyms;
pub mod module;
pub mod structs;
pub mod user;

pub use consts::*;

#[cfg(not(target_pointer_width = "64"))]
compile_error!("the 2.4 module ABI here is x86_64's: 64-bit addresses");

/// An address or a size of the 64-bit ABI as an index into host memory:
/// lossless on the 64-bit hosts this crate builds for.
pub fn usize_of(v: u64) -> usize {
    usize::try_from(v).expect("a 64-bit host")
}
pub use errno::Errno;
pub use module::ModuleHeader;
pub use structs::{KernelSym, ModuleInfo, ModuleRef, ModuleSymbol, QueryAnswer};

/// The release the module host reports (`uname -r` of the 2.4 world);
/// modules built against the kit carry it as `kernel_version`.
pub const UTS_RELEASE: &str = "2.4.32-umod";
