//! The toy file system mounted and used by real programs and system calls.

mod common;

use std::io::Read;
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{is_mounted, mount_toy, HELLO_TEXT, MAILBOX, SINK, TOY_GET, TOY_SET};

fn run(cmd: &mut Command) -> std::process::Output {
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{cmd:?}: {out:?}");
    out
}

#[test]
fn cat_reads_a_file() {
    let Some(m) = mount_toy("cat_reads_a_file") else {
        return;
    };
    let mut cat = Command::new("cat")
        .arg(m.path("hello"))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = cat.id();
    let mut text = Vec::new();
    cat.stdout.take().unwrap().read_to_end(&mut text).unwrap();
    assert!(cat.wait().unwrap().success());
    assert_eq!(text, HELLO_TEXT);
    let (uid, gid) = (
        rustix::process::geteuid().as_raw(),
        rustix::process::getegid().as_raw(),
    );
    assert_eq!(
        m.seen().openers[0],
        (uid, gid, pid),
        "the request names its caller"
    );
    let out = run(Command::new("cat").arg(m.path("hello")));
    assert_eq!(out.stdout, HELLO_TEXT);
    assert_eq!(std::fs::read(m.path("hello")).unwrap(), HELLO_TEXT);
    let err = std::fs::read(m.path("absent")).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::ENOENT));
}

#[test]
fn echo_reaches_write_with_an_atomic_truncating_open() {
    let Some(m) = mount_toy("echo_reaches_write_with_an_atomic_truncating_open") else {
        return;
    };
    run(Command::new("sh")
        .arg("-c")
        .arg(format!("echo x > {}", m.path("sink").display())));
    let seen = m.seen();
    assert_eq!(seen.written, b"x\n");
    let (_, flags) = *seen
        .open_flags
        .iter()
        .find(|(ino, _)| *ino == SINK)
        .unwrap();
    assert_ne!(
        flags & libc::O_TRUNC as u32,
        0,
        "O_TRUNC reaches OPEN (FUSE_ATOMIC_O_TRUNC)"
    );
    assert_eq!(flags & libc::O_ACCMODE as u32, libc::O_WRONLY as u32);
    drop(seen);
    assert_eq!(std::fs::read(m.path("sink")).unwrap(), b"x\n");
}

#[test]
fn ls_shows_the_attributes() {
    let Some(m) = mount_toy("ls_shows_the_attributes") else {
        return;
    };
    let (uid, gid) = (
        rustix::process::geteuid().as_raw(),
        rustix::process::getegid().as_raw(),
    );
    let out = run(Command::new("ls").arg("-ln").arg(&m.dir));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.stderr.is_empty(),
        "ls complained: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = |name: &str| {
        text.lines()
            .find(|l| l.ends_with(&format!(" {name}")))
            .unwrap_or_else(|| panic!("{name} missing from:\n{text}"))
            .split_whitespace()
            .take(5)
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(line("hello"), format!("-rw-r--r-- 1 {uid} {gid} 12"));
    assert_eq!(line("dev"), format!("-rw------- 1 {uid} {gid} 0"));
    for name in ["sink", "mailbox", "event"] {
        assert_eq!(line(name), format!("-rw-rw-rw- 1 {uid} {gid} 0"));
    }
    let meta = std::fs::metadata(m.path("hello")).unwrap();
    assert_eq!(
        (meta.len(), meta.mode(), meta.ino(), meta.mtime()),
        (12, 0o100644, 2, 1_000_000_000)
    );
    assert!(std::fs::metadata(&m.dir).unwrap().is_dir());
}

#[test]
fn ioctl_copies_in_for_iow_and_out_for_ior() {
    let Some(m) = mount_toy("ioctl_copies_in_for_iow_and_out_for_ior") else {
        return;
    };
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(m.path("dev"))
        .unwrap();
    let mut got = 0u32;
    // SAFETY: TOY_GET is _IOR of a u32: the kernel writes 4 bytes to `got`.
    let r = unsafe { libc::ioctl(file.as_raw_fd(), TOY_GET as _, &mut got as *mut u32) };
    assert_eq!((r, got), (7, 0x1234_5678));
    let value = 0x0102_0304_0506_0708u64;
    // SAFETY: TOY_SET is _IOW of a u64: the kernel reads 8 bytes of `value`.
    let r = unsafe { libc::ioctl(file.as_raw_fd(), TOY_SET as _, &value as *const u64) };
    assert_eq!(r, 0);
    assert_eq!(m.seen().ioctl_value, Some(value));
    let other = TOY_GET + 1;
    // SAFETY: an _IOR of a u32 the toy refuses; `got` has room either way.
    let r = unsafe { libc::ioctl(file.as_raw_fd(), other as _, &mut got as *mut u32) };
    assert_eq!(
        (r, std::io::Error::last_os_error().raw_os_error()),
        (-1, Some(libc::ENOTTY))
    );
}

#[test]
fn poll_wakes_on_a_notify_from_another_thread() {
    let Some(m) = mount_toy("poll_wakes_on_a_notify_from_another_thread") else {
        return;
    };
    let file = std::fs::File::open(m.path("event")).unwrap();
    let fd = file.as_raw_fd();
    let poller = std::thread::spawn(move || {
        let mut pfd = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        let started = Instant::now();
        // SAFETY: one valid pollfd.
        let n = unsafe { libc::poll(&mut pfd, 1, 20_000) };
        (n, pfd.revents, started.elapsed())
    });
    m.wait_for("a poll with a handle", |s| s.poll_handle.is_some());
    std::thread::sleep(Duration::from_millis(100));
    assert!(!poller.is_finished(), "poll returned before any event");
    let handle = {
        let mut seen = m.seen();
        seen.event_ready = true;
        seen.poll_handle.clone().unwrap()
    };
    std::thread::spawn(move || handle.notify()).join().unwrap();
    let (n, revents, took) = poller.join().unwrap();
    assert_eq!((n, revents), (1, libc::POLLIN));
    assert!(
        took < Duration::from_secs(10),
        "woken by the notify, not the timeout"
    );
    assert!(
        m.seen().polls >= 2,
        "the kernel asked again after the notify"
    );
    drop(file);
}

#[test]
fn a_blocked_read_completes_when_another_process_writes() {
    let Some(m) = mount_toy("a_blocked_read_completes_when_another_process_writes") else {
        return;
    };
    let mut reader = Command::new("dd")
        .arg(format!("if={}", m.path("mailbox").display()))
        .args(["bs=64", "count=1", "status=none"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    m.wait_for("the read to sleep", |s| s.waiting == 1);
    // The server still serves other requests while that one sleeps.
    assert_eq!(std::fs::read(m.path("hello")).unwrap(), HELLO_TEXT);
    run(Command::new("sh")
        .arg("-c")
        .arg(format!("printf hello > {}", m.path("mailbox").display())));
    let mut got = String::new();
    reader
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut got)
        .unwrap();
    assert!(reader.wait().unwrap().success());
    assert_eq!(got, "hello");
    let (_, peak) = m.session.as_ref().unwrap().threads();
    assert!(
        peak >= 2,
        "a second reader thread served while one slept (peak {peak})"
    );
}

extern "C" fn on_signal(_: libc::c_int) {}

#[test]
fn a_blocked_read_interrupted_by_a_signal_fails_eintr() {
    let Some(m) = mount_toy("a_blocked_read_interrupted_by_a_signal_fails_eintr") else {
        return;
    };
    // SAFETY: installs a handler that does nothing, without SA_RESTART, so
    // the interrupted read returns EINTR.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
        assert_eq!(
            libc::sigaction(libc::SIGUSR1, &action, std::ptr::null_mut()),
            0
        );
    }
    let path = m.path("mailbox");
    let reader = std::thread::spawn(move || {
        let file = std::fs::File::open(path).unwrap();
        let mut buf = [0u8; 64];
        // SAFETY: reads into a buffer of its length.
        let n = unsafe { libc::read(file.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        (n, std::io::Error::last_os_error().raw_os_error())
    });
    m.wait_for("the read to sleep", |s| s.waiting == 1);
    let thread = std::os::unix::thread::JoinHandleExt::as_pthread_t(&reader);
    // SAFETY: the thread is alive (its read sleeps until this signal).
    let sent = unsafe { libc::pthread_kill(thread, libc::SIGUSR1) };
    assert_eq!(sent, 0);
    assert_eq!(reader.join().unwrap(), (-1, Some(libc::EINTR)));
    assert_eq!(
        m.seen().interrupted,
        1,
        "the file system saw the interruption"
    );

    // A program killed by SIGINT in the same read.
    let out = Command::new("timeout")
        .args(["-s", "INT", "1", "cat"])
        .arg(m.path("mailbox"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(124), "{out:?}");
    m.wait_for("the second interruption", |s| {
        s.interrupted == 2 && s.waiting == 0
    });
}

#[test]
fn direct_io_files_refuse_mmap_and_nonseekable_ones_lseek() {
    let Some(m) = mount_toy("direct_io_files_refuse_mmap_and_nonseekable_ones_lseek") else {
        return;
    };
    let file = std::fs::File::open(m.path("hello")).unwrap();
    // SAFETY: maps nothing on success we would use; failure expected.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            4096,
            libc::PROT_READ,
            libc::MAP_SHARED,
            file.as_raw_fd(),
            0,
        )
    };
    assert_eq!(p, libc::MAP_FAILED);
    assert_eq!(
        std::io::Error::last_os_error().raw_os_error(),
        Some(libc::ENODEV)
    );
    let mailbox = std::fs::File::open(m.path("mailbox")).unwrap();
    // SAFETY: plain lseek on an open descriptor.
    let r = unsafe { libc::lseek(mailbox.as_raw_fd(), 0, libc::SEEK_SET) };
    assert_eq!(
        (r, std::io::Error::last_os_error().raw_os_error()),
        (-1, Some(libc::ESPIPE))
    );
    assert!(m.seen().open_flags.iter().any(|(ino, _)| *ino == MAILBOX));
}

#[test]
fn dropping_the_session_unmounts_and_ends_sleeping_reads() {
    let Some(mut m) = mount_toy("dropping_the_session_unmounts_and_ends_sleeping_reads") else {
        return;
    };
    assert!(is_mounted(&m.dir));
    let fstype = std::fs::read_to_string("/proc/self/mounts").unwrap();
    assert!(
        fstype
            .lines()
            .any(|l| l.starts_with(&format!("toy {} fuse.toy ", m.dir.display()))),
        "{fstype}"
    );
    let mut reader = Command::new("dd")
        .arg(format!("if={}", m.path("mailbox").display()))
        .args(["bs=64", "count=1", "status=none"])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    m.wait_for("the read to sleep", |s| s.waiting == 1);
    let started = Instant::now();
    drop(m.session.take());
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(!is_mounted(&m.dir));
    assert!(
        !reader.wait().unwrap().success(),
        "the sleeping read failed"
    );
    // dd reads again after EINTR; that read may be served, interrupted, too.
    assert!(m.seen().interrupted >= 1);
    assert!(
        std::fs::read_dir(&m.dir).unwrap().next().is_none(),
        "the directory is itself again"
    );
}
