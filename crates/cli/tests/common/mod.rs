//! A real daemon on a temporary socket, and the real `umod` binary.
//!
//! The daemon serves with privilege only a caller that was root in its
//! user namespace when it connected and holds `CAP_SYS_MODULE` there
//! (`docs/security.md`). So how a test gets privilege depends on who runs
//! it ([`mode`]): root of the machine runs everything as it is; any other
//! user runs each daemon as root of a user namespace of its own, and the
//! tools that need privilege join that namespace ([`Daemon::command`]),
//! while the test's own processes stay outside it, without privilege.
#![allow(dead_code)]

pub mod attack;

use std::ffi::OsStr;
use std::io::Read;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The binary cargo built, wherever the checkout is.
pub const UMOD_BUILT: &str = env!("CARGO_BIN_EXE_umod");

static NEXT: AtomicU32 = AtomicU32::new(0);

/// Where this user's tests stage what other users must reach: under the
/// system's temporary directory, not the checkout, which may sit in a
/// home directory only its owner can enter (mode 0700).
fn stage_root() -> &'static Path {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        // The user as the machine knows it: a test re-run as root of a user
        // namespace (`rerun_as_namespace_root`) shares its user's directory.
        let uid = outer_uid();
        let root = std::env::temp_dir().join(format!("umod-tests-{uid}"));
        std::fs::create_dir_all(&root).unwrap();
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755)).unwrap();
        // Directories of test processes that are gone are left-overs.
        for entry in std::fs::read_dir(&root).unwrap().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let pid = name.split('-').next().and_then(|p| p.parse::<u32>().ok());
            if let Some(pid) = pid {
                if !Path::new(&format!("/proc/{pid}")).exists() {
                    let _ = std::fs::remove_dir_all(entry.path());
                }
            }
        }
        root
    })
}

/// A fresh directory every user can reach (tests run commands as nobody
/// there), removed when the test process next starts if left behind.
pub fn scratch_dir(tag: &str) -> PathBuf {
    let dir = stage_root().join(format!(
        "{}-{tag}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

/// The `umod` binary, copied once per test process into a staging
/// directory every user can reach, so commands run as another user work
/// from any checkout location.
pub fn umod() -> &'static Path {
    static STAGED: OnceLock<PathBuf> = OnceLock::new();
    STAGED.get_or_init(|| {
        let dir = scratch_dir("bin");
        let staged = dir.join("umod");
        // A hard link costs nothing where the checkout shares the file
        // system; otherwise a copy, made by cp: a child another test thread
        // forks meanwhile would hold this process's writing descriptor and
        // make running the copy fail (ETXTBSY).
        if std::fs::hard_link(UMOD_BUILT, &staged).is_err() {
            let copied = Command::new("cp").arg(UMOD_BUILT).arg(&staged).status();
            assert!(
                copied.is_ok_and(|s| s.success()),
                "cp umod to {}",
                staged.display()
            );
        }
        std::fs::set_permissions(&staged, std::fs::Permissions::from_mode(0o755)).unwrap();
        staged
    })
}

/// Writes every example module into `dir` as NAME.o.
pub fn write_examples(dir: &Path) {
    for ex in umod_examples::ALL {
        std::fs::write(dir.join(format!("{}.o", ex.name)), ex.object).unwrap();
    }
}

/// Who runs the tests, which decides how a test gets privilege over the
/// daemons it starts and which callers without privilege it can be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Root of the machine (uid 0 holding `CAP_SYS_MODULE`, with nobody
    /// and the spare uids 20001-20009 mapped): everything runs as it is,
    /// and callers without privilege are other users.
    Root,
    /// Root of a user namespace that maps no other user (a test re-run by
    /// [`rerun_as_namespace_root`]): daemons and tools run as they are, and
    /// a caller without privilege is root of a user namespace of its own.
    NamespaceRoot,
    /// Anyone else: each daemon runs as root of a new user namespace, the
    /// tools that need privilege join it, and this user's processes outside
    /// it are callers without privilege (the daemon sees them as root at
    /// connect, mapped so, but not in its namespace: refused by rule 3).
    User,
}

/// Whether `id` is mapped by the map of this process's user namespace in
/// `file` (`/proc/self/uid_map` or `gid_map`); `Some(outside)` if so.
fn mapped(file: &str, id: u32) -> Option<u32> {
    let map = std::fs::read_to_string(file).ok()?;
    map.lines().find_map(|line| {
        let n: Vec<u64> = line
            .split_whitespace()
            .filter_map(|w| w.parse().ok())
            .collect();
        let (inside, outside, count) = (*n.first()?, *n.get(1)?, *n.get(2)?);
        let id = u64::from(id);
        (inside <= id && id < inside + count).then(|| (outside + id - inside) as u32)
    })
}

/// This process's effective uid in the parent of its user namespace (the
/// machine's, for the namespaces these tests make).
fn outer_uid() -> u32 {
    let uid = rustix::process::geteuid().as_raw();
    mapped("/proc/self/uid_map", uid).unwrap_or(uid)
}

/// Who runs the tests (read once).
pub fn mode() -> Mode {
    static MODE: OnceLock<Mode> = OnceLock::new();
    *MODE.get_or_init(|| {
        let privileged = rustix::process::geteuid().is_root()
            && umod_client::caps::has(std::process::id(), umod_client::caps::CAP_SYS_MODULE);
        let others = std::iter::once(65534).chain(20001..=20009).all(|id| {
            mapped("/proc/self/uid_map", id).is_some() && mapped("/proc/self/gid_map", id).is_some()
        });
        match (privileged, others) {
            (true, true) => Mode::Root,
            (true, false) => Mode::NamespaceRoot,
            (false, _) => Mode::User,
        }
    })
}

/// Whether the tests run as root of the machine, able to become other
/// users (see [`Mode`]).
pub fn is_root() -> bool {
    mode() == Mode::Root
}

/// Makes `cmd` run as root of a new user namespace, which maps its uid 0
/// and gid 0 to `uid` and `gid` outside (the ids `cmd` has when it gets
/// there: set them first). It holds every capability there. Any user may
/// do this where unprivileged user namespaces are allowed.
pub fn in_new_user_namespace(cmd: &mut Command, uid: u32, gid: u32) -> &mut Command {
    let uid_map = format!("0 {uid} 1");
    let gid_map = format!("0 {gid} 1");
    // SAFETY: the closure runs in the forked child before exec and makes
    // only async-signal-safe system calls on data made before the fork.
    unsafe {
        cmd.pre_exec(move || {
            // A process that changed its uid is not dumpable, which leaves
            // its /proc files to root; the maps are written as the new uid.
            if libc::prctl(libc::PR_SET_DUMPABLE, 1) != 0 || libc::unshare(libc::CLONE_NEWUSER) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            write_file(c"/proc/self/setgroups", b"deny")?;
            write_file(c"/proc/self/uid_map", uid_map.as_bytes())?;
            write_file(c"/proc/self/gid_map", gid_map.as_bytes())
        })
    }
}

/// Makes `cmd` run as root holding every capability: as it is when this
/// process is root, otherwise as root of a new user namespace (where the
/// machine's files and users look as they do to this user).
pub fn as_root(cmd: &mut Command) -> &mut Command {
    if mode() == Mode::User {
        in_new_user_namespace(
            cmd,
            rustix::process::geteuid().as_raw(),
            rustix::process::getegid().as_raw(),
        );
    }
    cmd
}

/// Writes `data` to the file `path` with bare system calls (safe to use
/// between fork and exec).
fn write_file(path: &std::ffi::CStr, data: &[u8]) -> std::io::Result<()> {
    // SAFETY: `path` is NUL-terminated and `data` valid for its length;
    // the descriptor is ours and closed before returning.
    unsafe {
        let fd = libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let n = libc::write(fd, data.as_ptr().cast(), data.len());
        let err = std::io::Error::last_os_error();
        libc::close(fd);
        if n < 0 {
            return Err(err);
        }
    }
    Ok(())
}

/// In mode [`Mode::User`], runs the test `name` (of this test binary) again
/// as root of a user namespace of its own, and returns true once it passed
/// there: for a test whose own process must hold privilege (a client it
/// opens itself), which no process outside a daemon's namespace can. In
/// the other modes returns false at once: the caller goes on.
pub fn rerun_as_namespace_root(name: &str) -> bool {
    if mode() != Mode::User {
        return false;
    }
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([name, "--exact", "--nocapture", "--test-threads=1"]);
    let out = as_root(&mut cmd).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("{name}, re-run as root of a user namespace:\n{stdout}{stderr}");
    assert!(out.status.success(), "the re-run of {name} failed");
    assert!(
        stdout.contains(&format!("test {name} ... ok")),
        "the re-run did not run {name}"
    );
    true
}

/// `program` as a caller without privilege: nobody (uid 65534) for root,
/// root of a user namespace of its own for a namespace's root, and this
/// user's own process otherwise (see [`Mode`]).
pub fn unprivileged(program: impl AsRef<OsStr>) -> Command {
    let mut cmd = Command::new(program);
    match mode() {
        Mode::Root => {
            cmd.uid(65534).gid(65534);
        }
        Mode::NamespaceRoot => {
            in_new_user_namespace(&mut cmd, 0, 0);
        }
        Mode::User => {}
    }
    cmd
}

/// The user namespace of process `pid` (device and inode), if visible.
fn user_namespace(pid: &str) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(format!("/proc/{pid}/ns/user")).ok()?;
    Some((meta.dev(), meta.ino()))
}

pub struct Daemon {
    pub child: Child,
    pub dir: PathBuf,
    pub socket: PathBuf,
    /// What the daemon logged so far (read as it comes, so a chatty
    /// daemon never blocks on a full pipe).
    log: Arc<Mutex<String>>,
    /// The daemon's user namespace, when it is not this process's: the
    /// one its privileged callers join.
    userns: Option<Arc<OwnedFd>>,
}

impl Daemon {
    pub fn start(tag: &str) -> Daemon {
        Daemon::start_with(tag, &[])
    }

    /// A daemon with extra `umod serve` options, as root (of a user
    /// namespace of its own unless this process is root).
    pub fn start_with(tag: &str, options: &[&str]) -> Daemon {
        let dir = scratch_dir(tag);
        write_examples(&dir);
        let socket = dir.join("umod.sock");
        let mut serve = Command::new(umod());
        serve.arg("serve");
        if !options.contains(&"--window") {
            serve.args(["--window", "32M"]);
        }
        serve.args(options).arg("--socket");
        if is_root() {
            serve.arg(&socket);
        } else {
            // The daemon checks every directory on the socket's path
            // belongs to root or to itself; in a user namespace the
            // machine's `/` and `/tmp` belong to an unmapped user, so it is
            // given the path from its own directory.
            serve.arg(socket.file_name().unwrap()).current_dir(&dir);
        }
        Daemon::adopt(as_root(&mut serve), dir, socket)
    }

    /// The daemon `serve` starts, serving on `socket` (whoever binds it),
    /// with `dir` as the tools' working directory; its stderr is collected
    /// as its log. A daemon that lives in another user namespace than this
    /// process (`as_root`) is served by tools that join it.
    pub fn adopt(serve: &mut Command, dir: PathBuf, socket: PathBuf) -> Daemon {
        let mut child = serve
            .env("RUST_LOG", "info")
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("start umod serve");
        // The namespace was made before the program ran, so before spawn
        // returned. (A daemon that already exited shows none: said below.)
        let pid = child.id().to_string();
        let userns = match (user_namespace(&pid), user_namespace("self")) {
            (Some(theirs), Some(ours)) if theirs != ours => {
                let ns = std::fs::File::open(format!("/proc/{pid}/ns/user"))
                    .expect("the daemon's user namespace");
                Some(Arc::new(OwnedFd::from(ns)))
            }
            _ => None,
        };
        let log = Arc::new(Mutex::new(String::new()));
        let mut stderr = child.stderr.take().expect("piped");
        let sink = Arc::clone(&log);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stderr.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::os::unix::net::UnixStream::connect(&socket).is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                // The reader sees the end of the pipe once the daemon is gone.
                while Arc::strong_count(&log) > 1 && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(10));
                }
                panic!(
                    "the daemon exited ({status}): {}",
                    log.lock().unwrap().as_str()
                );
            }
            assert!(Instant::now() < deadline, "the daemon did not come up");
            std::thread::sleep(Duration::from_millis(20));
        }
        Daemon {
            child,
            dir,
            socket,
            log,
            userns,
        }
    }

    /// What the daemon has logged so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// `program`, run in the daemon's directory as a caller holding
    /// privilege over it: as it is when the daemon lives in this process's
    /// user namespace (this process is root there), otherwise joining the
    /// daemon's namespace, where this user is root with every capability.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.current_dir(&self.dir);
        if let Some(ns) = &self.userns {
            let ns = Arc::clone(ns);
            // SAFETY: setns between fork and exec is async-signal-safe; the
            // descriptor stays open while the command holds the closure.
            unsafe {
                cmd.pre_exec(move || {
                    if libc::setns(ns.as_raw_fd(), libc::CLONE_NEWUSER) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        cmd
    }

    /// `umod --socket S` as a caller holding privilege (see `command`).
    pub fn umod_command(&self) -> Command {
        let mut cmd = self.command(umod());
        cmd.arg("--socket").arg(&self.socket);
        cmd
    }

    /// `umod --socket S` as a caller without privilege (see
    /// [`unprivileged`]), in the daemon's directory.
    pub fn unprivileged_umod(&self) -> Command {
        let mut cmd = unprivileged(umod());
        cmd.arg("--socket").arg(&self.socket).current_dir(&self.dir);
        cmd
    }

    /// Runs `umod --socket S ARGS...` holding privilege.
    pub fn umod(&self, args: &[&str]) -> Output {
        self.umod_command().args(args).output().unwrap()
    }

    /// Runs it and expects success; its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.umod(args);
        assert!(
            out.status.success(),
            "umod {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs it and expects failure; its stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.umod(args);
        assert_eq!(out.status.code(), Some(1), "umod {args:?} should fail");
        String::from_utf8(out.stderr).unwrap()
    }

    /// SIGTERM, then the exit status and everything it logged.
    pub fn stop(mut self) -> (i32, String) {
        let pid = self.child.id() as i32;
        Command::new("kill")
            .arg("-TERM")
            .arg(pid.to_string())
            .status()
            .unwrap();
        let status = self.child.wait().unwrap();
        // The reader sees the end of the pipe once the daemon is gone.
        let deadline = Instant::now() + Duration::from_secs(5);
        while Arc::strong_count(&self.log) > 1 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        (status.code().unwrap_or(-1), self.log())
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
        // The perf map a daemon leaves for profiles read after it exits.
        let _ = std::fs::remove_file(format!("/tmp/perf-{}.map", self.child.id()));
    }
}
