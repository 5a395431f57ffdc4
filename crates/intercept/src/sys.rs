//! The system calls `umod exec` needs: fork and exec, installing a
//! seccomp filter with a notification listener, passing that descriptor
//! across, and the notification ioctls. Every `unsafe` block of the crate
//! is here; what rustix offers safely (descriptor passing, waiting,
//! polling, pipes, memory files, uname) goes through rustix.

use std::ffi::CString;
use std::io::{self, IoSlice, IoSliceMut};
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

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
///
/// # Safety
/// The process may have other threads, so until it execs or `_exit`s the
/// child may only make async-signal-safe calls: no allocation, no lock,
/// nothing that runs destructors.
pub unsafe fn fork() -> io::Result<libc::pid_t> {
    // SAFETY: the caller keeps the child to async-signal-safe calls.
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
    Ok(rustix::thread::set_no_new_privs(true)?)
}

/// Installs `program` as this thread's seccomp filter (inherited across
/// fork, clone and exec) and returns its notification listener.
pub fn install_filter(program: &[Insn]) -> io::Result<OwnedFd> {
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
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel just made this descriptor for us.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// Sends descriptor `fd` (and one byte) over the Unix socket `sock`.
pub fn send_fd(sock: BorrowedFd<'_>, fd: BorrowedFd<'_>) -> io::Result<()> {
    use rustix::net::{SendAncillaryBuffer, SendAncillaryMessage, SendFlags};
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
    let mut control = SendAncillaryBuffer::new(&mut space);
    let fds = [fd];
    control.push(SendAncillaryMessage::ScmRights(&fds));
    rustix::net::sendmsg(
        sock,
        &[IoSlice::new(b"F")],
        &mut control,
        SendFlags::empty(),
    )?;
    Ok(())
}

/// Receives a descriptor sent with [`send_fd`].
pub fn recv_fd(sock: BorrowedFd<'_>) -> io::Result<OwnedFd> {
    use rustix::net::{RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags};
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
    let mut control = RecvAncillaryBuffer::new(&mut space);
    let mut byte = [0u8; 1];
    let got = rustix::net::recvmsg(
        sock,
        &mut [IoSliceMut::new(&mut byte)],
        &mut control,
        RecvFlags::CMSG_CLOEXEC,
    )?;
    let mut received = None;
    for message in control.drain() {
        if let RecvAncillaryMessage::ScmRights(mut fds) = message {
            received = received.or_else(|| fds.next());
        }
    }
    match received {
        Some(fd) if got.bytes == 1 => Ok(fd),
        _ => Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "no descriptor received",
        )),
    }
}

/// What `execve` needs, made before forking (the child may not allocate).
pub struct ExecArgs {
    path: CString,
    _strings: (Vec<CString>, Vec<CString>),
    argv: Vec<*const libc::c_char>,
    env: Vec<*const libc::c_char>,
}

impl ExecArgs {
    /// The program at `path` with `argv` and environment `env`.
    pub fn new(path: CString, argv: Vec<CString>, env: Vec<CString>) -> ExecArgs {
        let pointers = |v: &[CString]| {
            let mut p: Vec<*const libc::c_char> = v.iter().map(|a| a.as_ptr()).collect();
            p.push(std::ptr::null());
            p
        };
        ExecArgs {
            argv: pointers(&argv),
            env: pointers(&env),
            path,
            _strings: (argv, env),
        }
    }

    /// `execve`: returns only on failure.
    pub fn exec(&self) -> io::Error {
        // SAFETY: NUL-terminated strings and NULL-terminated arrays of
        // pointers into them, all owned by `self` and alive for the call.
        unsafe { libc::execve(self.path.as_ptr(), self.argv.as_ptr(), self.env.as_ptr()) };
        io::Error::last_os_error()
    }
}

/// `_exit(code)`: leaves a forked child without running anything of the
/// parent's (no destructors, no atexit handlers).
pub fn exit_child(code: i32) -> ! {
    // SAFETY: _exit is always safe to call.
    unsafe { libc::_exit(code) }
}

/// Writes raw bytes to a descriptor (the child reports its failure): one
/// system call, nothing else.
pub fn write_all(fd: BorrowedFd<'_>, bytes: &[u8]) {
    let _ = rustix::io::write(fd, bytes);
}

fn pid(pid: libc::pid_t) -> io::Result<rustix::process::Pid> {
    rustix::process::Pid::from_raw(pid).ok_or_else(|| io::Error::from_raw_os_error(libc::ECHILD))
}

/// `waitpid(pid, WNOHANG)`: the raw status once the child has ended.
pub fn try_wait(child: libc::pid_t) -> io::Result<Option<i32>> {
    use rustix::process::{waitpid, WaitOptions};
    Ok(waitpid(Some(pid(child)?), WaitOptions::NOHANG)?.map(|(_, status)| status.as_raw()))
}

/// Waits up to `timeout_ms` for `fd` to be readable; returns (readable, hung up).
pub fn poll_in(fd: BorrowedFd<'_>, timeout_ms: i32) -> io::Result<(bool, bool)> {
    use rustix::event::{poll, PollFd, PollFlags, Timespec};
    let mut fds = [PollFd::new(&fd, PollFlags::IN)];
    let timeout = Timespec {
        tv_sec: i64::from(timeout_ms / 1000),
        tv_nsec: i64::from(timeout_ms % 1000) * 1_000_000,
    };
    match poll(&mut fds, Some(&timeout)) {
        Ok(_) => {
            let r = fds[0].revents();
            Ok((
                r.contains(PollFlags::IN),
                r.intersects(PollFlags::HUP | PollFlags::ERR),
            ))
        }
        Err(rustix::io::Errno::INTR) => Ok((false, false)),
        Err(e) => Err(e.into()),
    }
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

/// A memory file holding what `fill` writes, positioned at its start.
pub fn memfd_filled(
    name: &str,
    fill: impl FnOnce(&mut std::fs::File) -> io::Result<()>,
) -> io::Result<OwnedFd> {
    let fd = rustix::fs::memfd_create(name, rustix::fs::MemfdFlags::CLOEXEC)?;
    let mut file = std::fs::File::from(fd);
    use std::io::Seek;
    fill(&mut file)?;
    file.seek(io::SeekFrom::Start(0))?;
    Ok(OwnedFd::from(file))
}

/// This machine's `uname` as the 390 bytes of `struct utsname`.
pub fn uname_bytes() -> io::Result<[u8; 390]> {
    let u = rustix::system::uname();
    let mut out = [0u8; 390];
    for (i, field) in [
        u.sysname(),
        u.nodename(),
        u.release(),
        u.version(),
        u.machine(),
        u.domainname(),
    ]
    .iter()
    .enumerate()
    {
        let bytes = field.to_bytes();
        let n = bytes.len().min(64);
        out[i * 65..i * 65 + n].copy_from_slice(&bytes[..n]);
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
pub fn wait(child: libc::pid_t) -> io::Result<i32> {
    use rustix::process::{waitpid, WaitOptions};
    loop {
        match waitpid(Some(pid(child)?), WaitOptions::empty()) {
            Ok(Some((_, status))) => return Ok(status.as_raw()),
            Ok(None) | Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

/// A connected socket pair (ours, theirs) where `theirs` reads `first`
/// and then end of file, while what is written to `theirs` still arrives
/// on `ours`: a file a program may read once and write.
pub fn half_duplex_pair(first: &[u8]) -> io::Result<(OwnedFd, OwnedFd)> {
    use rustix::net::{AddressFamily, Shutdown, SocketFlags, SocketType};
    let (ours, theirs) = rustix::net::socketpair(
        AddressFamily::UNIX,
        SocketType::STREAM,
        SocketFlags::CLOEXEC,
        None,
    )?;
    let mut at = 0;
    while at < first.len() {
        at += rustix::io::write(&ours, &first[at..])?;
    }
    rustix::net::shutdown(&ours, Shutdown::Write)?;
    Ok((ours, theirs))
}
