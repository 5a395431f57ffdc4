//! The socket calls the daemon needs that the standard library lacks:
//! the peer's credentials recorded at connect, and receiving bytes with
//! the credentials the kernel stamped on them. (rustix's `UCred` holds a
//! non-zero pid, and the kernel reports pid 0 for a sender outside the
//! daemon's pid namespace, so these read plain `ucred`s.)

use std::io;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixStream;

/// `SO_PEERCRED`: (pid, effective uid, effective gid) of the process that
/// connected, as of connect.
pub fn peer_cred(stream: &UnixStream) -> io::Result<(u32, u32, u32)> {
    let mut cred = libc::ucred {
        pid: 0,
        uid: 0,
        gid: 0,
    };
    get(stream, libc::SO_PEERCRED, &mut cred)?;
    Ok((cred.pid.max(0) as u32, cred.uid, cred.gid))
}

/// `SO_PEERGROUPS`: the supplementary groups of the process that
/// connected, as of connect.
pub fn peer_groups(stream: &UnixStream) -> io::Result<Vec<u32>> {
    let mut groups = vec![0u32; 64];
    loop {
        let mut len = (groups.len() * 4) as libc::socklen_t;
        // SAFETY: getsockopt writes at most `len` bytes into `groups`, a
        // buffer of that many bytes, for the valid descriptor of `stream`.
        let r = unsafe {
            libc::getsockopt(
                stream.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_PEERGROUPS,
                groups.as_mut_ptr().cast(),
                &mut len,
            )
        };
        let needed = len as usize / 4;
        if r == 0 {
            groups.truncate(needed);
            return Ok(groups);
        }
        let err = io::Error::last_os_error();
        // ERANGE: the buffer was too small, and `len` says how big.
        if err.raw_os_error() != Some(libc::ERANGE) || needed <= groups.len() || needed > 65536 {
            return Err(err);
        }
        groups.resize(needed, 0);
    }
}

/// `SO_PEERPIDFD`: a pidfd for the process that connected (Linux 6.5+);
/// `None` on older kernels.
pub fn peer_pidfd(stream: &UnixStream) -> Option<OwnedFd> {
    let mut fd: libc::c_int = -1;
    get(stream, libc::SO_PEERPIDFD, &mut fd).ok()?;
    if fd < 0 {
        return None;
    }
    // SAFETY: the kernel just made this descriptor for us; nothing else
    // owns it.
    Some(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `SO_PASSCRED`: have the kernel stamp each message with its sender. Set
/// on a listening socket, it holds for the connections it accepts from
/// their first byte (bytes a client sends before the daemon accepts it
/// would otherwise come unstamped).
pub fn pass_credentials(stream: &impl AsFd) -> io::Result<()> {
    Ok(rustix::net::sockopt::set_socket_passcred(stream, true)?)
}

/// The `SOL_SOCKET` option `name`, read into `value` (a plain C type the
/// option is defined with).
fn get<T: Copy>(stream: &UnixStream, name: libc::c_int, value: &mut T) -> io::Result<()> {
    let mut len = std::mem::size_of::<T>() as libc::socklen_t;
    // SAFETY: getsockopt writes at most `len` bytes, the size of `value`,
    // for the valid descriptor of `stream`.
    let r = unsafe {
        libc::getsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            name,
            (value as *mut T).cast(),
            &mut len,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Receives into `buf`; returns the byte count (0 at the end of the
/// stream) and the pid the kernel stamped on those bytes (`None` when the
/// message carried no credentials, or a sender the daemon's pid namespace
/// cannot name). One call never mixes two senders' bytes when
/// `SO_PASSCRED` is on.
pub fn recv_with_sender(stream: &UnixStream, buf: &mut [u8]) -> io::Result<(usize, Option<u32>)> {
    // Room for one cmsghdr and a ucred, aligned as the kernel wants.
    let mut control = [0u64; 8];
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: an all-zero msghdr is a valid empty header.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&control);
    // SAFETY: `msg` describes `buf` and `control`, both live and writable
    // for their stated lengths; MSG_CMSG_CLOEXEC keeps any descriptor a
    // peer might push from leaking into children.
    let n = unsafe { libc::recvmsg(stream.as_raw_fd(), &mut msg, libc::MSG_CMSG_CLOEXEC) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut sender = None;
    // SAFETY: the CMSG_* walk stays within `control`, as the kernel filled
    // it and set `msg_controllen`.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(&msg);
        while !c.is_null() {
            let h = &*c;
            if h.cmsg_level == libc::SOL_SOCKET && h.cmsg_type == libc::SCM_CREDENTIALS {
                let cred = std::ptr::read_unaligned(libc::CMSG_DATA(c).cast::<libc::ucred>());
                if cred.pid > 0 {
                    sender = Some(cred.pid as u32);
                }
            } else if h.cmsg_level == libc::SOL_SOCKET && h.cmsg_type == libc::SCM_RIGHTS {
                // Descriptors nobody asked for: close them.
                let data = libc::CMSG_DATA(c).cast::<libc::c_int>();
                let bytes = h.cmsg_len as usize - (data as usize - c as usize);
                for i in 0..bytes / std::mem::size_of::<libc::c_int>() {
                    drop(OwnedFd::from_raw_fd(std::ptr::read_unaligned(data.add(i))));
                }
            }
            c = libc::CMSG_NXTHDR(&msg, c);
        }
    }
    Ok((n as usize, sender))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn received_bytes_carry_their_sender() {
        let (mut a, b) = UnixStream::pair().unwrap();
        pass_credentials(&b).unwrap();
        a.write_all(b"hello").unwrap();
        let mut buf = [0u8; 16];
        let (n, sender) = recv_with_sender(&b, &mut buf).unwrap();
        assert_eq!(&buf[..n], b"hello");
        assert_eq!(sender, Some(std::process::id()));
        let (pid, _, _) = peer_cred(&b).unwrap();
        assert_eq!(pid, std::process::id());
    }

    #[test]
    fn bytes_of_another_process_are_stamped_with_it() {
        let (a, b) = UnixStream::pair().unwrap();
        pass_credentials(&b).unwrap();
        // A child writes through the inherited socket.
        let child = std::process::Command::new("sh")
            .args(["-c", "printf child >&9"])
            .stdin(std::process::Stdio::null())
            .spawn_with_fd9(a);
        let mut buf = [0u8; 16];
        let (n, sender) = recv_with_sender(&b, &mut buf).unwrap();
        assert_eq!(&buf[..n], b"child");
        assert_eq!(sender, Some(child));
        assert_ne!(sender, Some(std::process::id()));
    }

    trait SpawnWithFd9 {
        fn spawn_with_fd9(&mut self, fd: UnixStream) -> u32;
    }

    impl SpawnWithFd9 for std::process::Command {
        fn spawn_with_fd9(&mut self, fd: UnixStream) -> u32 {
            use std::os::unix::process::CommandExt;
            let raw = fd.as_raw_fd();
            // SAFETY: dup2 in the child between fork and exec is
            // async-signal-safe.
            unsafe {
                self.pre_exec(move || {
                    if libc::dup2(raw, 9) < 0 {
                        return Err(io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
            let mut child = self.spawn().unwrap();
            let pid = child.id();
            child.wait().unwrap();
            drop(fd);
            pid
        }
    }
}
