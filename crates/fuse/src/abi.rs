//! The FUSE kernel protocol: the structures of `include/uapi/linux/fuse.h`
//! (major 7, layouts of minor 31), named after it (`fuse_in_header` is
//! [`InHeader`], `fuse_attr` is [`Attr`], ...), with its opcodes and flags.
//!
//! Every structure is plain old data (`zerocopy`), so requests are parsed
//! and replies built without `unsafe`. A kernel speaking an older minor
//! sends some requests shorter than these layouts; [`parse`] accepts a body
//! down to the size the protocol had at [`MIN_MINOR`] and zero-fills the
//! rest, which is what the later fields mean when absent.

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// The protocol's major version (`FUSE_KERNEL_VERSION`).
pub const KERNEL_VERSION: u32 = 7;
/// The newest minor whose layouts this crate speaks.
pub const KERNEL_MINOR_VERSION: u32 = 31;
/// The oldest minor accepted (Linux 2.6.29): from it on, every request
/// structure this crate reads has its current size except `fuse_init_in`.
pub const MIN_MINOR: u32 = 12;
/// The node id of the root directory (`FUSE_ROOT_ID`).
pub const ROOT_ID: u64 = 1;
/// `fuse_init_out` as a kernel of minor < 23 reads it.
pub const COMPAT_22_INIT_OUT_SIZE: usize = 24;
/// `fuse_init_in` as a kernel of minor < 36 sends it.
pub const COMPAT_INIT_IN_SIZE: usize = 16;

macro_rules! pod {
    ($(#[$m:meta])* $name:ident { $($(#[$fm:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$m])*
        #[repr(C)]
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
        pub struct $name { $($(#[$fm])* pub $field: $ty),* }
    };
}

pod!(
    /// `fuse_in_header`: every request starts with it.
    InHeader { len: u32, opcode: u32, unique: u64, nodeid: u64, uid: u32, gid: u32, pid: u32, padding: u32 }
);
pod!(
    /// `fuse_out_header`: every reply and notification starts with it.
    OutHeader { len: u32, error: i32, unique: u64 }
);
pod!(
    /// `fuse_init_in` (its `flags2` and unused words are absent before 7.36).
    InitIn { major: u32, minor: u32, max_readahead: u32, flags: u32, flags2: u32, unused: [u32; 11] }
);
pod!(
    /// `fuse_init_out`.
    InitOut {
        major: u32, minor: u32, max_readahead: u32, flags: u32,
        max_background: u16, congestion_threshold: u16, max_write: u32,
        time_gran: u32, max_pages: u16, map_alignment: u16, flags2: u32,
        unused: [u32; 7],
    }
);
pod!(
    /// `fuse_attr`: what `stat` shows.
    Attr {
        ino: u64, size: u64, blocks: u64, atime: u64, mtime: u64, ctime: u64,
        atimensec: u32, mtimensec: u32, ctimensec: u32, mode: u32, nlink: u32,
        uid: u32, gid: u32, rdev: u32, blksize: u32, flags: u32,
    }
);
pod!(
    /// `fuse_entry_out`: the reply to LOOKUP, MKNOD, CREATE.
    EntryOut {
        nodeid: u64, generation: u64, entry_valid: u64, attr_valid: u64,
        entry_valid_nsec: u32, attr_valid_nsec: u32, attr: Attr,
    }
);
pod!(
    /// `fuse_attr_out`: the reply to GETATTR and SETATTR.
    AttrOut { attr_valid: u64, attr_valid_nsec: u32, dummy: u32, attr: Attr }
);
pod!(
    /// `fuse_getattr_in`.
    GetattrIn { getattr_flags: u32, dummy: u32, fh: u64 }
);
pod!(
    /// `fuse_setattr_in`: `valid` says which fields mean something (`FATTR_*`).
    SetattrIn {
        valid: u32, padding: u32, fh: u64, size: u64, lock_owner: u64,
        atime: u64, mtime: u64, ctime: u64, atimensec: u32, mtimensec: u32,
        ctimensec: u32, mode: u32, unused4: u32, uid: u32, gid: u32, unused5: u32,
    }
);
pod!(
    /// `fuse_forget_in`.
    ForgetIn { nlookup: u64 }
);
pod!(
    /// `fuse_forget_one`: one entry of BATCH_FORGET.
    ForgetOne { nodeid: u64, nlookup: u64 }
);
pod!(
    /// `fuse_batch_forget_in`: followed by `count` [`ForgetOne`].
    BatchForgetIn { count: u32, dummy: u32 }
);
pod!(
    /// `fuse_mknod_in`: followed by the name.
    MknodIn { mode: u32, rdev: u32, umask: u32, padding: u32 }
);
pod!(
    /// `fuse_create_in`: followed by the name.
    CreateIn { flags: u32, mode: u32, umask: u32, open_flags: u32 }
);
pod!(
    /// `fuse_open_in` (OPEN and OPENDIR).
    OpenIn { flags: u32, open_flags: u32 }
);
pod!(
    /// `fuse_open_out`: `open_flags` holds `FOPEN_*`.
    OpenOut { fh: u64, open_flags: u32, padding: u32 }
);
pod!(
    /// `fuse_release_in` (RELEASE and RELEASEDIR).
    ReleaseIn { fh: u64, flags: u32, release_flags: u32, lock_owner: u64 }
);
pod!(
    /// `fuse_flush_in`.
    FlushIn { fh: u64, unused: u32, padding: u32, lock_owner: u64 }
);
pod!(
    /// `fuse_read_in` (READ and READDIR).
    ReadIn { fh: u64, offset: u64, size: u32, read_flags: u32, lock_owner: u64, flags: u32, padding: u32 }
);
pod!(
    /// `fuse_write_in`: followed by `size` bytes of data.
    WriteIn { fh: u64, offset: u64, size: u32, write_flags: u32, lock_owner: u64, flags: u32, padding: u32 }
);
pod!(
    /// `fuse_write_out`.
    WriteOut { size: u32, padding: u32 }
);
pod!(
    /// `fuse_kstatfs`.
    Kstatfs {
        blocks: u64, bfree: u64, bavail: u64, files: u64, ffree: u64,
        bsize: u32, namelen: u32, frsize: u32, padding: u32, spare: [u32; 6],
    }
);
pod!(
    /// `fuse_statfs_out`.
    StatfsOut { st: Kstatfs }
);
pod!(
    /// `fuse_fsync_in` (FSYNC and FSYNCDIR).
    FsyncIn { fh: u64, fsync_flags: u32, padding: u32 }
);
pod!(
    /// `fuse_access_in`.
    AccessIn { mask: u32, padding: u32 }
);
pod!(
    /// `fuse_interrupt_in`: the unique of the request to interrupt.
    InterruptIn { unique: u64 }
);
pod!(
    /// `fuse_ioctl_in`: followed by `in_size` bytes of input.
    IoctlIn { fh: u64, flags: u32, cmd: u32, arg: u64, in_size: u32, out_size: u32 }
);
pod!(
    /// `fuse_ioctl_out`: followed by the output bytes.
    IoctlOut { result: i32, flags: u32, in_iovs: u32, out_iovs: u32 }
);
pod!(
    /// `fuse_poll_in`: `kh` names the poll to wake when `flags` holds
    /// [`POLL_SCHEDULE_NOTIFY`].
    PollIn { fh: u64, kh: u64, flags: u32, events: u32 }
);
pod!(
    /// `fuse_poll_out`.
    PollOut { revents: u32, padding: u32 }
);
pod!(
    /// `fuse_notify_poll_wakeup_out`.
    NotifyPollWakeupOut { kh: u64 }
);
pod!(
    /// `fuse_dirent` without its name (which follows, padded to 8 bytes).
    Dirent { ino: u64, off: u64, namelen: u32, typ: u32 }
);

/// Request opcodes (`enum fuse_opcode`).
pub mod opcode {
    #![allow(missing_docs)]
    pub const LOOKUP: u32 = 1;
    pub const FORGET: u32 = 2;
    pub const GETATTR: u32 = 3;
    pub const SETATTR: u32 = 4;
    pub const READLINK: u32 = 5;
    pub const SYMLINK: u32 = 6;
    pub const MKNOD: u32 = 8;
    pub const MKDIR: u32 = 9;
    pub const UNLINK: u32 = 10;
    pub const RMDIR: u32 = 11;
    pub const RENAME: u32 = 12;
    pub const LINK: u32 = 13;
    pub const OPEN: u32 = 14;
    pub const READ: u32 = 15;
    pub const WRITE: u32 = 16;
    pub const STATFS: u32 = 17;
    pub const RELEASE: u32 = 18;
    pub const FSYNC: u32 = 20;
    pub const SETXATTR: u32 = 21;
    pub const GETXATTR: u32 = 22;
    pub const LISTXATTR: u32 = 23;
    pub const REMOVEXATTR: u32 = 24;
    pub const FLUSH: u32 = 25;
    pub const INIT: u32 = 26;
    pub const OPENDIR: u32 = 27;
    pub const READDIR: u32 = 28;
    pub const RELEASEDIR: u32 = 29;
    pub const FSYNCDIR: u32 = 30;
    pub const ACCESS: u32 = 34;
    pub const CREATE: u32 = 35;
    pub const INTERRUPT: u32 = 36;
    pub const DESTROY: u32 = 38;
    pub const IOCTL: u32 = 39;
    pub const POLL: u32 = 40;
    pub const BATCH_FORGET: u32 = 42;
    pub const READDIRPLUS: u32 = 44;
}

/// `FUSE_INIT` flags (`fuse_init_in.flags`, `fuse_init_out.flags`).
pub mod init_flags {
    #![allow(missing_docs)]
    pub const ASYNC_READ: u32 = 1 << 0;
    pub const ATOMIC_O_TRUNC: u32 = 1 << 3;
    pub const BIG_WRITES: u32 = 1 << 5;
    pub const HAS_IOCTL_DIR: u32 = 1 << 11;
    pub const DO_READDIRPLUS: u32 = 1 << 13;
    pub const MAX_PAGES: u32 = 1 << 22;
    pub const INIT_EXT: u32 = 1 << 30;
}

/// `FOPEN_DIRECT_IO`: no page cache, every read and write reaches the server.
pub const FOPEN_DIRECT_IO: u32 = 1 << 0;
/// `FOPEN_KEEP_CACHE`.
pub const FOPEN_KEEP_CACHE: u32 = 1 << 1;
/// `FOPEN_NONSEEKABLE`: the file has no position (`lseek` fails ESPIPE).
pub const FOPEN_NONSEEKABLE: u32 = 1 << 2;
/// `FOPEN_STREAM`.
pub const FOPEN_STREAM: u32 = 1 << 4;

/// `FUSE_POLL_SCHEDULE_NOTIFY`: the caller will sleep; wake it with a
/// notification naming `kh`.
pub const POLL_SCHEDULE_NOTIFY: u32 = 1 << 0;
/// `FUSE_NOTIFY_POLL`: the `error` field of a poll wake-up notification.
pub const NOTIFY_POLL: i32 = 1;

/// `FUSE_IOCTL_*` flags of [`IoctlIn`].
pub mod ioctl_flags {
    #![allow(missing_docs)]
    pub const COMPAT: u32 = 1 << 0;
    pub const UNRESTRICTED: u32 = 1 << 1;
    pub const RETRY: u32 = 1 << 2;
    pub const BIT32: u32 = 1 << 3;
    pub const DIR: u32 = 1 << 4;
}

/// `FATTR_*`: which fields of [`SetattrIn`] are set.
pub mod fattr {
    #![allow(missing_docs)]
    pub const MODE: u32 = 1 << 0;
    pub const UID: u32 = 1 << 1;
    pub const GID: u32 = 1 << 2;
    pub const SIZE: u32 = 1 << 3;
    pub const ATIME: u32 = 1 << 4;
    pub const MTIME: u32 = 1 << 5;
    pub const FH: u32 = 1 << 6;
    pub const ATIME_NOW: u32 = 1 << 7;
    pub const MTIME_NOW: u32 = 1 << 8;
    pub const LOCKOWNER: u32 = 1 << 9;
    pub const CTIME: u32 = 1 << 10;
}

/// The request structure `T` at the start of `body`, and what follows it.
/// A body shorter than `T` but at least `min` bytes long (an older kernel's
/// layout) is zero-extended; shorter than `min` is `None`.
pub fn parse_min<T: FromBytes + IntoBytes + Default>(
    body: &[u8],
    min: usize,
) -> Option<(T, &[u8])> {
    let size = std::mem::size_of::<T>();
    if body.len() >= size {
        let (value, rest) = T::read_from_prefix(body).ok()?;
        return Some((value, rest));
    }
    if body.len() < min {
        return None;
    }
    let mut value = T::default();
    value.as_mut_bytes()[..body.len()].copy_from_slice(body);
    Some((value, &[]))
}

/// The request structure `T` at the start of `body` (whole), and the rest.
pub fn parse<T: FromBytes + IntoBytes + Default>(body: &[u8]) -> Option<(T, &[u8])> {
    parse_min(body, std::mem::size_of::<T>())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::size_of;

    #[test]
    fn layouts_have_the_kernel_sizes() {
        assert_eq!(size_of::<InHeader>(), 40);
        assert_eq!(size_of::<OutHeader>(), 16);
        assert_eq!(size_of::<InitIn>(), 64);
        assert_eq!(size_of::<InitOut>(), 64);
        assert_eq!(size_of::<Attr>(), 88);
        assert_eq!(size_of::<EntryOut>(), 128);
        assert_eq!(size_of::<AttrOut>(), 104);
        assert_eq!(size_of::<SetattrIn>(), 88);
        assert_eq!(size_of::<ReadIn>(), 40);
        assert_eq!(size_of::<WriteIn>(), 40);
        assert_eq!(size_of::<Kstatfs>(), 80);
        assert_eq!(size_of::<IoctlIn>(), 32);
        assert_eq!(size_of::<IoctlOut>(), 16);
        assert_eq!(size_of::<PollIn>(), 24);
        assert_eq!(size_of::<ReleaseIn>(), 24);
        assert_eq!(size_of::<Dirent>(), 24);
    }

    #[test]
    fn short_bodies_zero_extend_down_to_the_minimum() {
        let old = [
            7u32.to_ne_bytes(),
            12u32.to_ne_bytes(),
            4096u32.to_ne_bytes(),
            5u32.to_ne_bytes(),
        ]
        .concat();
        let (init, rest): (InitIn, _) = parse_min(&old, COMPAT_INIT_IN_SIZE).unwrap();
        assert_eq!(
            (init.major, init.minor, init.flags, init.flags2),
            (7, 12, 5, 0)
        );
        assert!(rest.is_empty());
        assert!(parse_min::<InitIn>(&old[..12], COMPAT_INIT_IN_SIZE).is_none());
        assert!(parse::<ReadIn>(&[0; 39]).is_none());
        let (_, rest) = parse::<WriteIn>(&[0; 45]).unwrap();
        assert_eq!(rest.len(), 5);
    }
}
