//! Who is on the other end of a connection, and what its requests may do.
//!
//! The rule (`docs/security.md`): privilege comes only from credentials
//! the caller cannot change after the fact.
//!
//! 1. **The ceiling, fixed at connect.** When a client connects, the
//!    kernel records its pid, effective uid and gid (`SO_PEERCRED`), and
//!    nothing the client does afterwards changes that record. A connection
//!    can carry privilege only if its peer was root (effective uid 0) in
//!    the daemon's user namespace when it connected. The kernel records no
//!    capability set at connect; a process gains capabilities later only by
//!    `exec` (of a setuid or file-capability program), which the daemon
//!    cannot see, so a non-root holder of CAP_SYS_MODULE is not served as
//!    privileged: that is the price of the rule.
//! 2. **The sender, fixed per message.** Every byte of a privileged
//!    request must have been sent by the process that connected: the
//!    kernel stamps each message with its sender (`SCM_CREDENTIALS`). A
//!    child that inherited the socket, or a process it was handed to, is
//!    served as an unprivileged caller.
//! 3. **Now, read per request.** When a request that needs privilege is
//!    served, the process that connected still runs (checked through the
//!    pidfd taken at connect, Linux 6.5+), lives in the daemon's user
//!    namespace, and holds the capability in its effective set (`capget`).
//!    The capability and the namespace are read first and the pidfd last,
//!    so the pid named that same process throughout. A caller that drops
//!    the capability is refused from its next request on.
//!
//! Reads of `/proc/PID` or `capget` can therefore only lower what a
//! connection may do, never raise it above what was true at connect.

use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;

use umod_host::{Caller, FileCreds};

use crate::sockopt;

pub use umod_client::caps::{
    effective as effective_caps, has as has_cap, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_SYSLOG,
    CAP_SYS_ADMIN, CAP_SYS_MODULE,
};

/// A connection's peer as the kernel recorded it at connect.
#[derive(Debug)]
pub struct Peer {
    /// Its pid (in the daemon's pid namespace; 0 if not visible there).
    pub pid: u32,
    /// Its effective uid at connect.
    pub uid: u32,
    /// Its effective gid at connect.
    pub gid: u32,
    /// Its supplementary groups at connect.
    pub groups: Vec<u32>,
    /// A pidfd for the process that connected (Linux 6.5+).
    pidfd: Option<OwnedFd>,
}

/// Capabilities a request holds (a mask of `1 << CAP_*`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Caps(pub u64);

impl Caps {
    /// Whether capability number `cap` is held.
    pub fn has(self, cap: u32) -> bool {
        self.0 & (1 << cap) != 0
    }
}

impl Peer {
    /// The peer of `stream`.
    pub fn of(stream: &UnixStream) -> io::Result<Peer> {
        let (pid, uid, gid) = sockopt::peer_cred(stream)?;
        Ok(Peer {
            pid,
            uid,
            gid,
            groups: sockopt::peer_groups(stream).unwrap_or_default(),
            pidfd: sockopt::peer_pidfd(stream),
        })
    }

    /// Whether requests on this connection can ever hold privilege (rule
    /// 1): the peer was root when it connected.
    pub fn root_at_connect(&self) -> bool {
        self.uid == 0 && self.pid != 0
    }

    /// The capabilities a request sent (every byte of it) by `sender`
    /// holds now: empty unless all three rules hold.
    pub fn capabilities(&self, sender: Option<u32>) -> Caps {
        if !self.root_at_connect() || sender != Some(self.pid) {
            return Caps::default();
        }
        let Some(caps) = effective_caps(self.pid) else {
            return Caps::default();
        };
        if !in_our_user_namespace(self.pid) {
            return Caps::default();
        }
        // Last: the process that connected still runs, so `pid` named it
        // while the two reads above were made. (Kernels before 6.5 give
        // no pidfd: there the ceiling of rule 1 alone bounds a reused pid.)
        if !self.pidfd.as_ref().is_none_or(still_running) {
            return Caps::default();
        }
        Caps(caps)
    }

    /// The caller the host sees for a request from `sender` holding
    /// `caps`.
    pub fn caller(&self, sender: Option<u32>, caps: Caps) -> Caller {
        Caller {
            pid: sender.unwrap_or(self.pid),
            uid: self.uid,
            gid: self.gid,
            cap_sys_module: caps.has(CAP_SYS_MODULE),
        }
    }

    /// Who opens a /proc entry for a request holding `caps`.
    pub fn file_creds(&self, caps: Caps) -> FileCreds {
        FileCreds {
            uid: self.uid,
            gid: self.gid,
            groups: self.groups.clone(),
            dac_override: caps.has(CAP_DAC_OVERRIDE),
            dac_read_search: caps.has(CAP_DAC_READ_SEARCH),
        }
    }
}

/// Whether the process behind `pidfd` has not exited (a pidfd becomes
/// readable when it does).
fn still_running(pidfd: &OwnedFd) -> bool {
    let mut fds = [rustix::event::PollFd::new(
        pidfd,
        rustix::event::PollFlags::IN,
    )];
    matches!(
        rustix::event::poll(&mut fds, Some(&rustix::time::Timespec::default())),
        Ok(0)
    )
}

/// Whether process `pid` lives in this process's user namespace (false
/// when it is gone or its namespace cannot be looked at). One `stat` in
/// `/proc`, some microseconds: paid by requests that need privilege.
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

/// The credentials of process `pid` now (effective ids, CAP_SYS_MODULE),
/// or `None` if it is gone: for a host embedded in this process.
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

/// Whether process `pid` holds `CAP_SYS_MODULE` in its effective set. A
/// process that is gone, or a status we cannot read, holds nothing.
pub fn has_cap_sys_module(pid: u32) -> bool {
    has_cap(pid, CAP_SYS_MODULE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pidfd_tells_whether_its_process_still_runs() {
        let me = rustix::process::pidfd_open(
            rustix::process::getpid(),
            rustix::process::PidfdFlags::empty(),
        )
        .unwrap();
        assert!(still_running(&me));
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = rustix::process::Pid::from_raw(child.id() as i32).unwrap();
        let pidfd = rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty()).unwrap();
        child.wait().unwrap();
        assert!(!still_running(&pidfd), "an exited process");
    }

    #[test]
    fn the_peer_of_a_socket_pair_is_this_process_with_its_groups() {
        let (a, _b) = UnixStream::pair().unwrap();
        let p = Peer::of(&a).unwrap();
        assert_eq!(p.pid, std::process::id());
        use std::os::unix::fs::MetadataExt;
        assert_eq!(p.uid, std::fs::metadata("/proc/self").unwrap().uid());
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let groups: Vec<u32> = status
            .lines()
            .find_map(|l| l.strip_prefix("Groups:"))
            .unwrap()
            .split_whitespace()
            .map(|g| g.parse().unwrap())
            .collect();
        assert_eq!(p.groups, groups);
    }

    #[test]
    fn only_the_connecting_process_carries_privilege() {
        let (a, _b) = UnixStream::pair().unwrap();
        let p = Peer::of(&a).unwrap();
        let me = std::process::id();
        let mine = effective_caps(me).unwrap();
        if p.root_at_connect() {
            assert_eq!(p.capabilities(Some(me)), Caps(mine));
        }
        assert_eq!(
            p.capabilities(Some(me + 1)),
            Caps::default(),
            "another sender"
        );
        assert_eq!(
            p.capabilities(None),
            Caps::default(),
            "a mixed or unknown sender"
        );
        let nobody = Peer {
            uid: 65534,
            ..Peer::of(&a).unwrap()
        };
        assert_eq!(
            nobody.capabilities(Some(me)),
            Caps::default(),
            "not root at connect"
        );
    }
}
