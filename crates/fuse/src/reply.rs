//! Writing replies to the kernel: each one a single `writev` of an
//! [`OutHeader`] and its body, and the directory listing buffer.

use std::io::IoSlice;
use std::os::fd::{AsFd, OwnedFd};

use zerocopy::IntoBytes;

use crate::abi::{Dirent, OutHeader};

/// The connection's `/dev/fuse` descriptor, as replies and notifications
/// are written to it.
pub struct Channel {
    fd: OwnedFd,
}

impl Channel {
    pub(crate) fn new(fd: OwnedFd) -> Channel {
        Channel { fd }
    }

    pub(crate) fn fd(&self) -> &OwnedFd {
        &self.fd
    }

    /// Writes one message: a header with `error` and `unique`, then `parts`.
    /// A reply the kernel no longer wants (`ENOENT`: the caller went away,
    /// or an interrupt reply after its request ended) is not an error.
    pub(crate) fn send(&self, unique: u64, error: i32, parts: &[&[u8]]) {
        let len = std::mem::size_of::<OutHeader>() + parts.iter().map(|p| p.len()).sum::<usize>();
        let header = OutHeader {
            len: len as u32,
            error,
            unique,
        };
        let mut slices = Vec::with_capacity(parts.len() + 1);
        slices.push(IoSlice::new(header.as_bytes()));
        slices.extend(
            parts
                .iter()
                .filter(|p| !p.is_empty())
                .map(|p| IoSlice::new(p)),
        );
        match rustix::io::writev(self.fd.as_fd(), &slices) {
            Ok(n) if n == len => {}
            Ok(n) => tracing::warn!(unique, n, len, "fuse: short reply write"),
            Err(rustix::io::Errno::NOENT) => {
                tracing::debug!(unique, "fuse: reply to a request that is gone")
            }
            Err(e) => tracing::warn!(unique, error, "fuse: writing a reply failed: {e}"),
        }
    }

    /// Answers `unique` with an error (a positive errno).
    pub(crate) fn error(&self, unique: u64, errno: i32) {
        self.send(unique, -errno, &[]);
    }

    /// Answers `unique` with a body.
    pub(crate) fn ok(&self, unique: u64, parts: &[&[u8]]) {
        self.send(unique, 0, parts);
    }
}

/// The buffer READDIR fills: `fuse_dirent` records, each padded to 8
/// bytes, up to the size the kernel asked for.
pub struct DirBuf {
    data: Vec<u8>,
    max: usize,
}

impl DirBuf {
    pub(crate) fn new(max: usize) -> DirBuf {
        DirBuf {
            data: Vec::new(),
            max,
        }
    }

    /// Adds an entry: node `ino`, `off` (the offset of the entry after this
    /// one, given back as the next READDIR's offset), `kind` (a `DT_*`
    /// value such as `libc::DT_REG`) and `name`. False, adding nothing,
    /// when the buffer is full.
    pub fn push(&mut self, ino: u64, off: u64, kind: u8, name: &[u8]) -> bool {
        let record = std::mem::size_of::<Dirent>() + name.len();
        let padded = record.next_multiple_of(8);
        if self.data.len() + padded > self.max {
            return false;
        }
        let dirent = Dirent {
            ino,
            off,
            namelen: name.len() as u32,
            typ: u32::from(kind),
        };
        self.data.extend_from_slice(dirent.as_bytes());
        self.data.extend_from_slice(name);
        self.data.resize(self.data.len() + padded - record, 0);
        true
    }

    /// The bytes so far.
    pub fn bytes(&self) -> &[u8] {
        &self.data
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dirents_are_padded_and_bounded() {
        let mut buf = DirBuf::new(64);
        assert!(buf.push(2, 1, libc::DT_REG, b"abc"));
        assert_eq!(buf.bytes().len(), 32);
        assert_eq!(&buf.bytes()[24..27], b"abc");
        assert_eq!(&buf.bytes()[27..32], &[0; 5]);
        assert!(buf.push(3, 2, libc::DT_REG, b"12345678"));
        assert_eq!(buf.bytes().len(), 64);
        assert!(!buf.push(4, 3, libc::DT_REG, b"x"));
        assert_eq!(buf.bytes().len(), 64);
    }
}
