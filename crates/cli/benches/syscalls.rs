//! `cargo bench --bench syscalls`: what an intercepted legacy module call
//! costs. In one run: a native `getppid()`, a native ENOSYS syscall, a
//! do-nothing seccomp-notify supervisor, the floor of a served pair (a
//! supervisor that answers `create_module`+`delete_module` after only the
//! system calls any server of them must make: reading the name from the
//! caller, its capabilities, the notification's re-check), a bare
//! Unix-socket round trip, and `query_module(NULL, 0, ...)` and the pair
//! under `umod exec --embedded` and against the daemon. Each mode's line
//! ends in `ratio=<measured / its target's denominator>`: embedded against
//! the do-nothing supervisor (target 1.5), the embedded pair also against
//! its floor (target 1.5), the daemon against the do-nothing supervisor
//! plus a socket round trip (target 2). Each line is the median of three rounds
//! that each measure every line in turn.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const UMOD: &str = env!("CARGO_BIN_EXE_umod");
const CALLS: &str = "5000";
/// Rounds of the whole set of lines.
const ROUNDS: usize = 3;

fn target() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let exe = dir.join("syscall_target");
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/syscall_target.c");
    let st = Command::new("gcc")
        .args(["-O2", "-o"])
        .arg(&exe)
        .arg(src)
        .status()
        .expect("gcc");
    assert!(st.success());
    exe
}

/// Runs `cmd` (the target, maybe wrapped) and returns its ns per call.
fn measure(cmd: &mut Command) -> f64 {
    let out = cmd.output().expect("run the target");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("ns per call")
}

fn under_umod(target: &Path, mode: &str, umod_args: &[&str]) -> f64 {
    measure(
        Command::new(UMOD)
            .args(umod_args)
            .arg("--")
            .arg(target)
            .args([mode, CALLS]),
    )
}

/// Median round trip of a 64-byte message to a thread that echoes it.
fn socket_round_trip() -> f64 {
    let (mut a, mut b) = UnixStream::pair().unwrap();
    let echo = std::thread::spawn(move || {
        let mut buf = [0u8; 64];
        while b.read_exact(&mut buf).is_ok() {
            if b.write_all(&buf).is_err() {
                break;
            }
        }
    });
    let mut batches = Vec::new();
    let mut buf = [0u8; 64];
    for _ in 0..9 {
        let t = Instant::now();
        for _ in 0..5000 {
            a.write_all(&buf).unwrap();
            a.read_exact(&mut buf).unwrap();
        }
        batches.push(t.elapsed().as_nanos() as f64 / 5000.0);
    }
    drop(a);
    echo.join().unwrap();
    batches.sort_by(f64::total_cmp);
    batches[4]
}

/// Median of a few values.
fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let target = target();
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench-syscalls");
    std::fs::create_dir_all(&dir).unwrap();
    let sock = dir.join("umod.sock");
    let _ = std::fs::remove_file(&sock);
    let mut daemon = Command::new(UMOD)
        .args(["serve", "--window", "32M", "--socket"])
        .arg(&sock)
        .stderr(Stdio::null())
        .spawn()
        .expect("umod serve");
    let deadline = Instant::now() + Duration::from_secs(20);
    while UnixStream::connect(&sock).is_err() {
        assert!(Instant::now() < deadline, "the daemon did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    let s = sock.to_str().unwrap();

    // Every line is measured once per round, the rounds one after another,
    // so that the VM's changes of speed during a run weigh on all of them;
    // each figure is the median over the rounds.
    let mut runs: [Vec<f64>; 9] = Default::default();
    for _ in 0..ROUNDS {
        let once = [
            measure(Command::new(&target).args(["getppid", CALLS])),
            measure(Command::new(&target).args(["enosys", CALLS])),
            under_umod(&target, "query", &["exec", "--null-supervisor"]),
            under_umod(&target, "pair", &["exec", "--floor-supervisor"]),
            socket_round_trip(),
            under_umod(&target, "query", &["exec", "--embedded"]),
            under_umod(&target, "pair", &["exec", "--embedded"]),
            under_umod(&target, "query", &["--socket", s, "exec"]),
            under_umod(&target, "pair", &["--socket", s, "exec"]),
        ];
        for (all, v) in runs.iter_mut().zip(once) {
            all.push(v);
        }
    }
    let _ = daemon.kill();
    let _ = daemon.wait();
    let [native, enosys, null, floor_pair, socket, embedded_query, embedded_pair, daemon_query, daemon_pair] =
        runs.map(median);

    let us = |ns: f64| ns / 1000.0;
    println!("syscalls benchmark: medians per call");
    println!("native getppid                      {:>8.2} us", us(native));
    println!("native ENOSYS (syscall 174)         {:>8.2} us", us(enosys));
    println!("do-nothing seccomp supervisor       {:>8.2} us", us(null));
    println!("bare Unix-socket round trip         {:>8.2} us", us(socket));
    println!(
        "embedded query_module(NULL, 0)      {:>8.2} us ratio={:.2}",
        us(embedded_query),
        embedded_query / null
    );
    println!(
        "embedded create+delete pair         {:>8.2} us ratio={:.2}",
        us(embedded_pair),
        embedded_pair / (2.0 * null)
    );
    println!(
        "pair's floor: 2 round trips + reads {:>8.2} us (caller's memory, capget, notification re-check)",
        us(floor_pair)
    );
    println!(
        "embedded pair over its floor        {:>8.2} us ratio={:.2}",
        us(embedded_pair),
        embedded_pair / floor_pair
    );
    println!(
        "daemon query_module(NULL, 0)        {:>8.2} us ratio={:.2}",
        us(daemon_query),
        daemon_query / (null + socket)
    );
    println!(
        "daemon create+delete pair           {:>8.2} us ratio={:.2}",
        us(daemon_pair),
        daemon_pair / (2.0 * (null + socket))
    );
}
