//! Unmodified programs issuing the 2.4 module syscalls, served through
//! seccomp user notification (`umod exec`) by a private host and by the
//! daemon, and the same C programs linked against libumod.so.

mod common;
use common::*;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn c_source(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../intercept/tests/c")
        .join(name)
}

fn include_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../capi/include")
}

/// The directory holding the umod binary.
fn target_dir() -> PathBuf {
    Path::new(UMOD_BUILT).parent().unwrap().to_path_buf()
}

/// Copies the newest libumod.so cargo built into `dir`. `cargo test`
/// builds the workspace's cdylib into `deps/` and leaves the copy beside
/// the binaries as the last `cargo build` made it, which may be stale.
fn libumod_into(dir: &Path) {
    let newest = [target_dir().join("deps"), target_dir()]
        .into_iter()
        .map(|d| d.join("libumod.so"))
        .filter_map(|p| Some((std::fs::metadata(&p).ok()?.modified().ok()?, p)))
        .max()
        .map(|(_, p)| p)
        .expect("libumod.so is built by cargo (crate umod-capi): run cargo test --workspace");
    std::fs::copy(newest, dir.join("libumod.so")).unwrap();
}

fn gcc(dir: &Path, source: &str, out: &str, extra: &[&str]) -> PathBuf {
    let exe = dir.join(out);
    let st = Command::new("gcc")
        .args(["-O1", "-Wall", "-Werror"])
        .arg(format!("-I{}", include_dir().display()))
        .args(extra)
        .arg(c_source(source))
        .args(["-o"])
        .arg(&exe)
        .args(if extra.contains(&"-DUSE_LIBUMOD") {
            libumod_into(dir);
            vec![format!("-L{}", dir.display()), "-lumod".to_string()]
        } else {
            vec![]
        })
        .status()
        .unwrap();
    assert!(st.success(), "gcc {source}");
    exe
}

fn expect_all_passed(out: &Output, how: &str) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let failures: Vec<&str> = stdout.lines().filter(|l| l.starts_with("FAIL")).collect();
    assert!(
        failures.is_empty(),
        "{how}: {failures:#?}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout
            .lines()
            .last()
            .is_some_and(|l| l.ends_with(" passed, 0 failed")),
        "{how}: {stdout}"
    );
    assert!(out.status.success(), "{how}");
}

/// Compiles `source` in a scratch directory `dir`, runs it under
/// `umod exec --embedded` and expects every check it prints to pass.
fn passes_under_exec_embedded(dir: &str, source: &str, extra: &[&str]) {
    let dir = scratch_dir(dir);
    let prog = gcc(&dir, source, source.trim_end_matches(".c"), extra);
    // The private host serves its owner's privilege: root's.
    let out = as_root(Command::new(umod()).args(["exec", "--embedded", "--"]))
        .arg(&prog)
        .output()
        .unwrap();
    expect_all_passed(&out, &format!("{source} under umod exec --embedded"));
}

#[test]
fn raw_syscalls_under_exec_embedded() {
    passes_under_exec_embedded("exec-embedded", "legacy_calls.c", &[]);
}

#[test]
fn no_task_under_exec_enters_another_user_namespace() {
    passes_under_exec_embedded("exec-userns", "user_namespaces.c", &["-pthread"]);
}

#[test]
fn raw_syscalls_under_exec_against_the_daemon() {
    let d = Daemon::start("exec-daemon");
    let prog = gcc(&d.dir, "legacy_calls.c", "legacy_calls", &[]);
    let out = d.umod(&["exec", "--", prog.to_str().unwrap()]);
    expect_all_passed(&out, "umod exec against the daemon");
    // Through a shell: the filter follows the program's children.
    let out = d.umod(&[
        "exec",
        "--",
        "sh",
        "-c",
        &format!("{} && echo child-done", prog.display()),
    ]);
    expect_all_passed(
        &Output {
            stdout: out.stdout[..out.stdout.len() - "child-done\n".len()].to_vec(),
            ..out.clone()
        },
        "via sh -c",
    );
    assert!(String::from_utf8_lossy(&out.stdout).ends_with("child-done\n"));
}

#[test]
fn the_same_program_linked_against_libumod() {
    let d = Daemon::start("libumod");
    let prog = gcc(&d.dir, "legacy_calls.c", "legacy_lib", &["-DUSE_LIBUMOD"]);
    let out = d
        .command(&prog)
        .env("UMOD_SOCKET", &d.socket)
        .env("LD_LIBRARY_PATH", &d.dir)
        .output()
        .unwrap();
    expect_all_passed(&out, "linked against libumod.so");
}

#[test]
fn a_c_insmod_loads_a_module_the_daemon_lists() {
    let d = Daemon::start("mini-insmod");
    let insmod = gcc(&d.dir, "mini_insmod.c", "mini_insmod", &[]);
    let out = d.umod(&[
        "exec",
        "--",
        insmod.to_str().unwrap(),
        "hello.o",
        "hello",
        "--keep",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("loaded hello at 0x"));
    let lsmod = d.ok(&["lsmod"]);
    assert!(
        lsmod
            .lines()
            .any(|l| l.starts_with("hello ") && l.ends_with(" (unused)")),
        "{lsmod}"
    );
    assert!(d.ok(&["dmesg"]).contains("] Hello, world\n"));
    d.ok(&["rmmod", "hello"]);
    // And a run that deletes what it loaded leaves nothing.
    let out = d.umod(&["exec", "--", insmod.to_str().unwrap(), "hello.o", "hello"]);
    assert!(out.status.success());
    assert_eq!(d.ok(&["cat", "/proc/modules"]), "");
}

#[test]
fn proc_views_uname_and_exit_status() {
    let d = Daemon::start("exec-views");
    d.ok(&["insmod", "counter.o"]);
    let out = d.umod(&["exec", "--", "cat", "/proc/modules"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("counter "),
        "{out:?}"
    );
    let out = d.umod(&["exec", "--", "cat", "/proc/ksyms"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("counter_bump\t[counter]"));
    // Other files are opened for real.
    let out = d.umod(&["exec", "--", "cat", "/proc/self/comm"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "cat\n");
    let out = d.umod(&["exec", "--uname-release", "2.4.32", "--", "uname", "-r"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "2.4.32\n");
    let out = d.umod(&["exec", "--", "sh", "-c", "exit 7"]);
    assert_eq!(out.status.code(), Some(7));
    // Like a shell: 127 when the program cannot be run.
    let out = d.umod(&["exec", "--", "/nonexistent/prog"]);
    assert_eq!(out.status.code(), Some(127));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("/nonexistent/prog: No such file or directory"));
    let out = d.umod(&["exec", "--", "no-such-command-anywhere"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "exec: no-such-command-anywhere: command not found\n"
    );
}

#[test]
fn a_program_without_cap_sys_module_cannot_taint_the_host() {
    // The write is served (it goes to the host, not the machine), and the
    // flags are dropped, as the daemon refuses them. The supervisor holds
    // privilege; the program does not: as nobody when root runs the
    // tests, otherwise as root without any capability (of the namespace
    // the supervisor is root of; see `common::Mode`).
    let script = "echo 1 > /proc/sys/kernel/tainted; sleep 0.3; cat /proc/sys/kernel/tainted";
    let drop_privilege: &[&str] = if is_root() {
        &["--reuid=65534", "--regid=65534", "--clear-groups"]
    } else {
        &["--inh-caps=-all", "--bounding-set=-all"]
    };
    let program = [&["setpriv"], drop_privilege, &["sh", "-c", script]].concat();
    let seen = |out: std::process::Output| {
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        (String::from_utf8_lossy(&out.stdout).into_owned(), err)
    };
    let (embedded, err) = seen(
        as_root(Command::new(umod()).args(["exec", "--embedded", "--"]))
            .args(&program)
            .output()
            .unwrap(),
    );
    assert_eq!(embedded, "0\n", "{err}");
    let d = Daemon::start("exec-taint-nobody");
    let (forwarded, err) = seen(d.umod(&[&["exec", "--"][..], &program].concat()));
    assert_eq!(forwarded, "0\n", "{err}");
    assert!(d
        .ok(&["lsmod"])
        .starts_with("Module                  Size  Used by    Not tainted\n"));
}

#[test]
fn the_programs_taint_file_is_the_hosts() {
    let d = Daemon::start("exec-taint");
    let machine_before = std::fs::read_to_string("/proc/sys/kernel/tainted").unwrap();
    let script = "cat /proc/sys/kernel/tainted; echo 1 > /proc/sys/kernel/tainted; sleep 0.3; cat /proc/sys/kernel/tainted";
    let out = d.umod(&["exec", "--", "sh", "-c", script]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "0\n1\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(d
        .ok(&["lsmod"])
        .starts_with("Module                  Size  Used by    Tainted: P\n"));
    assert_eq!(
        std::fs::read_to_string("/proc/sys/kernel/tainted").unwrap(),
        machine_before,
        "the machine is untouched"
    );
}

#[test]
fn each_write_of_the_taint_file_is_stored_whole_even_at_exit() {
    let d = Daemon::start("exec-taint-writes");
    let taint_line = |d: &Daemon| d.ok(&["lsmod"]).lines().next().unwrap().to_string();
    let run = |script: &str| {
        let out = d.umod(&["exec", "--", "sh", "-c", script]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // Written, then the program exits at once: the value is there.
    run("echo 2 > /proc/sys/kernel/tainted");
    assert!(taint_line(&d).ends_with("Tainted: F"), "{}", taint_line(&d));
    // Each write replaces the value (2.4's integer sysctl), 0 included,
    // through one descriptor or several.
    run("echo 1 > /proc/sys/kernel/tainted; echo 4 > /proc/sys/kernel/tainted");
    assert!(taint_line(&d).ends_with("Tainted: S"), "{}", taint_line(&d));
    run("exec 3>/proc/sys/kernel/tainted; echo 1 >&3; echo 0 >&3");
    assert!(
        taint_line(&d).ends_with("Not tainted"),
        "{}",
        taint_line(&d)
    );
    run("echo 5 > /proc/sys/kernel/tainted");
    // Opened to read and write, it reads the value.
    assert_eq!(run("exec 3<>/proc/sys/kernel/tainted; cat <&3"), "5\n");
    assert!(
        taint_line(&d).ends_with("Tainted: PS"),
        "{}",
        taint_line(&d)
    );
    // The embedded host, likewise.
    let out = Command::new(umod())
        .args(["exec", "--embedded", "--", "sh", "-c"])
        .arg("echo 1 > /proc/sys/kernel/tainted; echo 2 > /proc/sys/kernel/tainted; sleep 0.3; exec 3<>/proc/sys/kernel/tainted; cat <&3")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "2\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
