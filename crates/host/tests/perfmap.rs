//! `/tmp/perf-PID.map`: a host with `perf_map` lists every function of
//! every loaded module there (`START SIZE function [module]`), rewritten
//! on each load and removal by renaming a new file over it, which never
//! writes through a link planted at its name. One test: the map is the
//! process's, shared by every host in it.

mod common;
use common::*;

use std::collections::BTreeSet;
use std::os::unix::fs::MetadataExt;

use umod_examples::{COUNTER, COUNTER_USER, HELLO};
use umod_host::{Host, HostConfig, LoadOptions, LocalCalls};
use umod_loader::LinkOptions;

/// The map's lines as (start, size, name, module).
fn read_map() -> BTreeSet<(u64, u64, String, String)> {
    let text = std::fs::read_to_string(Host::perf_map_path()).unwrap();
    text.lines()
        .map(|l| {
            let mut parts = l.splitn(3, ' ');
            let start = u64::from_str_radix(parts.next().unwrap(), 16).unwrap();
            let size = u64::from_str_radix(parts.next().unwrap(), 16).unwrap();
            let rest = parts.next().unwrap();
            let (name, module) = rest.rsplit_once(" [").unwrap();
            (
                start,
                size,
                name.to_string(),
                module.trim_end_matches(']').to_string(),
            )
        })
        .collect()
}

/// What the map should say of `module`: its own symbol table.
fn expected(host: &Host, module: &str) -> BTreeSet<(u64, u64, String, String)> {
    host.module_functions(module)
        .unwrap()
        .into_iter()
        .map(|f| (f.start, f.size, f.name, module.to_string()))
        .collect()
}

fn of(
    map: &BTreeSet<(u64, u64, String, String)>,
    module: &str,
) -> BTreeSet<(u64, u64, String, String)> {
    map.iter().filter(|l| l.3 == module).cloned().collect()
}

#[test]
fn the_map_lists_what_is_loaded_and_never_follows_a_planted_link() {
    let path = Host::perf_map_path();
    assert_eq!(
        path,
        std::path::PathBuf::from(format!("/tmp/perf-{}.map", std::process::id()))
    );

    // Someone planted a link at the map's name, to a file of theirs.
    let victim = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("perfmap-victim-{}", std::process::id()));
    std::fs::write(&victim, "precious\n").unwrap();
    let _ = std::fs::remove_file(&path);
    std::os::unix::fs::symlink(&victim, &path).unwrap();

    let host = Host::with_config(HostConfig {
        window_size: 16 << 20,
        perf_map: true,
        ..Default::default()
    })
    .unwrap();
    // One module the 2.4 way, two one-shot.
    let mut calls = LocalCalls::new(&host, root());
    let m = umod_loader::ModuleObject::parse("counter", COUNTER.object).unwrap();
    umod_loader::insmod::insmod(&mut calls, &m, &[], &LinkOptions::default()).unwrap();
    for (name, example) in [("counter_user", COUNTER_USER), ("hello", HELLO)] {
        host.load_object(&root(), name, example.object, &LoadOptions::default())
            .unwrap();
    }

    // The link was replaced, not written through.
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    let meta = std::fs::symlink_metadata(&path).unwrap();
    assert!(meta.file_type().is_file(), "a regular file now");
    assert_eq!(meta.uid(), euid());

    // Every function of every module, exactly as its symbol table has it.
    let map = read_map();
    for module in ["counter", "counter_user", "hello"] {
        let want = expected(&host, module);
        assert!(!want.is_empty(), "{module} has functions");
        assert_eq!(of(&map, module), want, "{module}");
    }
    // And against the object's own symbols: counter_bump where the
    // module's exports say it is.
    let bump = host
        .module_functions("counter")
        .unwrap()
        .into_iter()
        .find(|f| f.name == "counter_bump")
        .unwrap();
    let exported = host
        .resolve_symbols(&root(), &[b"counter_bump"])
        .unwrap()
        .lookup(b"counter_bump")
        .unwrap()
        .0
        .value;
    assert_eq!(bump.start, exported);
    assert!(map.contains(&(
        bump.start,
        bump.size,
        "counter_bump".into(),
        "counter".into()
    )));
    // No two functions overlap.
    let mut ranges: Vec<(u64, u64)> = map.iter().map(|l| (l.0, l.0 + l.1)).collect();
    ranges.sort_unstable();
    assert!(ranges.windows(2).all(|w| w[0].1 <= w[1].0), "{ranges:?}");

    // Removal updates it; no temporary file is left behind.
    host.delete(&root(), Some("hello")).unwrap();
    let map = read_map();
    assert!(of(&map, "hello").is_empty());
    assert_eq!(of(&map, "counter"), expected(&host, "counter"));
    let leftovers: Vec<String> = std::fs::read_dir("/tmp")
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(&format!(".perf-{}.map.", std::process::id())))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // A host without perf_map adds nothing.
    let quiet = host_without_map();
    quiet
        .load_object(
            &root(),
            "quiet_hello",
            HELLO.object,
            &LoadOptions::default(),
        )
        .unwrap();
    assert!(of(&read_map(), "quiet_hello").is_empty());

    // Shutting down leaves the last map for a profile to be read after.
    let before = read_map();
    drop(host);
    assert_eq!(read_map(), before);
    let _ = std::fs::remove_file(&path);
    let _ = std::fs::remove_file(&victim);
}

fn host_without_map() -> Host {
    Host::with_config(HostConfig {
        window_size: 16 << 20,
        ..Default::default()
    })
    .unwrap()
}

/// This process's effective uid.
fn euid() -> u32 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
    line.split_whitespace().nth(2).unwrap().parse().unwrap()
}
