//! A module built from two units combined with `ld -r`, following the 2.4
//! convention (the secondary unit defines `__NO_VERSION__`).

mod common;
use common::*;

use std::path::PathBuf;
use std::process::Command;

use umod_host::LoadOptions;

/// The fixtures `units`, compiled with the kit and combined with `ld -r`.
fn combined(units: &[&str], out: &str) -> Vec<u8> {
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../loader/tests/fixtures");
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let mut objects = Vec::new();
    for unit in units {
        let o = dir.join(format!("{unit}.o"));
        umod_loader::kit::compile(&fixtures.join(format!("{unit}.c")), &o).unwrap();
        objects.push(o);
    }
    let combined = dir.join(out);
    let st = Command::new("ld")
        .arg("-r")
        .args(&objects)
        .arg("-o")
        .arg(&combined)
        .status()
        .unwrap();
    assert!(st.success(), "ld -r: duplicate definitions?");
    std::fs::read(&combined).unwrap()
}

#[test]
fn ld_r_combined_module_loads() {
    let object = combined(&["multi_main", "multi_helper"], "multi.o");
    let host = host();
    host.load_object(&root(), "multi", &object, &LoadOptions::default())
        .unwrap();
    assert_eq!(last_log(&host), "multi: 47 7");
    // kernel_version appears once, from the primary unit.
    let m = umod_loader::ModuleObject::parse("multi", &object).unwrap();
    let versions = m
        .modinfo
        .entries
        .iter()
        .filter(|(k, _)| k == "kernel_version")
        .count();
    assert_eq!(versions, 1);
    assert_eq!(m.modinfo.get("kernel_version"), Some(umod_abi::UTS_RELEASE));
}

#[test]
fn a_second_unit_without_no_version_still_links_and_loads() {
    let object = combined(&["multi_main", "multi_plain_helper"], "multi_plain.o");
    let host = host();
    host.load_object(&root(), "multi", &object, &LoadOptions::default())
        .unwrap();
    assert_eq!(last_log(&host), "multi: 47 7");
    let m = umod_loader::ModuleObject::parse("multi", &object).unwrap();
    assert_eq!(m.modinfo.get("kernel_version"), Some(umod_abi::UTS_RELEASE));
}
