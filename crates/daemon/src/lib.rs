//! The umod daemon: one module host for the whole machine behind a Unix
//! socket, the versioned binary protocol it speaks ([`protocol`], see
//! `docs/protocol.md`), the peer-credential checks ([`creds`]), and the
//! client the tools use ([`client`]).

#![warn(missing_docs)]

pub mod client;
pub mod creds;
pub mod procmem;
pub mod protocol;
pub mod raw;
pub mod server;

pub use client::{Client, ClientError, LoadReply};
pub use server::{socket_path, Daemon, DaemonConfig, StartError};
