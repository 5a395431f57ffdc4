//! The listening socket, made without following a link.
//!
//! The socket's directory is opened one component at a time, none of them
//! followed if it is a symbolic link, and checked: every directory on the
//! way must belong to root or to the daemon's user, and be writable by
//! nobody else unless it is sticky (as `/tmp` is: there only a file's owner
//! may remove or rename it). Otherwise another user could swap the socket
//! for one of their own after the daemon made it, and collect what clients
//! send. Everything after that is done relative to the opened directory:
//! the stale socket is looked at without following a link and unlinked,
//! the new one is bound, and its mode set through a descriptor of the
//! inode just bound, never through the path again.

use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Component, Path, PathBuf};

use rustix::fs::{AtFlags, FileType, Mode, OFlags, Stat, CWD};

/// Why the socket could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    /// A live daemon answers on the socket already.
    #[error("another umod daemon is already serving on {0}")]
    AlreadyServing(PathBuf),
    /// A directory on the way would let another user replace the socket.
    #[error("refusing to listen on {path}: {dir} {why}")]
    UnsafeDirectory {
        /// The socket path.
        path: PathBuf,
        /// The directory.
        dir: PathBuf,
        /// What is wrong with it.
        why: String,
    },
    /// Something other than a socket has the socket's name.
    #[error("refusing to listen on {0}: it exists and is not a socket")]
    NotASocket(PathBuf),
    /// A system call failed.
    #[error("cannot listen on {path}: {source}")]
    Io {
        /// The socket path.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
}

/// A listening socket, and how to remove it later.
#[derive(Debug)]
pub struct Listening {
    /// The listener.
    pub listener: UnixListener,
    /// Where this daemon bound it; `None` for a socket inherited from the
    /// service manager (`activation.rs`), whose file belongs to it.
    bound: Option<Bound>,
}

/// A socket file this daemon made.
#[derive(Debug)]
struct Bound {
    dir: OwnedFd,
    name: PathBuf,
    /// The bound socket's inode, so removal takes only this one.
    ino: (u64, u64),
}

impl Listening {
    /// A listener the service manager made and passed: never unlinked,
    /// never chmod'ed, never removed by this daemon.
    pub(crate) fn inherited(listener: UnixListener) -> Listening {
        Listening {
            listener,
            bound: None,
        }
    }

    /// Whether the socket was passed by the service manager rather than
    /// bound by this daemon.
    pub fn is_inherited(&self) -> bool {
        self.bound.is_none()
    }

    /// Removes the socket, if this daemon bound it and it is still the one
    /// it bound. An inherited socket stays: the service manager listens on
    /// it again once the daemon is gone.
    pub fn remove(&self) {
        let Some(b) = &self.bound else { return };
        if let Ok(st) = rustix::fs::statat(&b.dir, &b.name, AtFlags::SYMLINK_NOFOLLOW) {
            if (st.st_dev, st.st_ino) == b.ino {
                let _ = rustix::fs::unlinkat(&b.dir, &b.name, AtFlags::empty());
            }
        }
    }
}

/// Binds `path` with mode 0666 (every user may connect; the daemon
/// decides what each may do). A stale socket nobody answers on is
/// replaced; a live one is left alone. Missing directories are made
/// (mode 0755).
pub fn bind(path: &Path) -> Result<Listening, ListenError> {
    let io_err = |source: io::Error| ListenError::Io {
        path: path.to_path_buf(),
        source,
    };
    let name = match path.file_name() {
        Some(n)
            if path
                .components()
                .next_back()
                .is_some_and(|c| matches!(c, Component::Normal(_))) =>
        {
            PathBuf::from(n)
        }
        _ => {
            return Err(io_err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a socket path ends in a file name",
            )))
        }
    };
    let dir = open_dir(path, path.parent().unwrap_or(Path::new("")))?;

    match rustix::fs::statat(&dir, &name, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) if FileType::from_raw_mode(st.st_mode) == FileType::Socket => {
            if UnixStream::connect(in_dir(&dir, &name)).is_ok() {
                return Err(ListenError::AlreadyServing(path.to_path_buf()));
            }
            rustix::fs::unlinkat(&dir, &name, AtFlags::empty()).map_err(|e| io_err(e.into()))?;
        }
        Ok(_) => return Err(ListenError::NotASocket(path.to_path_buf())),
        Err(rustix::io::Errno::NOENT) => {}
        Err(e) => return Err(io_err(e.into())),
    }

    let listener = UnixListener::bind(in_dir(&dir, &name)).map_err(io_err)?;
    // The inode just bound, opened without following a link; its mode set
    // through that descriptor.
    let sock = rustix::fs::openat(
        &dir,
        &name,
        OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| io_err(e.into()))?;
    let st = rustix::fs::fstat(&sock).map_err(|e| io_err(e.into()))?;
    if FileType::from_raw_mode(st.st_mode) != FileType::Socket {
        return Err(ListenError::NotASocket(path.to_path_buf()));
    }
    rustix::fs::chmodat(
        CWD,
        format!("/proc/self/fd/{}", sock.as_raw_fd()),
        Mode::from_raw_mode(0o666),
        AtFlags::empty(),
    )
    .map_err(|e| io_err(e.into()))?;
    prepare(&listener).map_err(io_err)?;
    Ok(Listening {
        listener,
        bound: Some(Bound {
            dir,
            name,
            ino: (st.st_dev, st.st_ino),
        }),
    })
}

/// What the daemon sets on every listener, bound or inherited:
/// non-blocking (the accept loop polls, and looks at the stop flag
/// between polls), and `SO_PASSCRED`, so every byte a client sends is
/// stamped with its sender from the first (`sockopt::pass_credentials`).
pub(crate) fn prepare(listener: &UnixListener) -> io::Result<()> {
    listener.set_nonblocking(true)?;
    crate::sockopt::pass_credentials(listener)
}

/// `name` in the opened directory, as a path the kernel resolves through
/// the descriptor (no component of the original path is looked up again).
fn in_dir(dir: &OwnedFd, name: &Path) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{}", dir.as_fd().as_raw_fd())).join(name)
}

/// Opens `dir` one component at a time, following no link and checking
/// each directory; makes the missing ones.
fn open_dir(path: &Path, dir: &Path) -> Result<OwnedFd, ListenError> {
    let io_err = |source: io::Error| ListenError::Io {
        path: path.to_path_buf(),
        source,
    };
    let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let (mut fd, mut walked) = if dir.is_absolute() {
        (
            rustix::fs::openat(CWD, "/", flags, Mode::empty()),
            PathBuf::from("/"),
        )
    } else {
        (
            rustix::fs::openat(CWD, ".", flags, Mode::empty()),
            PathBuf::from("."),
        )
    };
    let mut current = fd.map_err(|e| io_err(e.into()))?;
    check_dir(path, &walked, &current)?;
    for c in dir.components() {
        let name = match c {
            Component::RootDir | Component::CurDir => continue,
            Component::Normal(n) => n,
            Component::ParentDir | Component::Prefix(_) => {
                return Err(io_err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "a socket path without `..`",
                )))
            }
        };
        walked.push(name);
        fd = rustix::fs::openat(&current, name, flags, Mode::empty());
        if let Err(rustix::io::Errno::NOENT) = fd {
            match rustix::fs::mkdirat(&current, name, Mode::from_raw_mode(0o755)) {
                Ok(()) | Err(rustix::io::Errno::EXIST) => {}
                Err(e) => return Err(io_err(e.into())),
            }
            fd = rustix::fs::openat(&current, name, flags, Mode::empty());
        }
        current = match fd {
            Ok(fd) => fd,
            // O_NOFOLLOW|O_DIRECTORY on a link: ELOOP or ENOTDIR.
            Err(rustix::io::Errno::LOOP | rustix::io::Errno::NOTDIR) => {
                return Err(ListenError::UnsafeDirectory {
                    path: path.to_path_buf(),
                    dir: walked,
                    why: "is a symbolic link or not a directory".into(),
                })
            }
            Err(e) => return Err(io_err(e.into())),
        };
        check_dir(path, &walked, &current)?;
    }
    Ok(current)
}

/// A directory is safe when root or this daemon's user owns it and nobody
/// else may write it, or it is sticky.
fn check_dir(path: &Path, dir: &Path, fd: &OwnedFd) -> Result<(), ListenError> {
    let st: Stat = rustix::fs::fstat(fd).map_err(|e| ListenError::Io {
        path: path.to_path_buf(),
        source: e.into(),
    })?;
    let me = rustix::process::geteuid().as_raw();
    let unsafe_dir = |why: String| ListenError::UnsafeDirectory {
        path: path.to_path_buf(),
        dir: dir.to_path_buf(),
        why,
    };
    if st.st_uid != 0 && st.st_uid != me {
        return Err(unsafe_dir(format!(
            "belongs to uid {}, neither root nor this daemon's user",
            st.st_uid
        )));
    }
    let mode = st.st_mode & 0o7777;
    if mode & 0o022 != 0 && mode & 0o1000 == 0 {
        return Err(unsafe_dir(format!(
            "is writable by other users (mode {mode:04o}) and not sticky"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn scratch(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("umod-listen-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755)).unwrap();
        d
    }

    #[test]
    fn binds_with_mode_0666_and_replaces_a_stale_socket() {
        let d = scratch("ok");
        let path = d.join("sub/umod.sock");
        let l = bind(&path).unwrap();
        let mode = std::fs::symlink_metadata(&path)
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o666);
        assert!(matches!(bind(&path), Err(ListenError::AlreadyServing(_))));
        drop(l);
        // Stale now: replaced.
        let l = bind(&path).unwrap();
        l.remove();
        assert!(!path.exists());
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn links_and_unsafe_directories_are_refused() {
        let d = scratch("links");
        // A link where the socket goes: never followed, never replaced.
        let target = d.join("victim");
        std::fs::write(&target, "keep").unwrap();
        std::os::unix::fs::symlink(&target, d.join("umod.sock")).unwrap();
        assert!(matches!(
            bind(&d.join("umod.sock")),
            Err(ListenError::NotASocket(_))
        ));
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
        // A link on the way to the directory.
        std::fs::create_dir(d.join("real")).unwrap();
        std::os::unix::fs::symlink(d.join("real"), d.join("link")).unwrap();
        let e = bind(&d.join("link/umod.sock")).unwrap_err();
        assert!(e.to_string().contains("is a symbolic link"), "{e}");
        // A directory other users may write.
        let open = d.join("open");
        std::fs::create_dir(&open).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
        let e = bind(&open.join("umod.sock")).unwrap_err();
        assert!(
            e.to_string()
                .contains("writable by other users (mode 0777)"),
            "{e}"
        );
        // Sticky, as /tmp: fine.
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o1777)).unwrap();
        bind(&open.join("umod.sock")).unwrap().remove();
        std::fs::remove_dir_all(&d).unwrap();
    }
}
