//! `cargo bench --bench attacks`: the security figures of the README, each
//! measured on the real daemon under a real attack by other users (root is
//! needed to become them; as another user this says so and measures
//! nothing).
//!
//! - root's `lsmod` (median of 21), alone and while eight users hold every
//!   connection the daemon gives callers without privilege;
//! - root's `lsmod` while a module's init spins, until the watchdog stops it;
//! - the daemon's memory peak above idle while those 128 connections send
//!   the worst requests they may;
//! - the time SIGTERM takes: no module, a cleanup that sleeps for ever
//!   (the watchdog stops it), and a cleanup that also blocks signals (the
//!   stop deadline ends the daemon).

#[path = "../tests/common/mod.rs"]
mod common;

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::attack::{as_user, attacker, rss};
use common::{is_root, umod, Daemon};

fn median_ms(mut f: impl FnMut()) -> f64 {
    let mut v: Vec<f64> = (0..21)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn sock(d: &Daemon) -> String {
    d.socket.display().to_string()
}

/// Eight users holding 16 connections each, until dropped.
fn hold_everything(d: &Daemon) -> Vec<Child> {
    (20001..=20008)
        .map(|uid| {
            let mut c = as_user(uid, attacker(), &["hold", &sock(d), "16"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            let mut line = String::new();
            std::io::BufRead::read_line(
                &mut std::io::BufReader::new(c.stdout.as_mut().unwrap()),
                &mut line,
            )
            .unwrap();
            assert_eq!(line, "admitted 16 refused 0: \n");
            c
        })
        .collect()
}

fn connections() {
    let d = Daemon::start("bench-connections");
    d.ok(&["insmod", "hello.o"]);
    let alone = median_ms(|| {
        d.ok(&["lsmod"]);
    });
    let holders = hold_everything(&d);
    let attacked = median_ms(|| {
        d.ok(&["lsmod"]);
    });
    drop(holders);
    println!(
        "root lsmod: {alone:.1} ms alone, {attacked:.1} ms while 8 users hold all 128 connections (median of 21)"
    );
}

fn spinning() {
    let d = Daemon::start_with("bench-spin", &["--watchdog", "5"]);
    let src =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../loader/tests/fixtures/spinner.c");
    umod_loader::kit::compile(&src, &d.dir.join("spinner.o")).unwrap();
    let loader = std::process::Command::new(umod())
        .args(["--socket", &sock(&d), "insmod", "spinner.o", "spin_in=1"])
        .current_dir(&d.dir)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    while !d.ok(&["lsmod"]).contains("(initializing)") {
        std::thread::sleep(Duration::from_millis(5));
    }
    let during = median_ms(|| {
        d.ok(&["lsmod"]);
    });
    let _ = loader.wait_with_output();
    println!("root lsmod while a module's init spins: {during:.1} ms (median of 21)");
}

fn memory() {
    let d = Daemon::start("bench-memory");
    d.ok(&["lsmod"]);
    let pid = d.child.id();
    let (idle, _) = rss(pid);
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").unwrap();
    let floods: Vec<Child> = (20001..=20008)
        .map(|uid| {
            let kind = if uid % 4 == 0 { "regions" } else { "worst" };
            as_user(uid, attacker(), &["flood", &sock(&d), "16", "5", kind])
                .stdout(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    std::thread::sleep(Duration::from_secs(2));
    let root = median_ms(|| {
        d.ok(&["lsmod"]);
    });
    for mut f in floods {
        let _ = f.wait();
    }
    let (_, peak) = rss(pid);
    println!(
        "memory: idle {:.1} MiB, peak {:.1} MiB, {:.1} MiB above idle (budget 64) under the worst requests on 128 connections; root lsmod meanwhile {root:.1} ms",
        idle as f64 / (1 << 20) as f64,
        peak as f64 / (1 << 20) as f64,
        (peak - idle) as f64 / (1 << 20) as f64
    );
}

fn stopping() {
    let stop = |tag: &str, modules: &[&[&str]]| {
        let d = Daemon::start_with(tag, &["--watchdog", "1", "--stop-timeout", "3"]);
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../loader/tests/fixtures/spinner.c");
        umod_loader::kit::compile(&src, &d.dir.join("spinner.o")).unwrap();
        for m in modules {
            d.ok(m);
        }
        let t = Instant::now();
        let (code, _) = d.stop();
        (t.elapsed().as_secs_f64() * 1e3, code)
    };
    let (none, _) = stop("bench-stop-none", &[]);
    let (sleeping, _) = stop(
        "bench-stop-sleep",
        &[&["insmod", "spinner.o", "spin_in=2", "how=2"]],
    );
    let (stuck, code) = stop(
        "bench-stop-stuck",
        &[&["insmod", "spinner.o", "spin_in=2", "how=3"]],
    );
    println!(
        "SIGTERM to exit: {none:.0} ms with no module, {sleeping:.0} ms with a cleanup that sleeps (watchdog 1 s), {stuck:.0} ms (exit {code}) with one that blocks signals too (stop deadline 3 s)"
    );
}

fn main() {
    if !is_root() {
        println!("attacks: skipped: becoming other users needs root");
        return;
    }
    connections();
    spinning();
    memory();
    stopping();
}
