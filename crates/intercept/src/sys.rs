//! The system calls `umod exec` needs: fork and exec, installing a
//! seccomp filter with a notification listener, passing that descriptor
//! across, and the notification ioctls. Every `unsafe` block of the crate
//! is here.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// A classic BPF instruction (`struct sock_filter`).
pub type Insn = libc::sock_filter;

fn check(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// `fork()`: `Ok(0)` in the child, the child's pid in the parent.
pub fn fork() -> io::Result<libc::pid_t> {
    // SAFETY: the child only makes async-signal-safe system calls until it
    // execs or _exits (see `child_main`).
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(pid)
    }
}

/// `prctl(PR_SET_NO_NEW_PRIVS, 1)`: lets an unprivileged process install a
/// seccomp filter.
pub fn set_no_new_privs() -> io::Result<()> {
    // SAFETY: plain prctl with integer arguments.
    check(unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) }).map(drop)
}

/// Installs `program` as this thread's seccomp filter (inherited across
/// fork, clone and exec) and returns its notification listener.
pub fn install_filter(program: &[Insn]) -> io::Result<RawFd> {
    let prog = libc::sock_fprog {
        len: program.len() as u16,
        filter: program.as_ptr() as *mut Insn,
    };
    // SAFETY: `prog` points to `program`, valid for the call; the kernel
    // copies the filter.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            libc::SECCOMP_FILTER_FLAG_NEW_LISTENER,
            &prog as *const libc::sock_fprog,
        )
    };
    if fd < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(fd as RawFd)
    }
}

/// A message of one byte (`byte`) whose control data lives in `space`
/// (`controllen` bytes of it).
fn one_byte_message(
    byte: &mut [u8; 1],
    iov: &mut libc::iovec,
    space: &mut [u8; 64],
    controllen: usize,
) -> libc::msghdr {
    *iov = libc::iovec {
        iov_base: byte.as_mut_ptr().cast(),
        iov_len: 1,
    };
    // SAFETY: msghdr is plain data, and all zeroes is an empty one.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = iov;
    msg.msg_iovlen = 1;
    msg.msg_control = space.as_mut_ptr().cast();
    msg.msg_controllen = controllen;
    msg
}

const NO_IOV: libc::iovec = libc::iovec {
    iov_base: std::ptr::null_mut(),
    iov_len: 0,
};

/// Sends descriptor `fd` (and one byte) over the Unix socket `sock`.
pub fn send_fd(sock: RawFd, fd: RawFd) -> io::Result<()> {
    let (mut byte, mut iov, mut space) = ([0u8; 1], NO_IOV, [0u8; 64]);
    // SAFETY: CMSG_SPACE only computes a size.
    let controllen = unsafe { libc::CMSG_SPACE(std::mem::size_of::<RawFd>() as u32) } as usize;
    let msg = one_byte_message(&mut byte, &mut iov, &mut space, controllen);
    // SAFETY: the control buffer is set up as cmsg(3) says; CMSG_* only
    // compute offsets inside `space`, which is large enough.
    unsafe {
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        (*cmsg).cmsg_level = libc::SOL_SOCKET;
        (*cmsg).cmsg_type = libc::SCM_RIGHTS;
        (*cmsg).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<RawFd>() as u32) as usize;
        std::ptr::write_unaligned(libc::CMSG_DATA(cmsg).cast::<RawFd>(), fd);
        if libc::sendmsg(sock, &msg, 0) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Receives a descriptor sent with [`send_fd`].
pub fn recv_fd(sock: RawFd) -> io::Result<OwnedFd> {
    let (mut byte, mut iov, mut space) = ([0u8; 1], NO_IOV, [0u8; 64]);
    let mut msg = one_byte_message(&mut byte, &mut iov, &mut space, 64);
    // SAFETY: as for `send_fd`; the received descriptor is new and ours.
    unsafe {
        let n = libc::recvmsg(sock, &mut msg, libc::MSG_CMSG_CLOEXEC);
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        if n == 0 || cmsg.is_null() || (*cmsg).cmsg_type != libc::SCM_RIGHTS {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "no descriptor received",
            ));
        }
        let fd = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast::<RawFd>());
        Ok(OwnedFd::from_raw_fd(fd))
    }
}

/// `execve(path, argv, envp)` with the current environment; returns only
/// on failure.
pub fn execve(path: &CString, argv: &[CString], env: &[CString]) -> io::Error {
    let mut argv_p: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    argv_p.push(std::ptr::null());
    let mut env_p: Vec<*const libc::c_char> = env.iter().map(|a| a.as_ptr()).collect();
    env_p.push(std::ptr::null());
    // SAFETY: NUL-terminated strings and NULL-terminated arrays built above,
    // alive for the call.
    unsafe { libc::execve(path.as_ptr(), argv_p.as_ptr(), env_p.as_ptr()) };
    io::Error::last_os_error()
}

/// `_exit(code)`: leaves a forked child without running anything of the
/// parent's (no destructors, no atexit handlers).
pub fn exit_child(code: i32) -> ! {
    // SAFETY: _exit is always safe to call.
    unsafe { libc::_exit(code) }
}

/// Writes raw bytes to a descriptor (the child reports its failure).
pub fn write_all(fd: RawFd, bytes: &[u8]) {
    // SAFETY: `bytes` is valid for reads of its length.
    unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
}

/// `waitpid(pid, WNOHANG)`: the raw status once the child has ended.
pub fn try_wait(pid: libc::pid_t) -> io::Result<Option<i32>> {
    let mut status = 0;
    // SAFETY: `status` is a valid out-pointer.
    let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
    match r {
        0 => Ok(None),
        r if r < 0 => Err(io::Error::last_os_error()),
        _ => Ok(Some(status)),
    }
}

/// Waits up to `timeout_ms` for `fd` to be readable; returns (readable, hung up).
pub fn poll_in(fd: RawFd, timeout_ms: i32) -> io::Result<(bool, bool)> {
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    let r = unsafe { libc::poll(&mut p, 1, timeout_ms) };
    if r < 0 {
        let e = io::Error::last_os_error();
        return if e.kind() == io::ErrorKind::Interrupted {
            Ok((false, false))
        } else {
            Err(e)
        };
    }
    Ok((
        p.revents & libc::POLLIN != 0,
        p.revents & (libc::POLLHUP | libc::POLLERR) != 0,
    ))
}

/// A received notification.
pub type Notif = libc::seccomp_notif;

/// `SECCOMP_IOCTL_NOTIF_RECV`.
pub fn notif_recv(listener: &OwnedFd) -> io::Result<Notif> {
    // SAFETY: seccomp_notif is plain data; zeroed is its required input.
    let mut n: Notif = unsafe { std::mem::zeroed() };
    // SAFETY: the ioctl fills `n`, of the size the request encodes.
    check(unsafe { libc::ioctl(listener.as_raw_fd(), libc::SECCOMP_IOCTL_NOTIF_RECV, &mut n) })?;
    Ok(n)
}

/// `SECCOMP_IOCTL_NOTIF_SEND`: the syscall returns `val`, or fails with
/// `-error` when `error` is negative; `continue_` lets it run for real.
pub fn notif_send(
    listener: &OwnedFd,
    id: u64,
    val: i64,
    error: i32,
    continue_: bool,
) -> io::Result<()> {
    let mut resp = libc::seccomp_notif_resp {
        id,
        val,
        error,
        flags: if continue_ {
            libc::SECCOMP_USER_NOTIF_FLAG_CONTINUE as u32
        } else {
            0
        },
    };
    // SAFETY: `resp` is a valid seccomp_notif_resp for the call.
    check(unsafe {
        libc::ioctl(
            listener.as_raw_fd(),
            libc::SECCOMP_IOCTL_NOTIF_SEND,
            &mut resp,
        )
    })
    .map(drop)
}

/// `SECCOMP_IOCTL_NOTIF_ID_VALID`: the notification is still pending (its
/// task has not died and been replaced meanwhile).
pub fn notif_id_valid(listener: &OwnedFd, id: u64) -> bool {
    let mut id = id;
    // SAFETY: the ioctl reads one u64.
    unsafe {
        libc::ioctl(
            listener.as_raw_fd(),
            libc::SECCOMP_IOCTL_NOTIF_ID_VALID,
            &mut id,
        ) == 0
    }
}

/// `SECCOMP_IOCTL_NOTIF_ADDFD` with `SEND`: installs `fd` in the target
/// and completes its syscall with the new descriptor number.
pub fn notif_addfd_send(listener: &OwnedFd, id: u64, fd: &OwnedFd) -> io::Result<()> {
    let mut add = libc::seccomp_notif_addfd {
        id,
        flags: libc::SECCOMP_ADDFD_FLAG_SEND as u32,
        srcfd: fd.as_raw_fd() as u32,
        newfd: 0,
        newfd_flags: libc::O_CLOEXEC as u32,
    };
    // SAFETY: `add` is a valid seccomp_notif_addfd for the call.
    check(unsafe {
        libc::ioctl(
            listener.as_raw_fd(),
            libc::SECCOMP_IOCTL_NOTIF_ADDFD,
            &mut add,
        )
    })
    .map(drop)
}

/// Asks the kernel to wake the target on our CPU when we answer
/// (`SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP`, Linux 6.6+); best effort.
pub fn notif_sync_wakeup(listener: &OwnedFd) {
    const SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP: libc::c_ulong = 1;
    // SAFETY: this ioctl takes its flags by value, not through a pointer.
    unsafe {
        libc::ioctl(
            listener.as_raw_fd(),
            libc::SECCOMP_IOCTL_NOTIF_SET_FLAGS,
            SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP,
        )
    };
}

/// A memory file holding `bytes`, positioned at its start.
pub fn memfd_with(name: &str, bytes: &[u8]) -> io::Result<OwnedFd> {
    let name = CString::new(name).expect("no NUL");
    // SAFETY: a NUL-terminated name; the new descriptor is ours.
    let fd = check(unsafe { libc::memfd_create(name.as_ptr(), libc::MFD_CLOEXEC) })?;
    // SAFETY: `fd` was just created and is owned by nobody else.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let mut file = std::fs::File::from(fd);
    use std::io::{Seek, Write};
    file.write_all(bytes)?;
    file.seek(io::SeekFrom::Start(0))?;
    Ok(OwnedFd::from(file))
}

/// This machine's `uname` as the 390 bytes of `struct utsname`.
pub fn uname_bytes() -> io::Result<[u8; 390]> {
    // SAFETY: utsname is plain data, zeroed is a valid value, and uname
    // fills it.
    let u = unsafe {
        let mut u: libc::utsname = std::mem::zeroed();
        check(libc::uname(&mut u))?;
        u
    };
    let mut out = [0u8; 390];
    for (i, field) in [
        u.sysname,
        u.nodename,
        u.release,
        u.version,
        u.machine,
        u.domainname,
    ]
    .iter()
    .enumerate()
    {
        for (k, c) in field.iter().enumerate() {
            out[i * 65 + k] = *c as u8;
        }
    }
    Ok(out)
}

/// The signal the child watcher sends to interrupt a blocking receive.
pub const WAKE_SIGNAL: libc::c_int = libc::SIGUSR2;

extern "C" fn ignore_signal(_: libc::c_int) {}

/// Makes [`WAKE_SIGNAL`] interrupt blocking calls (no `SA_RESTART`)
/// without doing anything else.
pub fn install_wake_handler() -> io::Result<()> {
    // SAFETY: a zeroed sigaction with an empty handler that touches
    // nothing; sigemptyset initialises the mask.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = ignore_signal as *const () as usize;
        libc::sigemptyset(&mut sa.sa_mask);
        check(libc::sigaction(WAKE_SIGNAL, &sa, std::ptr::null_mut())).map(drop)
    }
}

/// This thread's id, for [`wake`].
pub fn this_thread() -> libc::pthread_t {
    // SAFETY: pthread_self has no preconditions.
    unsafe { libc::pthread_self() }
}

/// Interrupts `thread`'s blocking call with [`WAKE_SIGNAL`].
pub fn wake(thread: libc::pthread_t) {
    // SAFETY: `thread` is the supervisor's main thread, alive while the
    // watcher runs (the supervisor joins the watcher before returning).
    unsafe { libc::pthread_kill(thread, WAKE_SIGNAL) };
}

/// `waitpid(pid, 0)`: blocks until the child ends; its raw status.
pub fn wait(pid: libc::pid_t) -> io::Result<i32> {
    let mut status = 0;
    loop {
        // SAFETY: `status` is a valid out-pointer.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r >= 0 {
            return Ok(status);
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// A pipe: (read end, write end), close-on-exec.
pub fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills the two-element array with new descriptors.
    check(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) })?;
    // SAFETY: both descriptors were just created and are ours alone.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}
