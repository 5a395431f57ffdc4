//! `umod exec [--socket PATH | --embedded] [--uname-release REL] -- PROG`:
//! runs an unmodified program under a seccomp filter that hands its
//! legacy module syscalls (x86_64 174-178) to this supervisor, which serves
//! them from the daemon or a private host, reading and writing the
//! program's memory with `process_vm_readv`/`writev`. The filter is
//! inherited by the program's children and threads; every other syscall
//! runs natively.

#![warn(missing_docs)]

pub mod filter;
mod supervisor;
mod sys;

pub use supervisor::{exec, Backend, ExecConfig, ExecError};
