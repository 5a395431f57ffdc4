//! The umod daemon: one module host for the whole machine behind a Unix
//! socket, the versioned binary protocol it speaks ([`protocol`], see
//! `docs/protocol.md`), who may do what ([`creds`], `docs/security.md`),
//! what each caller may hold ([`limits`]), and the client the tools use
//! ([`client`]).

#![warn(missing_docs)]

pub mod client;
pub mod connection;
pub mod creds;
pub mod dispatch;
pub mod limits;
pub mod listen;
pub mod procmem;
pub mod protocol;
pub mod raw;
pub mod server;
mod sockopt;

pub use client::{Client, ClientError, LoadReply};
pub use limits::Limits;
pub use server::{socket_path, tune_allocator, Daemon, DaemonConfig, StartError};
