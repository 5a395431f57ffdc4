//! A real daemon on a temporary socket, and the real `umod` binary.
#![allow(dead_code)]

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

pub const UMOD: &str = env!("CARGO_BIN_EXE_umod");

static NEXT: AtomicU32 = AtomicU32::new(0);

/// A fresh directory readable by every user (the EPERM tests run as nobody).
pub fn scratch_dir(tag: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "cli-{tag}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for d in [dir.as_path(), dir.parent().unwrap()] {
        let _ = std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755));
    }
    dir
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
}

impl Daemon {
    pub fn start(tag: &str) -> Daemon {
        let dir = scratch_dir(tag);
        write_examples(&dir);
        let socket = dir.join("umod.sock");
        let child = Command::new(UMOD)
            .args(["serve", "--window", "32M", "--socket"])
            .arg(&socket)
            .env("RUST_LOG", "info")
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("start umod serve");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::os::unix::net::UnixStream::connect(&socket).is_err() {
            assert!(Instant::now() < deadline, "the daemon did not come up");
            std::thread::sleep(Duration::from_millis(20));
        }
        Daemon { child, dir, socket }
    }

    /// Runs `umod --socket S ARGS...`.
    pub fn umod(&self, args: &[&str]) -> Output {
        Command::new(UMOD)
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
        let mut log = String::new();
        self.child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut log)
            .unwrap();
        (status.code().unwrap_or(-1), log)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}
