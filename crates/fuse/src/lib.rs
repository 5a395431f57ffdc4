//! `umod-fuse`: a FUSE file system server speaking the kernel protocol
//! directly over `/dev/fuse` (no libfuse, no fusermount).
//!
//! Implement [`Filesystem`] (every operation has a default), then
//! [`Session::mount`] it on a directory, or serve a descriptor mounted by
//! someone else with [`Session::from_fd`]. The session's reader threads
//! run the operations concurrently; one that sleeps (a device read waiting
//! for data) blocks only itself, and learns through its [`Request`] when
//! the caller is interrupted by a signal ([`Interrupt`]).
//!
//! Files opened with [`abi::FOPEN_DIRECT_IO`] bypass the page cache: every
//! `read`/`write` of the program reaches the server with the program's own
//! size and offset, which is what device-like files need; `mmap` of them
//! fails `ENODEV`. `ioctl` on regular files is the kernel's restricted form:
//! `_IOC_SIZE(cmd)` bytes copied in for `_IOW` and out for `_IOR`.
//! `poll` wakes through [`PollHandle::notify`].
//!
//! Modules: [`abi`] (the protocol's structures), `mount` (mount(2)),
//! `session` (the reader pool), `dispatch` (requests to operations),
//! `reply` (writing answers), `notify` (poll wake-ups), `request`
//! (callers and interruptions), `filesystem` (the trait).

pub mod abi;
mod dispatch;
mod filesystem;
mod mount;
mod notify;
mod reply;
mod request;
mod session;

pub use filesystem::{
    AttrReply, ConnectionInfo, Entry, Errno, Filesystem, Ioctl, IoctlReply, Opened, Result, SetAttr,
};
pub use mount::MountOptions;
pub use notify::PollHandle;
pub use reply::DirBuf;
pub use request::{Interrupt, Registration, Request, Wake, PENDING_INTERRUPT_TIMEOUT};
pub use session::{Session, MAX_IDLE, MAX_WRITE};
