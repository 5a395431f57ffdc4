//! The daemon under real conditions: callers without CAP_SYS_MODULE,
//! several clients at once, broken clients, shutdown, second instances.

mod common;
use common::*;

use std::io::Write;
use std::os::unix::net::{UnixListener, UnixStream};
use std::os::unix::process::CommandExt;
use std::process::Command;

use umod_client::protocol::{self, Response};
use umod_client::Client;

#[test]
fn callers_without_cap_sys_module_get_eperm() {
    let d = Daemon::start("eperm");
    d.ok(&["insmod", "hello.o"]);
    // Nobody, when root runs the tests; otherwise this user outside the
    // daemon's user namespace (see `common::Mode`).
    let as_nobody = |args: &[&str]| d.unprivileged_umod().args(args).output().unwrap();
    let out = as_nobody(&["insmod", "counter.o"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "insmod: counter.o: create_module: EPERM (Operation not permitted)\n"
    );
    let out = as_nobody(&["insmod", "--oneshot", "counter.o"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "insmod: counter.o: load: EPERM (Operation not permitted)\n"
    );
    let out = as_nobody(&["rmmod", "hello"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "rmmod: hello: EPERM (Operation not permitted)\n"
    );
    let out = as_nobody(&["dmesg", "-c"]);
    assert_eq!(out.status.code(), Some(1));
    // Queries need no privilege.
    let out = as_nobody(&["lsmod"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("hello "));
    assert!(as_nobody(&["ksyms", "-a"]).status.success());
    assert_eq!(
        d.ok(&["cat", "/proc/modules"]).lines().count(),
        1,
        "nothing changed"
    );
}

/// Makes `cmd` run as root of a user namespace of its own, where it holds
/// every capability, which `capget` shows: as nobody's namespace when root
/// runs the tests, as this user's otherwise (a namespace that is not the
/// daemon's either way). Any user may do this where unprivileged user
/// namespaces are allowed.
fn as_root_of_own_user_namespace(cmd: &mut Command) -> &mut Command {
    if is_root() {
        in_new_user_namespace(cmd.uid(65534).gid(65534), 65534, 65534)
    } else {
        in_new_user_namespace(
            cmd,
            rustix::process::geteuid().as_raw(),
            rustix::process::getegid().as_raw(),
        )
    }
}

#[test]
fn root_of_a_private_user_namespace_is_not_privileged() {
    let d = Daemon::start("userns");
    let run = |args: &[&str]| {
        as_root_of_own_user_namespace(
            Command::new(umod())
                .arg("--socket")
                .arg(&d.socket)
                .args(args)
                .current_dir(&d.dir),
        )
        .output()
    };
    // The namespace's root holds every capability, in its namespace.
    let caps = match as_root_of_own_user_namespace(
        Command::new("sh").args(["-c", "grep CapEff /proc/self/status"]),
    )
    .output()
    {
        Ok(out) => String::from_utf8_lossy(&out.stdout).into_owned(),
        Err(e) => {
            eprintln!("skipped: this system allows no unprivileged user namespace ({e})");
            return;
        }
    };
    assert_eq!(caps.split_whitespace().nth(1), Some("000001ffffffffff"));
    let out = run(&["insmod", "hello.o"]).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "insmod: hello.o: create_module: EPERM (Operation not permitted)\n"
    );
    let out = run(&["insmod", "--oneshot", "hello.o"]).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "insmod: hello.o: load: EPERM (Operation not permitted)\n"
    );
    assert_eq!(d.ok(&["cat", "/proc/modules"]), "", "nothing was loaded");
}

#[test]
fn concurrent_insmod_rmmod_from_several_processes() {
    let d = Daemon::start("concurrent");
    for i in 0..4 {
        std::fs::copy(d.dir.join("hello.o"), d.dir.join(format!("hello{i}.o"))).unwrap();
    }
    std::thread::scope(|s| {
        for i in 0..4 {
            let d = &d;
            s.spawn(move || {
                let own = format!("hello{i}.o");
                for round in 0..12 {
                    d.ok(&["insmod", &own]);
                    // A name every process fights over: any outcome is fine.
                    let _ = d.umod(&[
                        "insmod",
                        if round % 2 == 0 {
                            "hello.o"
                        } else {
                            "--oneshot"
                        },
                        "hello.o",
                    ]);
                    d.ok(&["lsmod"]);
                    d.ok(&["rmmod", &format!("hello{i}")]);
                    let _ = d.umod(&["rmmod", "hello"]);
                }
            });
        }
    });
    let _ = d.umod(&["rmmod", "hello"]);
    assert_eq!(d.ok(&["cat", "/proc/modules"]), "");
    let mut c = Client::connect(&d.socket).unwrap();
    match c.status().unwrap() {
        Response::Status {
            window_in_use,
            modules,
            ..
        } => assert_eq!((window_in_use, modules), (0, 0)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn broken_and_garbage_clients_do_not_disturb_the_daemon() {
    let d = Daemon::start("garbage");
    // A client that announces 1000 bytes, sends 10 and goes away.
    let mut half = UnixStream::connect(&d.socket).unwrap();
    half.write_all(&1000u32.to_le_bytes()).unwrap();
    half.write_all(&[7; 10]).unwrap();
    drop(half);
    // A client that stalls mid-request while others are served.
    let mut stalled = UnixStream::connect(&d.socket).unwrap();
    stalled.write_all(&1000u32.to_le_bytes()).unwrap();
    d.ok(&["insmod", "hello.o"]);
    // A well-framed message that is not a request: an error answer.
    let mut garbage = UnixStream::connect(&d.socket).unwrap();
    let mut junk = protocol::VERSION.to_le_bytes().to_vec();
    junk.extend_from_slice(b"\xee\xee junk");
    protocol::write_frame(&mut garbage, &junk).unwrap();
    let answer = protocol::read_frame(&mut garbage, 1 << 20)
        .unwrap()
        .unwrap();
    match Response::decode(&answer).unwrap() {
        Response::Error { errno, .. } => assert_eq!(errno, 71, "EPROTO"),
        other => panic!("{other:?}"),
    }
    // A frame larger than the limit: refused with the size and the
    // limit, connection closed.
    let mut huge = UnixStream::connect(&d.socket).unwrap();
    huge.write_all(&u32::MAX.to_le_bytes()).unwrap();
    let answer = protocol::read_frame(&mut huge, 1 << 20).unwrap().unwrap();
    match Response::decode(&answer).unwrap() {
        Response::Error { errno, message } => {
            assert_eq!(errno, 90, "EMSGSIZE");
            assert_eq!(
                String::from_utf8_lossy(&message),
                "a request of 4294967295 bytes is over this caller's limit of 67108864 bytes"
            );
        }
        other => panic!("{other:?}"),
    }
    drop(stalled);
    assert!(d.ok(&["lsmod"]).contains("hello "));
}

#[test]
fn shutdown_removes_modules_users_first_running_cleanups() {
    let d = Daemon::start("shutdown");
    d.ok(&["insmod", "counter.o"]);
    d.ok(&["insmod", "counter_user.o"]);
    d.ok(&["insmod", "hello.o"]);
    let socket = d.socket.clone();
    let (code, log) = d.stop();
    assert_eq!(code, 0, "{log}");
    let order: Vec<&str> = log
        .lines()
        .filter_map(|l| l.split("module=").nth(1))
        .collect();
    assert_eq!(order, ["hello", "counter_user", "counter"], "{log}");
    // The cleanups ran in that order: counter got its 42 back first.
    let user = log.find("kernel: counter_user: gave it back").expect(&log);
    let counter = log.find("kernel: counter: final value 0").expect(&log);
    assert!(user < counter);
    assert!(log.contains("kernel: Goodbye, world"));
    assert!(!socket.exists(), "the socket is removed");
}

#[test]
fn a_second_instance_refuses_and_a_stale_socket_is_replaced() {
    let d = Daemon::start("second");
    let out = Command::new(umod())
        .args(["serve", "--window", "16M", "--socket"])
        .arg(&d.socket)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "another umod daemon is already serving on {}\n",
            d.socket.display()
        )
    );
    assert!(
        d.ok(&["lsmod"]).starts_with("Module"),
        "the first one still serves"
    );

    let dir = scratch_dir("stale");
    let stale = dir.join("stale.sock");
    drop(UnixListener::bind(&stale).unwrap());
    assert!(stale.exists());
    let mut second = Command::new(umod())
        .args(["serve", "--window", "16M", "--socket"])
        .arg(&stale)
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while UnixStream::connect(&stale).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "the daemon did not replace the stale socket"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let _ = second.kill();
    let _ = second.wait();
}
