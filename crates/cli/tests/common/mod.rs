//! A real daemon on a temporary socket, and the real `umod` binary.
#![allow(dead_code)]

pub mod attack;

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
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
        // SAFETY: geteuid has no preconditions.
        let uid = unsafe { libc::geteuid() };
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

pub struct Daemon {
    pub child: Child,
    pub dir: PathBuf,
    pub socket: PathBuf,
    /// What the daemon logged so far (read as it comes, so a chatty
    /// daemon never blocks on a full pipe).
    log: Arc<Mutex<String>>,
}

impl Daemon {
    pub fn start(tag: &str) -> Daemon {
        Daemon::start_with(tag, &[])
    }

    /// A daemon with extra `umod serve` options.
    pub fn start_with(tag: &str, options: &[&str]) -> Daemon {
        let dir = scratch_dir(tag);
        write_examples(&dir);
        let socket = dir.join("umod.sock");
        let mut serve = Command::new(umod());
        serve.arg("serve");
        if !options.contains(&"--window") {
            serve.args(["--window", "32M"]);
        }
        serve.args(options).arg("--socket").arg(&socket);
        Daemon::adopt(&mut serve, dir, socket)
    }

    /// The daemon `serve` starts, serving on `socket` (whoever binds it),
    /// with `dir` as the tools' working directory; its stderr is collected
    /// as its log.
    pub fn adopt(serve: &mut Command, dir: PathBuf, socket: PathBuf) -> Daemon {
        let mut child = serve
            .env("RUST_LOG", "info")
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("start umod serve");
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
            assert!(Instant::now() < deadline, "the daemon did not come up");
            std::thread::sleep(Duration::from_millis(20));
        }
        Daemon {
            child,
            dir,
            socket,
            log,
        }
    }

    /// What the daemon has logged so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Runs `umod --socket S ARGS...`.
    pub fn umod(&self, args: &[&str]) -> Output {
        Command::new(umod())
            .arg("--socket")
            .arg(&self.socket)
            .args(args)
            .current_dir(&self.dir)
            .output()
            .unwrap()
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

pub fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}
