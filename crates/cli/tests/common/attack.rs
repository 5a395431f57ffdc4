//! The attacker program (tests/c/attacker.c) and what the security
//! tests and the attack benchmark measure with it.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use super::scratch_dir;

/// The attacker program (tests/c/attacker.c), built once, where every
/// user can run it.
pub fn attacker() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let dir = scratch_dir("attacker");
        let exe = dir.join("attacker");
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/c/attacker.c");
        let st = Command::new("gcc")
            .args(["-O1", "-Wall", "-Werror", "-o"])
            .arg(&exe)
            .arg(&src)
            .status()
            .unwrap();
        assert!(st.success(), "gcc attacker.c");
        exe
    })
}

/// `program args` as `uid` (and the same gid, no other groups).
pub fn as_user(uid: u32, program: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(program);
    c.args(args).uid(uid).gid(uid);
    c
}

/// `VmRSS` and `VmHWM` of process `pid`, in bytes.
pub fn rss(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches(" kB").parse::<u64>().ok())
            .unwrap()
            * 1024
    };
    (field("VmRSS:"), field("VmHWM:"))
}
