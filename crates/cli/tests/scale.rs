//! The tools at scale: a daemon holding 5 000 modules (loaded at start
//! from a --preload list), every listing complete, and insmod/rmmod in
//! the same number of requests as with one module loaded.

mod common;
use common::*;

use std::os::unix::fs::PermissionsExt;

const MODULES: usize = 5000;

/// The requests a tool sent, as its debug log names them.
fn requests(d: &Daemon, args: &[&str]) -> Vec<String> {
    let out = d
        .umod_command()
        .args(args)
        .env("RUST_LOG", "umod_client=debug")
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "umod {args:?}: {log}");
    log.lines()
        .filter_map(|l| l.split("request kind=").nth(1))
        .map(|k| k.trim_matches('"').to_string())
        .collect()
}

/// A daemon started with `count` modules from a preload list: even ones
/// copies of `counter` (two exports each), odd ones of `hello`.
fn daemon_with(tag: &str, count: usize) -> Daemon {
    let mods = scratch_dir(&format!("{tag}-mods"));
    write_examples(&mods);
    let mut list = String::new();
    for i in 0..count {
        let from = if i % 2 == 0 { "counter.o" } else { "hello.o" };
        let file = format!("m{i:05}.o");
        std::fs::hard_link(mods.join(from), mods.join(&file)).unwrap();
        list.push_str(&file);
        list.push('\n');
    }
    for f in std::fs::read_dir(&mods).unwrap() {
        let f = f.unwrap().path();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let list_file = mods.join("modules");
    std::fs::write(&list_file, list).unwrap();
    std::fs::set_permissions(&list_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let max = (count + 100).to_string();
    Daemon::start_with(
        tag,
        &[
            "--window",
            "256M",
            "--max-modules",
            &max,
            "--preload",
            list_file.to_str().unwrap(),
        ],
    )
}

#[test]
fn five_thousand_modules_are_listed_whole_and_tools_do_not_scan() {
    let d = daemon_with("scale", MODULES);
    let names = |i: usize| format!("m{i:05}");

    // lsmod: the header, then every module once, newest first.
    let lsmod = d.ok(&["lsmod"]);
    let listed: Vec<&str> = lsmod
        .lines()
        .skip(1)
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    let expected: Vec<String> = (0..MODULES).rev().map(names).collect();
    assert_eq!(listed, expected);
    assert_eq!(
        d.ok(&["cat", "/proc/modules"]),
        lsmod.split_once('\n').unwrap().1
    );
    let json: serde_json::Value = serde_json::from_str(&d.ok(&["lsmod", "--json"])).unwrap();
    let json_names: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(json_names, expected);

    // ksyms: counter's two exports from each of its 2 500 copies.
    let ksyms = d.ok(&["ksyms"]);
    assert_eq!(ksyms.lines().count(), MODULES);
    for i in (0..MODULES).step_by(2) {
        let tag = format!("\t[{}]", names(i));
        assert_eq!(ksyms.matches(&tag).count(), 2, "{tag}");
    }
    let json: serde_json::Value = serde_json::from_str(&d.ok(&["ksyms", "--json"])).unwrap();
    assert_eq!(json.as_array().unwrap().len(), MODULES);
    let all = d.ok(&["cat", "/proc/ksyms"]);
    assert!(all.lines().count() > MODULES && all.starts_with(ksyms.lines().next().unwrap()));

    // A program run under umod exec reads the same complete text.
    let out = d
        .umod_command()
        .args(["exec", "--", "cat", "/proc/modules"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        lsmod.split_once('\n').unwrap().1
    );

    // insmod and rmmod ask what they need, whatever is loaded: the
    // symbols of the module in one request (counter_user links against
    // the newest counter copy), the daemon's limit, create_module and
    // init_module; then delete_module.
    let insmod = requests(&d, &["insmod", "counter_user.o"]);
    assert_eq!(insmod, ["Resolve", "Status", "Call", "Call"]);
    let lsmod = d.ok(&["lsmod"]);
    let newest_counter = lsmod
        .lines()
        .find(|l| l.starts_with(&format!("{} ", names(MODULES - 2))))
        .unwrap();
    assert!(
        newest_counter.ends_with(" [counter_user]"),
        "{newest_counter}"
    );
    assert_eq!(requests(&d, &["rmmod", "counter_user"]), ["Call"]);
    let small = daemon_with("scale-small", 2);
    assert_eq!(requests(&small, &["insmod", "counter_user.o"]), insmod);
    assert_eq!(requests(&small, &["rmmod", "counter_user"]), ["Call"]);
}
