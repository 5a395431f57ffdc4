//! Errors as 2.4 had them: an errno, returned negated from `init`.

/// An errno.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Error(i32);

/// A result whose error is an errno.
pub type Result<T = ()> = core::result::Result<T, Error>;

impl Error {
    /// Operation not permitted.
    pub const EPERM: Error = Error(1);
    /// No such file or directory.
    pub const ENOENT: Error = Error(2);
    /// I/O error.
    pub const EIO: Error = Error(5);
    /// Out of memory.
    pub const ENOMEM: Error = Error(12);
    /// Bad address.
    pub const EFAULT: Error = Error(14);
    /// Device or resource busy.
    pub const EBUSY: Error = Error(16);
    /// File exists.
    pub const EEXIST: Error = Error(17);
    /// No such device.
    pub const ENODEV: Error = Error(19);
    /// Invalid argument.
    pub const EINVAL: Error = Error(22);
    /// No space left on device.
    pub const ENOSPC: Error = Error(28);

    /// The errno `n` (positive).
    pub const fn from_errno(n: i32) -> Error {
        Error(n)
    }

    /// The errno, positive.
    pub const fn errno(self) -> i32 {
        self.0
    }

    /// What `init_module` returns for it: `-errno`.
    pub const fn to_return(self) -> i32 {
        -self.0
    }
}
