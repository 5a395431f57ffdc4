//! The umod daemon: one module host for the whole machine behind a Unix
//! socket, speaking the protocol of `umod-client` (`docs/protocol.md`):
//! who may do what ([`creds`], `docs/security.md`), what each caller may
//! hold ([`limits`]), one connection ([`connection`]), requests served
//! ([`dispatch`]), and the same dispatch for a host embedded in a
//! process ([`embedded`]); a socket a service manager passed
//! ([`activation`]) and modules loaded at start ([`preload`]).

#![warn(missing_docs)]

pub mod activation;
pub mod connection;
pub mod creds;
pub mod dispatch;
pub mod embedded;
pub mod limits;
pub mod listen;
pub mod preload;
pub mod server;
mod sockopt;

pub use embedded::Embedded;
pub use limits::Limits;
pub use server::{tune_allocator, Daemon, DaemonConfig, StartError};
pub use umod_client::{protocol, socket_path, Client, ClientError};
