//! Socket activation as systemd passes sockets, without libsystemd.
//!
//! A service manager that made the listening socket itself (systemd's
//! `umod.socket`) starts the daemon with the socket as descriptor 3 and
//! says so in the environment: `LISTEN_PID` (the pid the sockets are for:
//! the daemon's own, as the manager sets it after fork) and `LISTEN_FDS`
//! (how many, from 3 on; `LISTEN_FDNAMES` names them, unused here). The
//! daemon then serves on that socket and leaves its file alone: the
//! manager made it, with the mode and owner its unit says, and keeps
//! listening on it while the daemon is stopped, so clients that connect
//! meanwhile wait instead of failing.
//!
//! As `sd_listen_fds(1)` does, the variables are read once and removed
//! whatever they say, so no child (`umod exec` programs, helpers) takes
//! the daemon's socket for its own; and a `LISTEN_PID` naming another
//! process means the sockets were not meant for this one, which then
//! binds its path as without a manager.

use std::io;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixListener;

use rustix::io::FdFlags;
use rustix::net::{sockopt, AddressFamily, SocketType};

use crate::listen::{self, Listening};

/// The first descriptor a service manager passes (`SD_LISTEN_FDS_START`).
pub const LISTEN_FDS_START: RawFd = 3;

/// The variables of the protocol, all removed once read.
const VARIABLES: [&str; 3] = ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"];

/// Why the socket a service manager passed cannot be served on.
#[derive(Debug, thiserror::Error)]
pub enum ActivationError {
    /// `LISTEN_PID` is not a pid at all.
    #[error("socket activation: LISTEN_PID={0} is not a process id")]
    BadPid(String),
    /// `LISTEN_PID` names this process, but no count came with it.
    #[error("socket activation: LISTEN_PID names this process but LISTEN_FDS is not set")]
    NoCount,
    /// Not exactly one socket.
    #[error(
        "socket activation: LISTEN_FDS={0}: umod serve takes exactly one socket, fd 3 \
         (a socket unit with one ListenStream=)"
    )]
    Count(String),
    /// Descriptor 3 is not a listening Unix stream socket.
    #[error("socket activation: fd 3 {0}")]
    NotAListener(String),
    /// A system call on descriptor 3 failed.
    #[error("socket activation: fd 3: {0}")]
    Io(#[from] io::Error),
}

/// What the environment says, as `sd_listen_fds` reads it: whether
/// descriptor 3 is a socket passed to process `me`. `listen_pid` and
/// `listen_fds` are the variables' values, if set.
pub fn passed_to(
    listen_pid: Option<&str>,
    listen_fds: Option<&str>,
    me: u32,
) -> Result<bool, ActivationError> {
    let Some(pid) = listen_pid else {
        return Ok(false);
    };
    let pid: u32 = pid
        .trim()
        .parse()
        .ok()
        .filter(|&p| p > 0)
        .ok_or_else(|| ActivationError::BadPid(pid.to_string()))?;
    if pid != me {
        return Ok(false);
    }
    match listen_fds {
        None => Err(ActivationError::NoCount),
        Some(n) if n.trim().parse::<u32>() == Ok(1) => Ok(true),
        Some(n) => Err(ActivationError::Count(n.to_string())),
    }
}

/// The socket the service manager passed to this process, ready to
/// serve on (see [`listen::prepare`] for what is set on it, and
/// [`Listening::is_inherited`] for what is then never done to it); `None`
/// when none was passed. The protocol's variables are removed from the
/// environment either way.
///
/// # Safety
///
/// It changes the environment, so no other thread may run meanwhile (one
/// could be reading the environment, which the C library does not guard):
/// call it first thing, before the host, the logger or anything else
/// starts a thread.
pub unsafe fn listener_from_env() -> Result<Option<Listening>, ActivationError> {
    let value = |name| std::env::var_os(name).map(|v| v.to_string_lossy().into_owned());
    let (pid, fds) = (value("LISTEN_PID"), value("LISTEN_FDS"));
    for name in VARIABLES {
        std::env::remove_var(name);
    }
    if !passed_to(pid.as_deref(), fds.as_deref(), std::process::id())? {
        return Ok(None);
    }
    inherit().map(Some)
}

/// Takes descriptor 3 and checks it is what a `ListenStream=` unit
/// passes: an `AF_UNIX` `SOCK_STREAM` socket that is listening.
fn inherit() -> Result<Listening, ActivationError> {
    // Looked at through /proc before taking it: an `OwnedFd` must own an
    // open descriptor, and the link names what a wrong one is.
    let what = match std::fs::read_link(format!("/proc/self/fd/{LISTEN_FDS_START}")) {
        Ok(what) => what,
        Err(_) if std::path::Path::new("/proc/self/fd").is_dir() => {
            return Err(ActivationError::NotAListener("is not open".into()))
        }
        Err(e) => return Err(e.into()),
    };
    // SAFETY: descriptor 3 is open (just seen in /proc, and no other
    // thread runs that could close it: see `listener_from_env`); the
    // service manager passed it to this process (LISTEN_PID names it) to
    // be owned by the daemon, and nothing else in this process uses it.
    let fd = unsafe { OwnedFd::from_raw_fd(LISTEN_FDS_START) };
    let domain = match sockopt::socket_domain(&fd) {
        Ok(d) => d,
        Err(rustix::io::Errno::NOTSOCK) => {
            return Err(ActivationError::NotAListener(format!(
                "is {}, not a socket",
                what.display()
            )))
        }
        Err(e) => return Err(io::Error::from(e).into()),
    };
    if domain != AddressFamily::UNIX {
        return Err(ActivationError::NotAListener(format!(
            "is an {} socket, not AF_UNIX (ListenStream= takes a path)",
            family_name(domain)
        )));
    }
    let kind = sockopt::socket_type(&fd).map_err(io::Error::from)?;
    if kind != SocketType::STREAM {
        return Err(ActivationError::NotAListener(format!(
            "is a Unix {} socket, not SOCK_STREAM (ListenStream=, not ListenDatagram= \
             or ListenSequentialPacket=)",
            type_name(kind)
        )));
    }
    if !sockopt::socket_acceptconn(&fd).map_err(io::Error::from)? {
        return Err(ActivationError::NotAListener(
            "is a Unix stream socket that is not listening (a connected or only bound one; \
             the daemon needs the listening socket of a socket unit, with Accept=no)"
                .into(),
        ));
    }
    // Passed without close-on-exec, so that it survived the manager's
    // exec; no child of the daemon's may hold it.
    rustix::io::fcntl_setfd(&fd, FdFlags::CLOEXEC).map_err(io::Error::from)?;
    let listener = UnixListener::from(fd);
    listen::prepare(&listener)?;
    Ok(Listening::inherited(listener))
}

fn family_name(f: AddressFamily) -> String {
    let known = [
        (AddressFamily::INET, "AF_INET"),
        (AddressFamily::INET6, "AF_INET6"),
        (AddressFamily::NETLINK, "AF_NETLINK"),
        (AddressFamily::PACKET, "AF_PACKET"),
        (AddressFamily::VSOCK, "AF_VSOCK"),
    ];
    known.iter().find(|(k, _)| *k == f).map_or_else(
        || format!("address family {}", f.as_raw()),
        |(_, n)| n.to_string(),
    )
}

fn type_name(t: SocketType) -> String {
    let known = [
        (SocketType::DGRAM, "SOCK_DGRAM"),
        (SocketType::SEQPACKET, "SOCK_SEQPACKET"),
        (SocketType::RAW, "SOCK_RAW"),
    ];
    known
        .iter()
        .find(|(k, _)| *k == t)
        .map_or_else(|| format!("type {}", t.as_raw()), |(_, n)| n.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_listen_pid_means_no_activation() {
        assert!(!passed_to(None, None, 42).unwrap());
        assert!(!passed_to(None, Some("1"), 42).unwrap(), "a count alone");
    }

    #[test]
    fn one_socket_for_this_process_is_taken() {
        assert!(passed_to(Some("42"), Some("1"), 42).unwrap());
        assert!(passed_to(Some(" 42\n"), Some("1\n"), 42).unwrap());
    }

    #[test]
    fn sockets_for_another_process_are_ignored() {
        // A parent that was activated and did not clear its environment:
        // the variables name it, not us.
        assert!(!passed_to(Some("41"), Some("1"), 42).unwrap());
        assert!(!passed_to(Some("41"), Some("7"), 42).unwrap());
        assert!(!passed_to(Some("41"), None, 42).unwrap());
    }

    #[test]
    fn counts_other_than_one_are_refused_naming_the_count() {
        for n in ["0", "2", "-1", "many", ""] {
            let e = passed_to(Some("42"), Some(n), 42).unwrap_err();
            assert!(
                e.to_string().starts_with(&format!(
                    "socket activation: LISTEN_FDS={n}: umod serve takes exactly one socket"
                )),
                "{e}"
            );
        }
        let e = passed_to(Some("42"), None, 42).unwrap_err();
        assert_eq!(
            e.to_string(),
            "socket activation: LISTEN_PID names this process but LISTEN_FDS is not set"
        );
    }

    #[test]
    fn a_listen_pid_that_is_no_pid_is_refused() {
        for p in ["", "abc", "0", "-3", "4294967296"] {
            let e = passed_to(Some(p), Some("1"), 42).unwrap_err();
            assert_eq!(
                e.to_string(),
                format!("socket activation: LISTEN_PID={p} is not a process id")
            );
        }
    }

    #[test]
    fn names_of_wrong_kinds_of_socket() {
        assert_eq!(family_name(AddressFamily::INET6), "AF_INET6");
        assert_eq!(
            family_name(AddressFamily::from_raw(99)),
            "address family 99"
        );
        assert_eq!(type_name(SocketType::DGRAM), "SOCK_DGRAM");
    }
}
