//! The umod module host: the kernel side of the Linux 2.4 loadable-module
//! system, embedded in a program.
//!
//! A [`Host`] reserves a module window below 2 GiB, keeps the module list
//! and the kernel's export table, and answers the five 2.4 module calls
//! with their exact checks, check order, errno values and state changes
//! (`shared/spec/abi-2.4.md`). Module images are real x86_64 machine code:
//! `init_module` runs a module's `init`, `delete_module` its `cleanup`.
//!
//! Two ways to call it:
//! - the raw calls ([`Host::create_module`], [`Host::init_module`],
//!   [`Host::delete_module`], [`Host::query_module`],
//!   [`Host::get_kernel_syms`]) take a [`Caller`], the caller's memory as a
//!   [`UserMemory`] and addresses in it, exactly like the syscalls, so
//!   `EFAULT` comes out where 2.4 gives it;
//! - the typed wrappers ([`Host::create`], [`Host::init`], [`Host::delete`],
//!   [`Host::query`], [`Host::kernel_syms`]) take Rust values.
//!
//! ```
//! use umod_abi::image::{asm, ImageBuilder};
//! use umod_host::{Caller, Host, HostConfig};
//!
//! let host = Host::with_config(HostConfig { window_size: 8 << 20, ..Default::default() })?;
//! let root = Caller::root();
//! let mut image = ImageBuilder::new("hello");
//! let init = image.append(&asm::return_value(0), 16);
//! image.init(init);
//! let size = image.build(0).len() as u64;
//! let addr = host.create(&root, "hello", size)?;
//! host.init(&root, "hello", &image.build(addr))?;
//! assert!(String::from_utf8_lossy(&host.proc_modules()?).starts_with("hello "));
//! host.delete(&root, Some("hello"))?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]

mod caller;
mod calls;
mod config;
mod debug;
mod easy;
mod exec;
mod exports;
mod host;
mod jit;
mod kallsyms;
mod local_calls;
mod module_list;
mod oneshot;
mod oops;
mod perfmap;
mod pin;
mod procfs;
mod resolve;
pub mod services;
mod state;
mod symtab;
mod ticker;
pub mod vfs;
mod window;
mod wx;

pub use caller::{Caller, FileCreds, Personality, MAY_READ, MAY_WRITE};
pub use config::HostConfig;
pub use exports::{ExportError, KernelSymbol};
pub use host::{Host, HostSnapshot, ModuleSnapshot};
pub use kallsyms::ModuleFunction;
pub use local_calls::LocalCalls;
pub use oneshot::{LoadOptions, Loaded, LoadedImage, OneShotError};
pub use procfs::{ViewChunk, ViewPos};
pub use services::LogRecord;
pub use umod_abi::user::{self, Fault, ScratchSpace, UserMemory};
pub use umod_abi::{Errno, QueryAnswer};
pub use window::{WindowUsage, KERNEL_AREA_BYTES, WINDOW_LIMIT};
