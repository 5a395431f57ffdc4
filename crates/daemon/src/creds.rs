//! Who is on the other end of a connection: pid, uid and gid from
//! `SO_PEERCRED`, and `CAP_SYS_MODULE` from the peer's effective
//! capability set (`capget`, what `/proc/PID/status` shows as `CapEff`).
//!
//! A capability set only means something in its own user namespace: any
//! user may make a namespace (`unshare -Ur`) and holds every capability
//! *there*, which `capget` reports all the same. A peer counts as holding
//! `CAP_SYS_MODULE` only in the daemon's own user namespace, as the kernel
//! asks `capable()` of the initial one.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixStream;

use umod_host::Caller;

/// Bit of `CAP_SYS_MODULE` in a capability set.
pub const CAP_SYS_MODULE: u32 = 16;
/// Bit of `CAP_SYS_ADMIN` in a capability set.
pub const CAP_SYS_ADMIN: u32 = 21;

/// The peer of `stream` as a [`Caller`].
pub fn peer(stream: &UnixStream) -> io::Result<Caller> {
    let empty = libc::ucred {
        pid: 0,
        uid: 0,
        gid: 0,
    };
    let cred = socket_option(stream, libc::SO_PEERCRED, empty)?;
    let pid = cred.pid as u32;
    let pidfd = peer_pidfd(stream);
    let privileged = has_cap_sys_module(pid)
        && in_our_user_namespace(pid)
        // The peer may have exited since it connected (a child of it keeping
        // the socket) and its pid gone to another process, whose
        // credentials were just read: they count only if the peer still
        // runs, which keeps its pid its own. (Kernels before 6.5 give no
        // pidfd here, and this check is skipped.)
        && pidfd.as_ref().is_none_or(still_running);
    Ok(Caller {
        pid,
        uid: cred.uid,
        gid: cred.gid,
        cap_sys_module: privileged,
    })
}

/// A pidfd for the process that connected `stream`, taken at connect time
/// (`SO_PEERPIDFD`, Linux 6.5+); `None` on older kernels.
fn peer_pidfd(stream: &UnixStream) -> Option<OwnedFd> {
    let fd = socket_option(stream, libc::SO_PEERPIDFD, -1 as libc::c_int).ok()?;
    if fd < 0 {
        return None;
    }
    // SAFETY: the kernel just made this descriptor for us; nothing else
    // owns it.
    Some(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// The `SOL_SOCKET` option `name` of `stream`, read into a `T` that
/// starts as `value`: a plain C struct or integer the option fills.
fn socket_option<T: Copy>(stream: &UnixStream, name: libc::c_int, value: T) -> io::Result<T> {
    let mut value = value;
    let mut len = std::mem::size_of::<T>() as libc::socklen_t;
    // SAFETY: getsockopt writes at most `len` bytes, the size of `value`,
    // for the valid descriptor of `stream`; callers pass only the plain C
    // type the option is defined with.
    let r = unsafe {
        libc::getsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            name,
            (&mut value as *mut T).cast(),
            &mut len,
        )
    };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(value)
}

/// Whether the process behind `pidfd` has not exited (a pidfd becomes
/// readable when it does).
fn still_running(pidfd: &OwnedFd) -> bool {
    let mut p = libc::pollfd {
        fd: pidfd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd, and no waiting.
    unsafe { libc::poll(&mut p, 1, 0) == 0 }
}

/// Whether process `pid` lives in this process's user namespace (false
/// when it is gone or its namespace cannot be looked at). One `stat` in
/// `/proc`, some microseconds: paid once a connection.
pub fn in_our_user_namespace(pid: u32) -> bool {
    use std::os::unix::fs::MetadataExt;
    use std::sync::OnceLock;
    fn user_ns(of: &str) -> Option<(u64, u64)> {
        let meta = std::fs::metadata(format!("/proc/{of}/ns/user")).ok()?;
        Some((meta.dev(), meta.ino()))
    }
    static OURS: OnceLock<Option<(u64, u64)>> = OnceLock::new();
    let ours = *OURS.get_or_init(|| user_ns("self"));
    ours.is_some() && user_ns(&pid.to_string()) == ours
}

/// The credentials of process `pid` (effective ids, CAP_SYS_MODULE), or
/// `None` if it is gone.
pub fn of_pid(pid: u32) -> Option<Caller> {
    use std::os::unix::fs::MetadataExt;
    // The owner of /proc/PID is the process's effective uid and gid.
    let meta = std::fs::metadata(format!("/proc/{pid}")).ok()?;
    Some(Caller {
        pid,
        uid: meta.uid(),
        gid: meta.gid(),
        cap_sys_module: effective_caps(pid)? & (1 << CAP_SYS_MODULE) != 0,
    })
}

/// The effective capability set of process `pid` (`capget`, one system
/// call: this is on the path of every privileged forwarded call).
pub fn effective_caps(pid: u32) -> Option<u64> {
    #[repr(C)]
    struct Header {
        version: u32,
        pid: i32,
    }
    #[repr(C)]
    #[derive(Clone, Copy, Default)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;
    let mut header = Header {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: pid as i32,
    };
    let mut data = [Data::default(); 2];
    // SAFETY: capget reads the header and writes two Data structs, the
    // layout of _LINUX_CAPABILITY_VERSION_3.
    let r = unsafe {
        libc::syscall(
            libc::SYS_capget,
            &mut header as *mut Header,
            data.as_mut_ptr(),
        )
    };
    if r != 0 {
        return None;
    }
    Some(u64::from(data[0].effective) | u64::from(data[1].effective) << 32)
}

/// Whether process `pid` holds `CAP_SYS_MODULE` in its effective set. A
/// process that is gone, or a status we cannot read, holds nothing.
pub fn has_cap_sys_module(pid: u32) -> bool {
    has_cap(pid, CAP_SYS_MODULE)
}

/// Whether process `pid` holds capability number `cap` in its effective set.
pub fn has_cap(pid: u32, cap: u32) -> bool {
    effective_caps(pid).is_some_and(|caps| caps & (1 << cap) != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `CapEff:` mask of a `/proc/PID/status` text.
    fn cap_eff(status: &str) -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with("CapEff:"))?;
        u64::from_str_radix(line["CapEff:".len()..].trim(), 16).ok()
    }

    #[test]
    fn cap_eff_parsing() {
        let status = "Name:\tx\nCapInh:\t0000000000000000\nCapEff:\t000001ffffffffff\n";
        assert_eq!(cap_eff(status), Some(0x1ff_ffff_ffff));
        assert_eq!(cap_eff("CapEff:\t0000000000000000\n"), Some(0));
        assert_eq!(cap_eff("nothing"), None);
    }

    #[test]
    fn capget_agrees_with_proc_status() {
        let pid = std::process::id();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        assert_eq!(effective_caps(pid), cap_eff(&status));
        assert_eq!(effective_caps(0x7fff_fff0), None, "no such process");
    }

    /// A pidfd for process `pid` (`pidfd_open`, Linux 5.3+).
    fn pidfd_of(pid: u32) -> OwnedFd {
        // SAFETY: pidfd_open takes a pid and flags, and returns a new fd.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
        assert!(fd >= 0, "pidfd_open: {}", io::Error::last_os_error());
        // SAFETY: a fresh descriptor from the kernel, owned by nobody else.
        unsafe { OwnedFd::from_raw_fd(fd as i32) }
    }

    #[test]
    fn a_pidfd_tells_whether_its_process_still_runs() {
        assert!(still_running(&pidfd_of(std::process::id())));
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pidfd = pidfd_of(child.id());
        child.wait().unwrap();
        assert!(!still_running(&pidfd), "an exited process");
        // The peer's own, where the kernel gives one (Linux 6.5+).
        let (a, _b) = UnixStream::pair().unwrap();
        if let Some(me) = peer_pidfd(&a) {
            assert!(still_running(&me));
        }
    }

    #[test]
    fn peer_of_a_socket_pair_is_this_process() {
        let (a, _b) = UnixStream::pair().unwrap();
        let c = peer(&a).unwrap();
        assert_eq!(c.pid, std::process::id());
        use std::os::unix::fs::MetadataExt;
        // /proc/self belongs to the process's effective uid.
        assert_eq!(c.uid, std::fs::metadata("/proc/self").unwrap().uid());
    }
}
