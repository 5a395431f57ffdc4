//! The daemon against hostile local users and hostile modules, each attack
//! run for real: the real daemon, real unprivileged users (uid 65534 and
//! spare uids from 20001), a setuid-root program, a reused pid, a module
//! that never returns. See `docs/security.md` for the rules these hold.
//! Run by another user than root, each daemon is root of a user namespace
//! of its own and the attacks that need privilege run as root there
//! (`common::Mode`); the four attacks by other users, or by a setuid-root
//! program, need root of the machine to become them: without it those
//! say so and pass without checking.

mod common;
use common::attack::{as_user, attacker, rss};
use common::*;

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use umod_client::protocol::{self, Response};
use umod_client::Client;
use umod_loader::insmod::ModuleCalls;

fn skip_unless_root(what: &str) -> bool {
    if is_root() {
        return false;
    }
    eprintln!(
        "skipped {what}: becoming other users needs root of the machine, and this suite runs \
         as another user (in a user namespace that user is the only one)"
    );
    true
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A setuid-root copy of the program at `src`, in a directory every user
/// can reach.
fn setuid_copy(d: &Daemon, src: &str) -> PathBuf {
    let name = Path::new(src).file_name().unwrap();
    let dst = d.dir.join(format!("suid-{}", name.to_string_lossy()));
    // Copied by cp, not by this process: a child another test thread forks
    // meanwhile would hold our writing descriptor and make executing the
    // copy fail (ETXTBSY).
    assert!(Command::new("cp")
        .arg(src)
        .arg(&dst)
        .status()
        .unwrap()
        .success());
    std::os::unix::fs::chown(&dst, Some(0), Some(0)).unwrap();
    std::fs::set_permissions(&dst, std::fs::Permissions::from_mode(0o4755)).unwrap();
    dst
}

/// Compiles the loader's fixture `name.c` into the daemon's directory.
fn fixture_into(d: &Daemon, name: &str) {
    let src =
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../loader/tests/fixtures/{name}.c"));
    umod_loader::kit::compile(&src, &d.dir.join(format!("{name}.o"))).unwrap();
}

fn sock(d: &Daemon) -> &str {
    d.socket.to_str().unwrap()
}

#[test]
fn a_setuid_exec_after_connecting_does_not_raise_privilege() {
    if skip_unless_root("the setuid attack") {
        return;
    }
    let d = Daemon::start("setuid");
    let suid_sleep = setuid_copy(&d, "/bin/sleep");
    let suid_printf = setuid_copy(&d, "/usr/bin/printf");
    // nobody connects, forks; the parent execs a setuid-root program (same
    // pid, every capability); the child, holding the socket, asks.
    let out = as_user(
        65534,
        attacker(),
        &[
            "fork-exec-setuid",
            sock(&d),
            "pwned1",
            suid_sleep.to_str().unwrap(),
        ],
    )
    .output()
    .unwrap();
    let text = stdout(&out);
    assert!(
        text.contains("parent euid: 0\n"),
        "the exec happened: {text}"
    );
    assert!(
        text.contains("create: errno 1 Operation not permitted"),
        "{text}"
    );
    // nobody connects and has the setuid program write the request itself:
    // the sender is the process that connected, now root, but it was not
    // root when it connected.
    let out = as_user(
        65534,
        attacker(),
        &[
            "setuid-writes",
            sock(&d),
            "pwned2",
            suid_printf.to_str().unwrap(),
        ],
    )
    .output()
    .unwrap();
    let text = stdout(&out);
    assert!(text.contains("writer exited: 0"), "{text}");
    assert!(
        text.contains("create: errno 1 Operation not permitted"),
        "{text}"
    );
    // The same request from root is served: the attack's frames are valid.
    let out = d
        .command(attacker())
        .args(["create", sock(&d), "fine"])
        .output()
        .unwrap();
    assert!(
        stdout(&out).starts_with("create: ret 0x"),
        "{}",
        stdout(&out)
    );
    let modules = d.ok(&["cat", "/proc/modules"]);
    assert!(
        modules.contains("fine ") && !modules.contains("pwned"),
        "{modules}"
    );
}

#[test]
fn only_the_process_that_connected_holds_its_privilege() {
    let d = Daemon::start("child-sends");
    // Root connects; a child (root too) sends on the inherited socket.
    let out = d
        .command(attacker())
        .args(["child-sends", sock(&d), "cs"])
        .output()
        .unwrap();
    let text = stdout(&out);
    assert!(
        text.contains("child create: errno 1 Operation not permitted"),
        "{text}"
    );
    assert!(text.contains("parent create: ret 0x"), "{text}");
}

#[test]
fn a_reused_pid_does_not_lend_its_privilege() {
    if skip_unless_root("the pid-reuse attack") {
        return;
    }
    let d = Daemon::start("pid-reuse");
    // nobody connects, forks a child that keeps the socket, and exits.
    let mut parent = as_user(65534, attacker(), &["pid-reuse", sock(&d), "reused"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(parent.stdout.take().unwrap()).lines();
    // Kept open: the child waits on it (wait() would close it).
    let mut go = parent.stdin.take().unwrap();
    let first = lines.next().unwrap().unwrap();
    let pid: i32 = first
        .strip_prefix("connected as ")
        .unwrap()
        .parse()
        .unwrap();
    assert!(parent.wait().unwrap().success());
    // A root process now takes that very pid.
    let spawned = Command::new(attacker())
        .args(["spawn-with-pid", &pid.to_string(), "/bin/sleep", "30"])
        .output()
        .unwrap();
    assert_eq!(
        stdout(&spawned),
        format!("spawned {pid}\n"),
        "{}",
        stderr(&spawned)
    );
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    assert!(status.contains("\nUid:\t0\t0\t0\t0\n"), "{status}");
    // The child asks now, on the connection of a pid that is root's.
    writeln!(go, "go").unwrap();
    let answer = lines.next().unwrap().unwrap();
    // SAFETY: kill of the sleeper started above.
    unsafe { libc::kill(pid, libc::SIGKILL) };
    assert_eq!(answer, "create: errno 1 Operation not permitted");
}

#[test]
fn a_caller_that_drops_cap_sys_module_is_refused_from_then_on() {
    let d = Daemon::start("drop-cap");
    let out = d
        .command(attacker())
        .args(["drop-cap", sock(&d), "dc"])
        .output()
        .unwrap();
    let text = stdout(&out);
    assert!(text.contains("create before: ret 0x"), "{text}");
    assert!(
        text.contains("create after: errno 1 Operation not permitted"),
        "{text}"
    );
    assert!(
        text.contains("delete after: errno 1 Operation not permitted"),
        "{text}"
    );
}

#[test]
fn entering_a_user_namespace_after_connecting_drops_privilege() {
    let d = Daemon::start("userns-later");
    let out = d
        .command(attacker())
        .args(["userns-after-connect", sock(&d), "un"])
        .output()
        .unwrap();
    assert_eq!(
        stdout(&out),
        "create: errno 1 Operation not permitted\n",
        "{}",
        stderr(&out)
    );
}

/// `attacker hold SOCK n` as `uid`, until `release` (its stdin) closes.
fn hold(d: &Daemon, uid: u32, n: usize) -> (Child, String) {
    let mut c = as_user(uid, attacker(), &["hold", sock(d), &n.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(c.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    (c, line)
}

#[test]
fn root_is_served_while_other_users_hold_every_connection() {
    if skip_unless_root("the connection-limit attack") {
        return;
    }
    let d = Daemon::start("connections");
    // Eight users take 16 connections each: every one the daemon gives
    // callers without privilege (128).
    let mut holders = Vec::new();
    for uid in 20001..=20008 {
        let (c, line) = hold(&d, uid, 16);
        assert_eq!(line, "admitted 16 refused 0: \n");
        holders.push(c);
    }
    let (c, line) = hold(&d, 20001, 1);
    holders.push(c);
    assert_eq!(
        line,
        "admitted 0 refused 1: errno 11 connection refused: uid 20001 already has 16 connections open (the limit per user)\n"
    );
    let (c, line) = hold(&d, 20009, 1);
    holders.push(c);
    assert_eq!(
        line,
        "admitted 0 refused 1: errno 11 connection refused: 128 connections of users without privilege are open (the limit)\n"
    );
    // The tools say what happened.
    let out = as_user(65534, umod(), &["--socket", sock(&d), "lsmod"])
        .output()
        .unwrap();
    assert_eq!(
        stderr(&out),
        "lsmod: connection refused: 128 connections of users without privilege are open (the limit): EAGAIN (Resource temporarily unavailable)\n"
    );
    // Root is served all the same.
    let started = Instant::now();
    d.ok(&["insmod", "hello.o"]);
    assert!(d.ok(&["lsmod"]).contains("hello "));
    eprintln!(
        "root served (insmod + lsmod) in {} ms while other users hold 128 connections",
        started.elapsed().as_millis()
    );
    drop(holders);
}

/// A raw connection's next answer.
fn next_answer(s: &mut UnixStream) -> Response {
    let payload = protocol::read_frame(s, 1 << 20).unwrap().unwrap();
    Response::decode(&payload).unwrap()
}

#[test]
fn idle_and_slow_connections_are_closed_with_a_reason() {
    let d = Daemon::start_with(
        "idle",
        &["--idle-timeout", "0.5", "--request-timeout", "0.5"],
    );
    // Idle: closed, and told why.
    let mut idle = UnixStream::connect(&d.socket).unwrap();
    match next_answer(&mut idle) {
        Response::Error { errno, message } => {
            assert_eq!(errno, 110, "ETIMEDOUT");
            assert_eq!(
                String::from_utf8_lossy(&message),
                "closed: no request for 0 s (the idle limit)"
            );
        }
        other => panic!("{other:?}"),
    }
    let mut rest = Vec::new();
    assert_eq!(idle.read_to_end(&mut rest).unwrap(), 0, "then closed");
    // Slow: a request that never arrives whole.
    let mut slow = UnixStream::connect(&d.socket).unwrap();
    slow.write_all(&100u32.to_le_bytes()).unwrap();
    slow.write_all(&[3, 0]).unwrap();
    match next_answer(&mut slow) {
        Response::Error { errno, message } => {
            assert_eq!(errno, 110, "ETIMEDOUT");
            assert_eq!(
                String::from_utf8_lossy(&message),
                "closed: the request did not arrive in time"
            );
        }
        other => panic!("{other:?}"),
    }
    // A client whose connection was closed for idling connects again by
    // itself.
    let mut c = Client::connect(&d.socket).unwrap();
    c.status().unwrap();
    std::thread::sleep(Duration::from_millis(900));
    c.status().unwrap();
}

#[test]
fn the_worst_requests_on_every_connection_stay_within_the_memory_budget() {
    if skip_unless_root("the memory attack") {
        return;
    }
    let d = Daemon::start("memory");
    d.ok(&["insmod", "hello.o"]);
    d.ok(&["lsmod"]);
    let pid = d.child.id();
    let (idle, _) = rss(pid);
    // Forget the peak of starting up: from here VmHWM is the attack's.
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").unwrap();
    // Eight users, sixteen connections each (all 128 the daemon gives
    // callers without privilege), each sending as fast as the daemon
    // answers, for three seconds: six users the worst request they may
    // send (1 MiB, eight writable regions across page boundaries), two a
    // 1 MiB frame of 150,000 empty regions (each of which cost a page
    // before the decoder refused more than eight).
    let floods: Vec<(Child, &str)> = (20001..=20008)
        .map(|uid| {
            let kind = if uid % 4 == 0 { "regions" } else { "worst" };
            let child = as_user(uid, attacker(), &["flood", sock(&d), "16", "3", kind])
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            (child, kind)
        })
        .collect();
    // Root is served meanwhile.
    std::thread::sleep(Duration::from_millis(1500));
    let started = Instant::now();
    d.ok(&["lsmod"]);
    let root_ms = started.elapsed().as_millis();
    let (mut answered, mut refused) = (0u64, 0u64);
    for (f, kind) in floods {
        let out = f.wait_with_output().unwrap();
        let text = stdout(&out);
        let last = text.lines().last().unwrap_or_default().to_string();
        // "answered A busy B refused R other O"
        let n: Vec<u64> = last
            .split_whitespace()
            .filter_map(|w| w.parse().ok())
            .collect();
        assert_eq!(n.len(), 4, "{text}");
        assert_eq!(n[3], 0, "{kind}: unexpected answers: {text}");
        if kind == "regions" {
            assert_eq!(n[0], 0, "no frame of empty regions is served: {text}");
        }
        answered += n[0];
        refused += n[2];
    }
    let (_, peak) = rss(pid);
    let above = peak.saturating_sub(idle);
    eprintln!(
        "memory: idle {} MiB, peak {} MiB under 128 connections of worst requests ({answered} answered, {refused} malformed refused), {} MiB above idle (budget 64 MiB); root served in {root_ms} ms",
        idle >> 20,
        peak >> 20,
        above >> 20
    );
    assert!(
        answered > 0 && refused > 0,
        "both floods reached the daemon"
    );
    assert!(
        above <= 64 << 20,
        "the daemon grew by {} MiB, over the 64 MiB budget",
        above >> 20
    );
}

#[test]
fn a_spinning_module_is_stopped_and_the_daemon_stays_responsive() {
    let d = Daemon::start_with("spinner", &["--watchdog", "1"]);
    fixture_into(&d, "spinner");
    // An init that never returns, loaded the 2.4 way in the background.
    let loader = d
        .umod_command()
        .args(["insmod", "spinner.o", "spin_in=1"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Meanwhile everyone else is served: the list shows it initializing.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let list = d.ok(&["lsmod"]);
        if list.contains("(initializing)") {
            break;
        }
        assert!(Instant::now() < deadline, "{list}");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(d.fails(&["rmmod", "spinner"]).contains("EBUSY"));
    let out = loader.wait_with_output().unwrap();
    assert_eq!(
        stderr(&out),
        "insmod: spinner.o: init_module: ETIME (Timer expired)\n"
    );
    let log = d.ok(&["dmesg"]);
    assert!(
        log.contains("BUG: soft lockup: spinner stuck for 1s during init; stopped by the watchdog"),
        "{log}"
    );
    assert!(log.contains("  spinning at spinner+0x"), "{log}");
    // Left as a faulting init leaves it: removable, and insmod, as 2.4's
    // did after a failed init, removed it.
    assert_eq!(d.ok(&["cat", "/proc/modules"]), "");
}

#[test]
fn sigterm_stops_the_daemon_whatever_its_modules_do() {
    let d = Daemon::start_with("stop", &["--watchdog", "1", "--stop-timeout", "4"]);
    fixture_into(&d, "spinner");
    // A cleanup that blocks every signal first (the watchdog cannot stop
    // it; removed last), a timer that spins, and a cleanup that sleeps for
    // ever (removed first).
    d.ok(&["insmod", "-o", "stuck", "spinner.o", "spin_in=2", "how=3"]);
    d.ok(&["insmod", "-o", "ticker", "spinner.o", "spin_in=3"]);
    d.ok(&["insmod", "-o", "sleeper", "spinner.o", "spin_in=2", "how=2"]);
    let started = Instant::now();
    let (code, log) = d.stop();
    let took = started.elapsed();
    eprintln!("stopped in {} ms", took.as_millis());
    assert_eq!(code, 1, "{log}");
    assert!(
        log.contains("kernel: BUG: soft lockup: sleeper stuck for 1s during cleanup"),
        "{log}"
    );
    assert!(log.contains("module=sleeper"), "{log}");
    assert!(
        log.contains("still stopping after 4 s: module code does not return; exiting now"),
        "{log}"
    );
}

#[test]
fn proc_modes_and_host_addresses_are_honoured_per_caller() {
    let d = Daemon::start("views");
    fixture_into(&d, "procmodes");
    fixture_into(&d, "crasher");
    d.ok(&["insmod", "procmodes.o"]);
    // Nobody when root runs the tests; otherwise a caller the daemon sees
    // as uid 0 without any capability in its namespace (`common::Mode`).
    let nobody = |args: &[&str]| d.unprivileged_umod().args(args).output().unwrap();
    // An entry of uid 1000's, mode 0400: only its owner, and a caller
    // holding CAP_DAC_OVERRIDE, may read it.
    let out = nobody(&["cat", "/proc/pm_owned"]);
    assert_eq!(
        stderr(&out),
        "cat: /proc/pm_owned: EACCES (Permission denied)\n"
    );
    assert_eq!(d.ok(&["cat", "/proc/pm_owned"]), "owned\n");
    if is_root() {
        // Root's own 0400 entry, to another user.
        let out = nobody(&["cat", "/proc/pm_secret"]);
        assert_eq!(
            stderr(&out),
            "cat: /proc/pm_secret: EACCES (Permission denied)\n"
        );
    }
    assert_eq!(d.ok(&["cat", "/proc/pm_secret"]), "secret\n");
    assert_eq!(stdout(&nobody(&["cat", "/proc/pm_open"])), "open\n");
    // An oops at an address of the host's kind: root sees it, nobody
    // sees that it was hidden.
    let out = d.umod(&["insmod", "--oneshot", "crasher.o", "crash_in=1", "how=3"]);
    assert!(!out.status.success());
    let root_log = d.ok(&["dmesg"]);
    let public_log = stdout(&nobody(&["dmesg"]));
    assert!(root_log.contains("address 0x7ff000000000"), "{root_log}");
    assert!(!public_log.contains("0x7ff000000000"), "{public_log}");
    assert!(
        public_log.contains("address (host address hidden)"),
        "{public_log}"
    );
    assert!(public_log.contains("  at crasher+0x"), "{public_log}");
}

#[test]
fn a_failed_insmod_leaves_nothing_behind() {
    // This process's own clients create entries: they need privilege.
    if rerun_as_namespace_root("a_failed_insmod_leaves_nothing_behind") {
        return;
    }
    let d = Daemon::start_with("debris", &["--max-request", "64K"]);
    // A module whose image cannot travel in one 64 KiB request.
    let src = d.dir.join("big.c");
    std::fs::write(
        &src,
        "#include <linux/module.h>\nMODULE_LICENSE(\"GPL\");\n\
         unsigned char big_table[100000] = { 1 };\n\
         int init_module(void) { return big_table[0] - 1; }\n\
         void cleanup_module(void) {}\n",
    )
    .unwrap();
    umod_loader::kit::compile(&src, &d.dir.join("big.o")).unwrap();
    let err = d.fails(&["insmod", "big.o"]);
    assert!(
        err.starts_with("insmod: big.o: the image is 1") && err.ends_with(
            " bytes, over the module host's limit of 65536 bytes per request (a daemon's --max-request)\n"
        ),
        "{err}"
    );
    let mut c = Client::connect(&d.socket).unwrap();
    let in_use = |c: &mut Client| match c.status().unwrap() {
        Response::Status {
            modules,
            window_in_use,
            ..
        } => (modules, window_in_use),
        other => panic!("{other:?}"),
    };
    assert_eq!(in_use(&mut c), (0, 0), "nothing left");
    // A tool that created an entry and went away before initializing it:
    // the entry goes with its connection.
    let mut tool = Client::connect(&d.socket).unwrap();
    tool.create_module("abandoned", 8192).unwrap();
    assert_eq!(in_use(&mut c).0, 1);
    drop(tool);
    let deadline = Instant::now() + Duration::from_secs(10);
    while in_use(&mut c) != (0, 0) {
        assert!(Instant::now() < deadline, "the abandoned entry stayed");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(d
        .ok(&["dmesg"])
        .contains("abandoned: removed: its client went away before initializing it"));
    // An unmodified 2.4 program's create_module is kept, as 2.4 kept it.
    let mut program = Client::connect(&d.socket).unwrap();
    let mut mem = umod_host::ScratchSpace::new();
    let name = mem.put_cstr(b"kept");
    let ret = program
        .call(
            umod_client::protocol::CallKind::Create,
            [name, 8192, 0, 0, 0],
            &mut mem,
        )
        .unwrap();
    assert!(ret > 0);
    drop(program);
    std::thread::sleep(Duration::from_millis(200));
    assert!(d.ok(&["cat", "/proc/modules"]).contains("kept "));
}

#[test]
fn the_socket_is_never_made_through_a_link_or_in_an_unsafe_directory() {
    let dir = scratch_dir("socket-links");
    let serve = |socket: &Path| {
        Command::new(umod())
            .args(["serve", "--window", "16M", "--socket"])
            .arg(socket)
            .output()
            .unwrap()
    };
    // A link where the socket goes, to a file the daemon must not touch.
    let victim = dir.join("victim");
    std::fs::write(&victim, "keep").unwrap();
    std::os::unix::fs::symlink(&victim, dir.join("link.sock")).unwrap();
    let out = serve(&dir.join("link.sock"));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        format!(
            "refusing to listen on {}: it exists and is not a socket\n",
            dir.join("link.sock").display()
        )
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
    assert_eq!(
        std::fs::metadata(&victim).unwrap().permissions().mode() & 0o777,
        0o644,
        "its mode untouched"
    );
    // A directory other users may write, not sticky.
    let open = dir.join("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
    let out = serve(&open.join("umod.sock"));
    assert_eq!(
        stderr(&out),
        format!(
            "refusing to listen on {}: {} is writable by other users (mode 0777) and not sticky\n",
            open.join("umod.sock").display(),
            open.display()
        )
    );
    // A link on the way.
    std::os::unix::fs::symlink(dir.join("open"), dir.join("via")).unwrap();
    let out = serve(&dir.join("via/umod.sock"));
    assert!(
        stderr(&out).contains("is a symbolic link or not a directory"),
        "{}",
        stderr(&out)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
