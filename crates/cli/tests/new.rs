//! `umod new`: the projects it makes build with their own tools (cargo;
//! make over `umod cflags`) on a fresh checkout, and what they build is
//! what `umod insmod` loads.

mod common;
use common::*;

use std::path::Path;
use std::process::Command;

/// Runs `cmd`, expecting success; its stdout.
fn ok(cmd: &mut Command, what: &str) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn new(dir: &Path, args: &[&str]) -> String {
    ok(
        Command::new(umod())
            .arg("new")
            .args(args)
            .arg("--dir")
            .arg(dir),
        "umod new",
    )
}

#[test]
fn a_rust_project_builds_with_cargo_and_loads() {
    let d = Daemon::start("new-rust");
    let dir = scratch_dir("new-rust-project");
    let said = new(&dir, &["hello_rs"]);
    assert!(said.contains("cargo build --release"), "{said}");
    let project = dir.join("hello_rs");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    ok(
        Command::new(cargo)
            .args(["build", "--release", "--offline", "--quiet"])
            .current_dir(&project)
            .env("CARGO_TARGET_DIR", project.join("target"))
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS"),
        "cargo build",
    );
    let archive = project.join("target/release/libhello_rs.a");
    assert!(archive.exists());
    let archive = archive.to_str().unwrap();
    // Its name comes from the archive's, without cargo's lib prefix.
    d.ok(&["insmod", archive, "greetings=2"]);
    assert!(d.ok(&["lsmod"]).contains("\nhello_rs "));
    d.ok(&["rmmod", "hello_rs"]);
    d.ok(&["insmod", "--oneshot", archive]);
    d.ok(&["rmmod", "hello_rs"]);
    let log = d.ok(&["dmesg"]);
    let lines: Vec<&str> = log
        .lines()
        .filter_map(|l| l.split("] ").nth(1))
        .filter(|l| l.starts_with("hello_rs"))
        .collect();
    assert_eq!(
        lines,
        [
            "hello_rs: hello (1)",
            "hello_rs: hello (2)",
            "hello_rs: goodbye",
            "hello_rs: hello (1)",
            "hello_rs: goodbye"
        ]
    );
    let info = d.ok(&["modinfo", "-F", "parm", archive]);
    assert_eq!(info, "greetings:How many times to say hello (int)\n");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_c_project_builds_with_make_and_loads() {
    let d = Daemon::start("new-c");
    let dir = scratch_dir("new-c-project");
    new(&dir, &["--c", "hello_c"]);
    let project = dir.join("hello_c");
    ok(
        Command::new("make")
            .arg(format!("UMOD={}", umod().display()))
            .current_dir(&project),
        "make",
    );
    let object = project.join("hello_c.o");
    d.ok(&["insmod", object.to_str().unwrap(), "greetings=3"]);
    let log = d.ok(&["dmesg"]);
    assert!(log.contains("hello_c: hello (3)"), "{log}");
    d.ok(&["rmmod", "hello_c"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn nothing_is_overwritten_and_bad_names_are_refused() {
    let dir = scratch_dir("new-refusals");
    new(&dir, &["--c", "twice"]);
    let again = Command::new(umod())
        .args(["new", "twice", "--dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("File exists"));
    let bad = Command::new(umod())
        .args(["new", "Bad-Name", "--dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&bad.stderr),
        "new: `Bad-Name` is not a module name: use lower-case letters, digits and _, \
         not starting with a digit, under 56 characters\n"
    );
    assert!(!dir.join("Bad-Name").exists());
    let _ = std::fs::remove_dir_all(&dir);
}
