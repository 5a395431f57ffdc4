//! `umod serve` started the way systemd starts a socket-activated service:
//! the listening socket as fd 3, `LISTEN_PID` naming the daemon itself,
//! `LISTEN_FDS=1`.

mod common;
use common::*;

use std::net::TcpListener;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixDatagram, UnixListener, UnixStream};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Makes `fd` the child's descriptor 3, inheritable, as a service manager
/// passes it.
fn as_fd3(cmd: &mut Command, fd: impl AsFd) -> OwnedFd {
    // A copy above 3, so that dup2 always makes a new, inheritable
    // descriptor 3 (dup2 of 3 onto itself would leave close-on-exec set).
    let copy = rustix::io::fcntl_dupfd_cloexec(fd, 10).unwrap();
    let raw = copy.as_raw_fd();
    // SAFETY: dup2 between fork and exec is async-signal-safe, and `raw`
    // stays open in the parent until the child has been spawned.
    unsafe {
        cmd.pre_exec(move || {
            if libc::dup2(raw, 3) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    copy
}

/// `umod serve ARGS` through a shell that sets `LISTEN_PID` to its own pid
/// and execs the daemon, which keeps that pid: so the variables name the
/// daemon, as systemd sets them after fork. `fds` is `LISTEN_FDS`.
fn activated(fds: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!(
            "LISTEN_PID=$$ LISTEN_FDS={fds} LISTEN_FDNAMES=umod.socket exec \"$0\" serve \
             --window 32M \"$@\""
        ))
        .arg(umod())
        .args(args);
    cmd
}

/// Waits until the daemon says it serves (a client of a socket the test
/// itself listens on would otherwise wait on a daemon that never came).
fn wait_until_serving(d: &mut Daemon) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !d.log().contains("umod_daemon::server: serving") {
        if let Ok(Some(status)) = d.child.try_wait() {
            panic!("the daemon exited ({status}): {}", d.log());
        }
        assert!(Instant::now() < deadline, "no `serving` in {}", d.log());
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The open flags of process `pid`'s descriptor `fd` (/proc's fdinfo).
fn fd_flags(pid: u32, fd: i32) -> u32 {
    let info = std::fs::read_to_string(format!("/proc/{pid}/fdinfo/{fd}")).unwrap();
    let flags = info
        .lines()
        .find_map(|l| l.strip_prefix("flags:"))
        .expect("a flags line");
    u32::from_str_radix(flags.trim(), 8).unwrap()
}

#[test]
fn serves_on_the_socket_systemd_passes_and_leaves_it_in_place() {
    let dir = scratch_dir("activated");
    write_examples(&dir);
    // Not in the daemon's directory, which goes when it is stopped.
    let sockets = scratch_dir("activated-socket");
    let socket = sockets.join("umod.sock");
    let listener = UnixListener::bind(&socket).unwrap();
    // A mode the daemon would never give a socket it made (0666): it must
    // not touch this one.
    std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o600)).unwrap();
    let inode = std::fs::symlink_metadata(&socket).unwrap().ino();
    // A --socket elsewhere: the passed socket wins, and nothing is bound
    // there.
    let elsewhere = sockets.join("elsewhere.sock");
    let mut cmd = activated("1", &["--socket", elsewhere.to_str().unwrap()]);
    let _fd3 = as_fd3(&mut cmd, &listener);
    // As root (of a user namespace of its own unless the tests run as
    // root): systemd starts it so.
    let mut d = Daemon::adopt(as_root(&mut cmd), dir.clone(), socket.clone());
    wait_until_serving(&mut d);
    let log = d.log();
    assert!(
        log.contains(&format!(
            "serving on the socket the service manager passed socket={}",
            socket.display()
        )),
        "{log}"
    );
    assert!(
        log.contains(&format!(
            "--socket {} ignored: serving on the socket the service manager passed",
            elsewhere.display()
        )),
        "{log}"
    );
    assert!(!elsewhere.exists());
    // The inherited descriptor is no child's to keep.
    const O_CLOEXEC: u32 = 0o2000000;
    assert_ne!(
        fd_flags(d.child.id(), 3) & O_CLOEXEC,
        0,
        "fd 3 close-on-exec"
    );

    assert_eq!(
        d.ok(&["lsmod"]),
        "Module                  Size  Used by    Not tainted\n"
    );
    d.ok(&["insmod", "hello.o"]);
    d.ok(&["insmod", "--oneshot", "counter.o"]);
    let lsmod = d.ok(&["lsmod"]);
    let names: Vec<&str> = lsmod
        .lines()
        .skip(1)
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    assert_eq!(names, ["counter", "hello"], "{lsmod}");
    assert!(d.ok(&["dmesg"]).contains("Hello, world"));
    if !is_root() {
        // This user, outside the daemon's user namespace, may connect to
        // the socket (its own, mode 0600; nobody could not) and is served
        // all the same, refused what needs privilege: privilege is the
        // caller's, not the socket's.
        let out = d
            .unprivileged_umod()
            .args(["insmod", "params.o"])
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            "insmod: params.o: create_module: EPERM (Operation not permitted)\n"
        );
    }
    assert_eq!(
        std::fs::symlink_metadata(&socket).unwrap().mode() & 0o777,
        0o600,
        "the socket's mode is the service manager's"
    );

    let (code, log) = d.stop();
    assert_eq!(code, 0, "{log}");
    assert!(log.contains("module=hello"), "{log}");
    // systemd owns the socket: still there, the same inode, and still
    // listening (connections now wait for the next start).
    let meta = std::fs::symlink_metadata(&socket).expect("the socket is left in place");
    assert_eq!(meta.ino(), inode);
    assert!(UnixStream::connect(&socket).is_ok());
    drop(listener);
    std::fs::remove_dir_all(&sockets).unwrap();
}

/// Runs `umod serve` with `fd3` as descriptor 3 (or none), expecting it to
/// refuse to start; its stderr.
fn refused(fds: &str, fd3: Option<&dyn AsFd>) -> String {
    let dir = scratch_dir("refused");
    let socket = dir.join("umod.sock");
    let mut cmd = activated(fds, &["--socket", socket.to_str().unwrap()]);
    let _copy = fd3.map(|fd| as_fd3(&mut cmd, fd));
    let out = cmd.stdin(Stdio::null()).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(!socket.exists(), "nothing bound instead");
    std::fs::remove_dir_all(&dir).unwrap();
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn refuses_a_fd3_that_is_not_a_listening_unix_stream_socket() {
    let null = std::fs::File::open("/dev/null").unwrap();
    assert_eq!(
        refused("1", Some(&null)),
        "socket activation: fd 3 is /dev/null, not a socket\n"
    );
    let (connected, _peer) = UnixStream::pair().unwrap();
    assert_eq!(
        refused("1", Some(&connected)),
        "socket activation: fd 3 is a Unix stream socket that is not listening (a connected \
         or only bound one; the daemon needs the listening socket of a socket unit, with \
         Accept=no)\n"
    );
    let datagram = UnixDatagram::unbound().unwrap();
    assert_eq!(
        refused("1", Some(&datagram)),
        "socket activation: fd 3 is a Unix SOCK_DGRAM socket, not SOCK_STREAM (ListenStream=, \
         not ListenDatagram= or ListenSequentialPacket=)\n"
    );
    match TcpListener::bind("127.0.0.1:0") {
        Ok(tcp) => assert_eq!(
            refused("1", Some(&tcp)),
            "socket activation: fd 3 is an AF_INET socket, not AF_UNIX (ListenStream= takes a \
             path)\n"
        ),
        Err(e) => eprintln!("skipped the AF_INET case: no loopback here ({e})"),
    }
    assert_eq!(refused("1", None), "socket activation: fd 3 is not open\n");
}

#[test]
fn refuses_more_than_one_socket_naming_the_count() {
    let dir = scratch_dir("two");
    let listener = UnixListener::bind(dir.join("a.sock")).unwrap();
    assert_eq!(
        refused("2", Some(&listener)),
        "socket activation: LISTEN_FDS=2: umod serve takes exactly one socket, fd 3 (a socket \
         unit with one ListenStream=)\n"
    );
    assert_eq!(
        refused("0", Some(&listener)),
        "socket activation: LISTEN_FDS=0: umod serve takes exactly one socket, fd 3 (a socket \
         unit with one ListenStream=)\n"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_listen_pid_of_another_process_is_ignored() {
    let dir = scratch_dir("other-pid");
    write_examples(&dir);
    // A listening socket as fd 3, but the variables name this test
    // process: meant for someone else, so the daemon binds its own path.
    let sockets = scratch_dir("other-pid-sockets");
    let theirs = sockets.join("theirs.sock");
    let listener = UnixListener::bind(&theirs).unwrap();
    let socket = sockets.join("umod.sock");
    let mut cmd = Command::new(umod());
    cmd.args(["serve", "--window", "32M", "--socket"])
        .arg(&socket)
        .env("LISTEN_PID", std::process::id().to_string())
        .env("LISTEN_FDS", "1");
    let _fd3 = as_fd3(&mut cmd, &listener);
    let mut d = Daemon::adopt(&mut cmd, dir.clone(), socket.clone());
    wait_until_serving(&mut d);
    assert!(!d.log().contains("service manager"), "{}", d.log());
    assert_eq!(
        std::fs::symlink_metadata(&socket).unwrap().mode() & 0o777,
        0o666,
        "bound by the daemon, with its mode"
    );
    assert!(d.ok(&["lsmod"]).starts_with("Module"));
    let (code, log) = d.stop();
    assert_eq!(code, 0, "{log}");
    assert!(!socket.exists(), "its own socket is removed at exit");
    assert!(theirs.exists(), "the other one is not its business");
    drop(listener);
    std::fs::remove_dir_all(&sockets).unwrap();
}

#[test]
fn under_systemd_socket_activate() {
    let Some(activate) = on_path("systemd-socket-activate") else {
        eprintln!("skipped: systemd-socket-activate is not on PATH");
        return;
    };
    let dir = scratch_dir("systemd-activate");
    write_examples(&dir);
    let sockets = scratch_dir("systemd-activate-socket");
    let socket = sockets.join("umod.sock");
    // It listens, and execs the daemon at the first connection.
    let mut cmd = Command::new(activate);
    cmd.arg("-l")
        .arg(&socket)
        .arg(umod())
        .args(["serve", "--window", "32M"]);
    let mut d = Daemon::adopt(as_root(&mut cmd), dir.clone(), socket.clone());
    assert_eq!(
        d.ok(&["lsmod"]),
        "Module                  Size  Used by    Not tainted\n"
    );
    wait_until_serving(&mut d);
    assert!(
        d.log()
            .contains("serving on the socket the service manager passed"),
        "{}",
        d.log()
    );
    d.ok(&["insmod", "hello.o"]);
    assert!(d.ok(&["lsmod"]).contains("\nhello "));
    let (code, log) = d.stop();
    assert_eq!(code, 0, "{log}");
    assert!(socket.exists(), "the socket is the manager's: {log}");
    std::fs::remove_dir_all(&sockets).unwrap();
}

/// `name`'s path if it is an executable in a directory of `$PATH`.
fn on_path(name: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| Path::new(d).join(name))
        .find(|p| {
            p.metadata()
                .is_ok_and(|m| m.is_file() && m.mode() & 0o111 != 0)
        })
}
