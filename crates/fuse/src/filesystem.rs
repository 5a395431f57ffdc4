//! The [`Filesystem`] trait a server implements, and the values its
//! operations return. Every operation has a default: `ENOSYS` where the
//! protocol lets the kernel remember "not implemented" (it then stops
//! asking, or falls back), otherwise what an empty read-only file system
//! would answer.

use std::ffi::OsStr;
use std::time::Duration;

use crate::abi::{self, Attr};
use crate::notify::PollHandle;
use crate::reply::DirBuf;
use crate::request::Request;

/// An error for the caller: a positive errno value (`libc::ENOENT`, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Errno(pub i32);

impl Errno {
    #![allow(missing_docs)]
    pub const ENOENT: Errno = Errno(libc::ENOENT);
    pub const EIO: Errno = Errno(libc::EIO);
    pub const EINTR: Errno = Errno(libc::EINTR);
    pub const EAGAIN: Errno = Errno(libc::EAGAIN);
    pub const EACCES: Errno = Errno(libc::EACCES);
    pub const EINVAL: Errno = Errno(libc::EINVAL);
    pub const ENOSYS: Errno = Errno(libc::ENOSYS);
    pub const ENOTTY: Errno = Errno(libc::ENOTTY);
    pub const EROFS: Errno = Errno(libc::EROFS);
    pub const ENOTDIR: Errno = Errno(libc::ENOTDIR);
    pub const EISDIR: Errno = Errno(libc::EISDIR);
    pub const EPERM: Errno = Errno(libc::EPERM);
}

impl From<std::io::Error> for Errno {
    fn from(e: std::io::Error) -> Errno {
        Errno(e.raw_os_error().unwrap_or(libc::EIO))
    }
}

/// What operations return.
pub type Result<T> = std::result::Result<T, Errno>;

/// The reply to LOOKUP, MKNOD and CREATE: a node, its attributes, and how
/// long the kernel may cache the name and the attributes.
#[derive(Clone, Copy, Debug, Default)]
pub struct Entry {
    /// The node's attributes; `attr.ino` is also its node id.
    pub attr: Attr,
    /// Generation of the node id (0 unless node ids are reused).
    pub generation: u64,
    /// How long the name may be cached.
    pub entry_valid: Duration,
    /// How long the attributes may be cached.
    pub attr_valid: Duration,
}

/// The reply to GETATTR and SETATTR.
#[derive(Clone, Copy, Debug, Default)]
pub struct AttrReply {
    /// The attributes.
    pub attr: Attr,
    /// How long the kernel may cache them.
    pub valid: Duration,
}

/// The reply to OPEN, OPENDIR and CREATE: a file handle the server picks,
/// given back with every later operation on the open file, and `FOPEN_*`
/// flags ([`abi::FOPEN_DIRECT_IO`], [`abi::FOPEN_NONSEEKABLE`], ...).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Opened {
    /// The file handle.
    pub fh: u64,
    /// `FOPEN_*` flags.
    pub flags: u32,
}

/// The reply to a restricted IOCTL: the ioctl's return value and the bytes
/// copied back to the caller's argument (at most `out_size`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IoctlReply {
    /// What `ioctl()` returns (non-negative; errors are `Err(Errno)`).
    pub result: i32,
    /// The output bytes.
    pub data: Vec<u8>,
}

/// An IOCTL request: the command, the caller's raw argument, and for a
/// restricted ioctl the `_IOC_SIZE(cmd)` bytes the kernel copied in (for
/// `_IOW`) and how many it copies out (`_IOR`).
#[derive(Clone, Copy, Debug)]
pub struct Ioctl<'a> {
    /// The open file's handle.
    pub fh: u64,
    /// `FUSE_IOCTL_*` flags ([`abi::ioctl_flags`]).
    pub flags: u32,
    /// The command.
    pub cmd: u32,
    /// The caller's argument, as a number (a pointer in its address space).
    pub arg: u64,
    /// The bytes at `arg` for a command that writes to the driver.
    pub input: &'a [u8],
    /// How many bytes the kernel copies back to `arg`.
    pub out_size: u32,
}

/// A SETATTR request: the fields to change (`None`: unchanged).
#[derive(Clone, Copy, Debug, Default)]
pub struct SetAttr {
    /// New mode.
    pub mode: Option<u32>,
    /// New owner.
    pub uid: Option<u32>,
    /// New group.
    pub gid: Option<u32>,
    /// New size (truncate).
    pub size: Option<u64>,
    /// The open file's handle, when the change came through one.
    pub fh: Option<u64>,
    /// The raw request (times, `valid` bits).
    pub raw: abi::SetattrIn,
}

/// A file system served by a [`crate::Session`]. Operations run on the
/// session's reader threads, several at once: one that blocks (a read
/// waiting for data) holds only its own thread.
#[allow(unused_variables)]
pub trait Filesystem: Send + Sync + 'static {
    /// The connection is set up (after FUSE_INIT).
    fn init(&self, info: &ConnectionInfo) {}
    /// The kernel ends the connection (FUSE_DESTROY).
    fn destroy(&self) {}
    /// Looks `name` up in directory `parent`.
    fn lookup(&self, req: &Request, parent: u64, name: &OsStr) -> Result<Entry> {
        Err(Errno::ENOENT)
    }
    /// The kernel drops `nlookup` references to node `ino` (no reply).
    fn forget(&self, ino: u64, nlookup: u64) {}
    /// Attributes of `ino` (`fh`: through an open file).
    fn getattr(&self, req: &Request, ino: u64, fh: Option<u64>) -> Result<AttrReply> {
        Err(Errno::ENOSYS)
    }
    /// Changes attributes (chmod, chown, truncate, utimes).
    fn setattr(&self, req: &Request, ino: u64, set: &SetAttr) -> Result<AttrReply> {
        Err(Errno::ENOSYS)
    }
    /// Opens `ino` with open(2) `flags`.
    fn open(&self, req: &Request, ino: u64, flags: u32) -> Result<Opened> {
        Ok(Opened::default())
    }
    /// Reads up to `size` bytes at `offset`.
    fn read(&self, req: &Request, ino: u64, fh: u64, offset: u64, size: u32) -> Result<Vec<u8>> {
        Err(Errno::ENOSYS)
    }
    /// Writes `data` at `offset`; returns how many bytes were taken.
    fn write(
        &self,
        req: &Request,
        ino: u64,
        fh: u64,
        offset: u64,
        data: &[u8],
        flags: u32,
    ) -> Result<u32> {
        Err(Errno::ENOSYS)
    }
    /// A descriptor of the open file is closed.
    fn flush(&self, req: &Request, ino: u64, fh: u64, lock_owner: u64) -> Result<()> {
        Err(Errno::ENOSYS)
    }
    /// The last reference to the open file is gone.
    fn release(&self, req: &Request, ino: u64, fh: u64, flags: u32) -> Result<()> {
        Ok(())
    }
    /// fsync(2)/fdatasync(2).
    fn fsync(&self, req: &Request, ino: u64, fh: u64, datasync: bool) -> Result<()> {
        Err(Errno::ENOSYS)
    }
    /// Opens directory `ino`.
    fn opendir(&self, req: &Request, ino: u64, flags: u32) -> Result<Opened> {
        Ok(Opened::default())
    }
    /// Lists directory entries from `offset` (0, or an `off` given to a
    /// previous [`DirBuf::push`]) into `out` until it is full.
    fn readdir(
        &self,
        req: &Request,
        ino: u64,
        fh: u64,
        offset: u64,
        out: &mut DirBuf,
    ) -> Result<()> {
        Err(Errno::ENOSYS)
    }
    /// The directory is closed.
    fn releasedir(&self, req: &Request, ino: u64, fh: u64) -> Result<()> {
        Ok(())
    }
    /// statfs(2).
    fn statfs(&self, req: &Request, ino: u64) -> Result<abi::Kstatfs> {
        Ok(abi::Kstatfs {
            bsize: 512,
            frsize: 512,
            namelen: 255,
            ..Default::default()
        })
    }
    /// access(2) (only without `default_permissions`).
    fn access(&self, req: &Request, ino: u64, mask: u32) -> Result<()> {
        Err(Errno::ENOSYS)
    }
    /// ioctl(2) on an open file.
    fn ioctl(&self, req: &Request, ino: u64, ioctl: &Ioctl<'_>) -> Result<IoctlReply> {
        Err(Errno::ENOSYS)
    }
    /// poll(2)/select(2): the events ready now. `handle` is given when the
    /// caller will sleep: keep it and call [`PollHandle::notify`] when the
    /// readiness may have changed.
    fn poll(
        &self,
        req: &Request,
        ino: u64,
        fh: u64,
        events: u32,
        handle: Option<PollHandle>,
    ) -> Result<u32> {
        Err(Errno::ENOSYS)
    }
    /// mknod(2) of `name` in `parent`.
    fn mknod(
        &self,
        req: &Request,
        parent: u64,
        name: &OsStr,
        mode: u32,
        rdev: u32,
        umask: u32,
    ) -> Result<Entry> {
        Err(Errno::EROFS)
    }
    /// open(2) with O_CREAT of `name` in `parent` (`ENOSYS`: the kernel
    /// uses MKNOD then OPEN).
    fn create(
        &self,
        req: &Request,
        parent: u64,
        name: &OsStr,
        mode: u32,
        umask: u32,
        flags: u32,
    ) -> Result<(Entry, Opened)> {
        Err(Errno::ENOSYS)
    }
    /// unlink(2) of `name` in `parent`.
    fn unlink(&self, req: &Request, parent: u64, name: &OsStr) -> Result<()> {
        Err(Errno::EROFS)
    }
}

/// What FUSE_INIT settled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionInfo {
    /// The kernel's protocol minor.
    pub kernel_minor: u32,
    /// The minor both speak (min of the kernel's and this crate's).
    pub minor: u32,
    /// The flags the kernel offered.
    pub kernel_flags: u32,
    /// The flags agreed.
    pub flags: u32,
    /// The largest WRITE the kernel sends.
    pub max_write: u32,
}
