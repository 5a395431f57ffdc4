//! `umod serve --preload LIST`: modules loaded at start, in order, the
//! failures logged and skipped.

mod common;
use common::*;

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

#[test]
fn loads_the_list_in_order_and_logs_each_failure() {
    let mods = scratch_dir("preload-mods");
    write_examples(&mods);
    // Whatever the umask: only a file nobody else may write is loaded.
    let mode = |file: &str, mode| {
        std::fs::set_permissions(mods.join(file), std::fs::Permissions::from_mode(mode)).unwrap()
    };
    for m in ["hello.o", "params.o", "failing.o", "counter.o"] {
        mode(m, 0o644);
    }
    std::fs::copy(mods.join("hello.o"), mods.join("shared.o")).unwrap();
    mode("shared.o", 0o666);
    let list = mods.join("modules");
    std::fs::write(
        &list,
        format!(
            "# modules for boot\n\
             hello.o\n\
             \n\
             missing.o            # not there\n\
             {}/params.o irq=x\n\
             failing.o\n\
             shared.o\n\
             counter.o\n",
            mods.display()
        ),
    )
    .unwrap();
    mode("modules", 0o644);
    let d = Daemon::start_with("preload", &["--preload", list.to_str().unwrap()]);

    let lsmod = d.ok(&["lsmod"]);
    let names: Vec<&str> = lsmod
        .lines()
        .skip(1)
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    assert_eq!(names, ["counter", "hello"], "newest first: {lsmod}");

    let at = |line: u32, file: &str, cause: &str| {
        format!(
            "preload: {}:{line}: {}/{file}: {cause}",
            list.display(),
            mods.display()
        )
    };
    let failures = [
        at(4, "missing.o", "No such file or directory (os error 2)"),
        at(5, "params.o", "parameter irq: `x` is not a number"),
        at(6, "failing.o", "init: ENODEV (No such device)"),
        at(7, "shared.o", "writable by other users (mode 0666)"),
    ];
    // The kernel log, in load order, as errors (<3>).
    let dmesg = d.ok(&["dmesg"]);
    let lines: Vec<&str> = dmesg
        .lines()
        .filter(|l| {
            l.contains("preload:") || l.contains("Hello, world") || l.contains("counter: ready")
        })
        .map(|l| {
            let (level, rest) = l.split_at(3);
            let text = rest.split_once("] ").unwrap().1;
            if text.starts_with("preload:") {
                assert_eq!(level, "<3>", "{l}");
            }
            text
        })
        .collect();
    let mut expected = vec!["Hello, world"];
    expected.extend(failures.iter().map(String::as_str));
    expected.push("counter: ready");
    assert_eq!(lines, expected, "{dmesg}");

    let log = d.log();
    for f in &failures {
        assert!(
            log.lines()
                .any(|l| l.contains("ERROR") && l.ends_with(f.as_str())),
            "{f} in {log}"
        );
    }
    assert!(
        log.contains(&format!(
            "preloaded 2 of 6 module(s) listed in {}",
            list.display()
        )),
        "{log}"
    );
    std::fs::remove_dir_all(&mods).unwrap();
}

#[test]
fn a_list_that_cannot_be_read_stops_the_start() {
    let dir = scratch_dir("preload-missing");
    let socket = dir.join("umod.sock");
    let list = dir.join("no-such-list");
    let out = Command::new(umod())
        .args(["serve", "--window", "32M", "--socket"])
        .arg(&socket)
        .arg("--preload")
        .arg(&list)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "cannot use the preload list {}: No such file or directory (os error 2)\n",
            list.display()
        )
    );
    assert!(!socket.exists(), "refused before binding");

    std::fs::write(&list, "hello.o\n").unwrap();
    std::fs::set_permissions(&list, std::fs::Permissions::from_mode(0o646)).unwrap();
    let out = Command::new(umod())
        .args(["serve", "--window", "32M", "--socket"])
        .arg(&socket)
        .arg("--preload")
        .arg(&list)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "cannot use the preload list {}: writable by other users (mode 0646)\n",
            list.display()
        )
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
