//! Mounting a FUSE file system without fusermount: open `/dev/fuse`, then
//! mount(2) type `fuse` (or `fuse.SUBTYPE`) with the descriptor's number in
//! the options. Needs root, or root of a user namespace owning the mount
//! namespace (the kernel allows FUSE mounts there), and a `/dev/fuse` the
//! caller may open.

use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use rustix::fs::{Mode, OFlags};
use rustix::mount::{MountFlags, UnmountFlags};

/// How to mount.
#[derive(Clone, Debug)]
pub struct MountOptions {
    /// The mount's source as `/proc/mounts` shows it.
    pub fsname: String,
    /// The file system type becomes `fuse.SUBTYPE` when set.
    pub subtype: Option<String>,
    /// Let users other than the mounting one use the mount.
    pub allow_other: bool,
    /// Let the kernel check permissions from the attributes' mode, uid and
    /// gid (otherwise the server decides, and ACCESS is asked).
    pub default_permissions: bool,
    /// Mount read-only.
    pub read_only: bool,
    /// Most reader threads the session runs (at least 1).
    pub max_threads: usize,
    /// The device to open (`/dev/fuse`).
    pub device: PathBuf,
}

impl Default for MountOptions {
    fn default() -> MountOptions {
        MountOptions {
            fsname: "umod-fuse".into(),
            subtype: None,
            allow_other: false,
            default_permissions: false,
            read_only: false,
            max_threads: 64,
            device: PathBuf::from("/dev/fuse"),
        }
    }
}

impl MountOptions {
    /// The mount(2) data string for descriptor `fd`, owned by `uid`/`gid`.
    pub fn data(&self, fd: i32, uid: u32, gid: u32) -> String {
        let mut data = format!("fd={fd},rootmode=40000,user_id={uid},group_id={gid}");
        if self.allow_other {
            data.push_str(",allow_other");
        }
        if self.default_permissions {
            data.push_str(",default_permissions");
        }
        data
    }

    /// The file system type mount(2) gets.
    pub fn fstype(&self) -> String {
        match &self.subtype {
            Some(sub) => format!("fuse.{sub}"),
            None => "fuse".into(),
        }
    }
}

/// Opens the FUSE device (non-blocking: the session polls it).
pub(crate) fn open_device(path: &Path) -> std::io::Result<OwnedFd> {
    Ok(rustix::fs::open(
        path,
        OFlags::RDWR | OFlags::CLOEXEC | OFlags::NONBLOCK,
        Mode::empty(),
    )?)
}

/// Mounts the connection of `fd` on `dir`.
pub(crate) fn mount(dir: &Path, fd: &OwnedFd, options: &MountOptions) -> std::io::Result<()> {
    let uid = rustix::process::geteuid().as_raw();
    let gid = rustix::process::getegid().as_raw();
    let data = CString::new(options.data(fd.as_raw_fd(), uid, gid))
        .map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidInput))?;
    let mut flags = MountFlags::NOSUID | MountFlags::NODEV;
    if options.read_only {
        flags |= MountFlags::RDONLY;
    }
    rustix::mount::mount(
        options.fsname.as_str(),
        dir,
        options.fstype().as_str(),
        flags,
        data.as_c_str(),
    )?;
    Ok(())
}

/// Detaches the mount on `dir` (lazily: open files keep working until the
/// session ends).
pub(crate) fn unmount(dir: &Path) -> std::io::Result<()> {
    Ok(rustix::mount::unmount(dir, UnmountFlags::DETACH)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mount_data_names_fd_owner_and_options() {
        let mut o = MountOptions::default();
        assert_eq!(
            o.data(5, 1000, 100),
            "fd=5,rootmode=40000,user_id=1000,group_id=100"
        );
        assert_eq!(o.fstype(), "fuse");
        o.allow_other = true;
        o.default_permissions = true;
        o.subtype = Some("umod".into());
        assert_eq!(
            o.data(3, 0, 0),
            "fd=3,rootmode=40000,user_id=0,group_id=0,allow_other,default_permissions"
        );
        assert_eq!(o.fstype(), "fuse.umod");
    }
}
