//! A toy file system mounted in a temporary directory, and the way tests
//! get the privilege to mount it.
//!
//! Root mounts as it is. Any other user re-runs the test as root of a new
//! user and mount namespace (the kernel lets that root mount FUSE), where
//! the mount, and the programs the test runs on it, stay. Where this user
//! may not open the FUSE device at all (`/dev/fuse` is often mode 0600),
//! the kernel forbids FUSE to it: the test says so and is skipped.
//! `UMOD_FUSE_DEVICE` names another device node to open instead.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use umod_fuse::abi::{self, Attr, FOPEN_DIRECT_IO, FOPEN_NONSEEKABLE};
use umod_fuse::{
    AttrReply, DirBuf, Entry, Errno, Filesystem, Ioctl, IoctlReply, MountOptions, Opened,
    PollHandle, Request, Result, Session, Wake,
};

pub const ROOT: u64 = abi::ROOT_ID;
pub const HELLO: u64 = 2;
pub const SINK: u64 = 3;
pub const MAILBOX: u64 = 4;
pub const EVENT: u64 = 5;
pub const DEV: u64 = 6;
pub const HELLO_TEXT: &[u8] = b"hello world\n";

const FILES: [(&str, u64, u32); 5] = [
    ("hello", HELLO, 0o644),
    ("sink", SINK, 0o666),
    ("mailbox", MAILBOX, 0o666),
    ("event", EVENT, 0o666),
    ("dev", DEV, 0o600),
];

/// `_IOR('u', 1, u32)`: the toy device answers 0x12345678.
pub const TOY_GET: u32 = (2 << 30) | (4 << 16) | ((b'u' as u32) << 8) | 1;
/// `_IOW('u', 2, u64)`: the toy device keeps the value.
pub const TOY_SET: u32 = (1 << 30) | (8 << 16) | ((b'u' as u32) << 8) | 2;

/// What the toy file system saw, for tests to check.
#[derive(Default)]
pub struct Seen {
    pub written: Vec<u8>,
    pub open_flags: Vec<(u64, u32)>,
    /// (uid, gid, pid) of each OPEN's caller.
    pub openers: Vec<(u32, u32, u32)>,
    pub mailbox: Option<Vec<u8>>,
    pub waiting: u32,
    pub interrupted: u32,
    pub ioctl_value: Option<u64>,
    pub event_ready: bool,
    pub poll_handle: Option<PollHandle>,
    pub polls: u32,
}

pub struct Toy {
    pub seen: Arc<Mutex<Seen>>,
    pub cv: Arc<Condvar>,
    pub uid: u32,
    pub gid: u32,
}

pub fn lock(m: &Mutex<Seen>) -> MutexGuard<'_, Seen> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Toy {
    fn attr(&self, ino: u64) -> Option<Attr> {
        let mut attr = Attr {
            ino,
            nlink: 1,
            uid: self.uid,
            gid: self.gid,
            blksize: 4096,
            mtime: 1_000_000_000,
            atime: 1_000_000_000,
            ctime: 1_000_000_000,
            ..Attr::default()
        };
        if ino == ROOT {
            attr.mode = libc::S_IFDIR | 0o755;
            attr.nlink = 2;
            return Some(attr);
        }
        let (_, _, perm) = FILES.iter().find(|f| f.1 == ino)?;
        attr.mode = libc::S_IFREG | perm;
        if ino == HELLO {
            attr.size = HELLO_TEXT.len() as u64;
        }
        Some(attr)
    }

    /// Waits on the toy's condition until `ready` holds, as a device read
    /// sleeps: a signal to the caller ends it with EINTR.
    fn wait_until<'a>(
        &'a self,
        req: &Request,
        mut seen: MutexGuard<'a, Seen>,
        ready: impl Fn(&Seen) -> bool,
    ) -> Result<MutexGuard<'a, Seen>> {
        seen.waiting += 1;
        self.cv.notify_all();
        while !ready(&seen) {
            let (guard, wake) = req.interrupt().wait_timeout_or_interrupt(
                &self.seen,
                &self.cv,
                seen,
                Duration::from_secs(30),
            );
            seen = guard;
            if wake == Wake::Interrupted {
                seen.waiting -= 1;
                seen.interrupted += 1;
                self.cv.notify_all();
                return Err(Errno::EINTR);
            }
        }
        seen.waiting -= 1;
        Ok(seen)
    }
}

impl Filesystem for Toy {
    fn lookup(&self, _req: &Request, parent: u64, name: &OsStr) -> Result<Entry> {
        if parent != ROOT {
            return Err(Errno::ENOTDIR);
        }
        let (_, ino, _) = FILES
            .iter()
            .find(|f| OsStr::new(f.0) == name)
            .ok_or(Errno::ENOENT)?;
        Ok(Entry {
            attr: self.attr(*ino).unwrap(),
            ..Entry::default()
        })
    }

    fn getattr(&self, _req: &Request, ino: u64, _fh: Option<u64>) -> Result<AttrReply> {
        let attr = self.attr(ino).ok_or(Errno::ENOENT)?;
        Ok(AttrReply {
            attr,
            valid: Duration::ZERO,
        })
    }

    fn open(&self, req: &Request, ino: u64, flags: u32) -> Result<Opened> {
        let mut seen = lock(&self.seen);
        seen.open_flags.push((ino, flags));
        seen.openers.push((req.uid, req.gid, req.pid));
        drop(seen);
        let mut open = Opened {
            fh: ino * 100,
            flags: FOPEN_DIRECT_IO,
        };
        if ino == MAILBOX {
            open.flags |= FOPEN_NONSEEKABLE;
        }
        Ok(open)
    }

    fn read(&self, req: &Request, ino: u64, fh: u64, offset: u64, size: u32) -> Result<Vec<u8>> {
        assert_eq!(fh, ino * 100, "the handle open gave");
        match ino {
            HELLO => Ok(window(HELLO_TEXT, offset, size)),
            SINK => Ok(window(&lock(&self.seen).written, offset, size)),
            MAILBOX => {
                let seen = lock(&self.seen);
                let mut seen = self.wait_until(req, seen, |s| s.mailbox.is_some())?;
                Ok(seen.mailbox.take().unwrap())
            }
            _ => Ok(Vec::new()),
        }
    }

    fn write(
        &self,
        _req: &Request,
        ino: u64,
        _fh: u64,
        _off: u64,
        data: &[u8],
        _f: u32,
    ) -> Result<u32> {
        let mut seen = lock(&self.seen);
        match ino {
            SINK => seen.written.extend_from_slice(data),
            MAILBOX => seen.mailbox = Some(data.to_vec()),
            _ => return Err(Errno::EINVAL),
        }
        self.cv.notify_all();
        Ok(data.len() as u32)
    }

    fn setattr(&self, req: &Request, ino: u64, _set: &umod_fuse::SetAttr) -> Result<AttrReply> {
        self.getattr(req, ino, None)
    }

    fn readdir(
        &self,
        _req: &Request,
        ino: u64,
        _fh: u64,
        offset: u64,
        out: &mut DirBuf,
    ) -> Result<()> {
        if ino != ROOT {
            return Err(Errno::ENOTDIR);
        }
        let mut all = vec![(".", ROOT, libc::DT_DIR), ("..", ROOT, libc::DT_DIR)];
        all.extend(FILES.iter().map(|f| (f.0, f.1, libc::DT_REG)));
        for (i, (name, ino, kind)) in all.iter().enumerate().skip(offset as usize) {
            if !out.push(*ino, i as u64 + 1, *kind, name.as_bytes()) {
                break;
            }
        }
        Ok(())
    }

    fn ioctl(&self, _req: &Request, ino: u64, ioctl: &Ioctl<'_>) -> Result<IoctlReply> {
        if ino != DEV {
            return Err(Errno::ENOTTY);
        }
        match ioctl.cmd {
            TOY_GET => Ok(IoctlReply {
                result: 7,
                data: 0x1234_5678u32.to_ne_bytes().to_vec(),
            }),
            TOY_SET => {
                let bytes: [u8; 8] = ioctl.input.try_into().map_err(|_| Errno::EINVAL)?;
                lock(&self.seen).ioctl_value = Some(u64::from_ne_bytes(bytes));
                Ok(IoctlReply {
                    result: 0,
                    data: Vec::new(),
                })
            }
            _ => Err(Errno::ENOTTY),
        }
    }

    fn poll(
        &self,
        _req: &Request,
        ino: u64,
        _fh: u64,
        _events: u32,
        handle: Option<PollHandle>,
    ) -> Result<u32> {
        if ino != EVENT {
            return Err(Errno::ENOSYS);
        }
        let mut seen = lock(&self.seen);
        seen.polls += 1;
        if let Some(handle) = handle {
            seen.poll_handle = Some(handle);
        }
        self.cv.notify_all();
        Ok(if seen.event_ready {
            libc::POLLIN as u32
        } else {
            0
        })
    }
}

/// The `size` bytes of `data` at `offset` (fewer at its end).
fn window(data: &[u8], offset: u64, size: u32) -> Vec<u8> {
    let start = usize::try_from(offset)
        .unwrap_or(usize::MAX)
        .min(data.len());
    let end = (start + size as usize).min(data.len());
    data[start..end].to_vec()
}

/// A toy file system mounted on a fresh directory.
pub struct Mounted {
    pub dir: PathBuf,
    pub seen: Arc<Mutex<Seen>>,
    pub cv: Arc<Condvar>,
    pub session: Option<Session>,
}

static NEXT: AtomicU32 = AtomicU32::new(0);

fn device() -> PathBuf {
    std::env::var_os("UMOD_FUSE_DEVICE").map_or_else(|| PathBuf::from("/dev/fuse"), PathBuf::from)
}

/// Mounts the toy for test `name`, or returns None when the test was
/// instead re-run in a user namespace (and passed there) or is skipped.
pub fn mount_toy(name: &str) -> Option<Mounted> {
    let euid = rustix::process::geteuid().as_raw();
    if euid != 0 {
        if let Err(e) = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(device())
        {
            eprintln!(
                "skipped: {name}: uid {euid} may not open {} ({e}): the kernel gives this user no FUSE",
                device().display()
            );
            return None;
        }
        rerun_in_namespace(name);
        return None;
    }
    let dir = std::env::temp_dir().join(format!(
        "umod-fuse-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let cv = Arc::new(Condvar::new());
    let toy = Toy {
        seen: Arc::clone(&seen),
        cv: Arc::clone(&cv),
        uid: euid,
        gid: rustix::process::getegid().as_raw(),
    };
    let options = MountOptions {
        fsname: "toy".into(),
        subtype: Some("toy".into()),
        device: device(),
        ..MountOptions::default()
    };
    let session = Session::mount(&dir, toy, &options)
        .unwrap_or_else(|e| panic!("mount on {}: {e}", dir.display()));
    Some(Mounted {
        dir,
        seen,
        cv,
        session: Some(session),
    })
}

/// Runs test `name` of this binary again as root of a new user and mount
/// namespace, and checks it passed there.
fn rerun_in_namespace(name: &str) {
    let uid = rustix::process::geteuid().as_raw();
    let gid = rustix::process::getegid().as_raw();
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([name, "--exact", "--nocapture", "--test-threads=1"]);
    let uid_map = format!("0 {uid} 1");
    let gid_map = format!("0 {gid} 1");
    // SAFETY: the closure runs in the forked child before exec and makes
    // only system calls on data made before the fork.
    unsafe {
        cmd.pre_exec(move || {
            if libc::unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWNS) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            std::fs::write("/proc/self/setgroups", b"deny")?;
            std::fs::write("/proc/self/uid_map", uid_map.as_bytes())?;
            std::fs::write("/proc/self/gid_map", gid_map.as_bytes())
        })
    };
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("{name}, re-run as root of a user namespace:\n{stdout}{stderr}");
    assert!(out.status.success(), "the re-run of {name} failed");
    assert!(
        stdout.contains(&format!("test {name} ... ok")),
        "the re-run did not run {name}"
    );
    assert!(!stderr.contains("skipped:"), "the re-run skipped {name}");
}

impl Mounted {
    pub fn path(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }

    /// Waits (up to 10 s) until `cond` holds of what the toy saw.
    pub fn wait_for(&self, what: &str, cond: impl Fn(&Seen) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut seen = lock(&self.seen);
        while !cond(&seen) {
            let now = Instant::now();
            assert!(now < deadline, "timed out waiting for {what}");
            seen = self.cv.wait_timeout(seen, deadline - now).unwrap().0;
        }
    }

    pub fn seen(&self) -> MutexGuard<'_, Seen> {
        lock(&self.seen)
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        drop(self.session.take());
        let _ = std::fs::remove_dir(&self.dir);
    }
}

/// Whether `dir` is a mount point now (by /proc/self/mountinfo).
pub fn is_mounted(dir: &Path) -> bool {
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let dir = dir.to_str().unwrap();
    info.lines().any(|l| l.split(' ').nth(4) == Some(dir))
}
