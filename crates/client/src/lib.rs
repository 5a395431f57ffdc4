//! The umod daemon's client side, for everything that talks to the daemon:
//! the tools, `libumod.so` and the `umod exec` forwarder. The versioned
//! wire protocol ([`protocol`], `docs/protocol.md`), a connection with its
//! errors ([`Client`]), and forwarding another process's raw module
//! syscall ([`forward`], reading and writing that process's memory with
//! [`procmem`]). It links neither the module host nor the loader (the
//! `insmod` feature adds the loader's `ModuleCalls` over a connection, for
//! the tools).

#![warn(missing_docs)]

pub mod caps;
mod client;
pub mod forward;
#[cfg(feature = "insmod")]
mod insmod;
pub mod procmem;
pub mod protocol;

pub use client::{socket_path, Client, ClientError, LoadReply, CONNECT_TIMEOUT, VIEW_CHUNK};
pub use protocol::View;
