//! The daemon keeps /tmp/perf-PID.map (unless `--no-perf-map`): every
//! function of every module it holds, `START SIZE function [module]`,
//! rewritten on each load and removal, and left in place when it stops
//! so that a profile recorded up to then still resolves.

mod common;
use common::*;

fn map_of(d: &Daemon) -> std::path::PathBuf {
    std::path::PathBuf::from(format!("/tmp/perf-{}.map", d.child.id()))
}

/// The map's lines naming `module`.
fn lines_of(text: &str, module: &str) -> Vec<String> {
    let tag = format!(" [{module}]");
    text.lines()
        .filter(|l| l.ends_with(&tag))
        .map(str::to_string)
        .collect()
}

#[test]
fn the_daemon_lists_module_functions_for_perf() {
    let d = Daemon::start("perfmap");
    let map = map_of(&d);
    d.ok(&["insmod", "counter.o"]);
    d.ok(&["insmod", "--oneshot", "hello.o"]);
    let text = std::fs::read_to_string(&map).unwrap();
    let counter = lines_of(&text, "counter");
    assert!(
        counter
            .iter()
            .any(|l| l.contains(" counter_bump [counter]")),
        "{text}"
    );
    assert!(
        lines_of(&text, "hello")
            .iter()
            .any(|l| l.contains(" init_module [hello]")),
        "{text}"
    );
    // START and SIZE in hex without 0x; the start is where ksyms says.
    let ksyms = d.ok(&["ksyms"]);
    let bump = ksyms
        .lines()
        .find(|l| l.contains("counter_bump"))
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap();
    let line = counter.iter().find(|l| l.contains("counter_bump")).unwrap();
    let mut parts = line.split(' ');
    let start = u64::from_str_radix(parts.next().unwrap(), 16).unwrap();
    let size = u64::from_str_radix(parts.next().unwrap(), 16).unwrap();
    assert_eq!(start, u64::from_str_radix(bump, 16).unwrap());
    assert!(size > 0 && size < 0x1000);

    d.ok(&["rmmod", "hello"]);
    let text = std::fs::read_to_string(&map).unwrap();
    assert!(lines_of(&text, "hello").is_empty(), "{text}");
    assert_eq!(lines_of(&text, "counter"), counter);

    // Stopped, the daemon leaves the map as it was.
    let mut d = d;
    let term = std::process::Command::new("kill")
        .arg("-TERM")
        .arg(d.child.id().to_string())
        .status()
        .unwrap();
    assert!(term.success());
    assert!(d.child.wait().unwrap().success());
    let after = std::fs::read_to_string(&map).unwrap();
    assert_eq!(lines_of(&after, "counter"), counter);
    drop(d);
    assert!(!map.exists(), "the test cleans up");
}

#[test]
fn no_perf_map_writes_nothing() {
    let d = Daemon::start_with("noperfmap", &["--no-perf-map"]);
    d.ok(&["insmod", "counter.o"]);
    assert!(!map_of(&d).exists());
}
