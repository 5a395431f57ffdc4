//! Differential correctness: the relocation-shapes fixture, compiled under
//! every supported code model and loaded through both paths, computes what
//! the same source computes as a normal native program.

mod common;
use common::*;

use std::path::PathBuf;
use std::process::Command;

use umod_host::{LoadOptions, LocalCalls};
use umod_loader::kit::{CodeModel, CODE_MODELS};
use umod_loader::{insmod, LinkOptions, ModuleObject};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../loader/tests/fixtures")
        .join(name)
}

fn tmp(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("differential");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

const COMMON_FLAGS: [&str; 6] = [
    "-O2",
    "-D__KERNEL__",
    "-DMODULE",
    "-fno-stack-protector",
    "-fcf-protection=none",
    "-fno-asynchronous-unwind-tables",
];

fn gcc(args: &[String]) {
    let out = Command::new("gcc").args(args).output().expect("run gcc");
    assert!(
        out.status.success(),
        "gcc {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The line the native build of `source` prints.
fn native(source: &str, extra: &[&str]) -> String {
    let exe = tmp(&format!("{source}{}-native", extra.join("")));
    let mut args: Vec<String> = COMMON_FLAGS.iter().map(|s| s.to_string()).collect();
    args.push(format!("-I{}", umod_loader::kit::include_dir().display()));
    args.extend(extra.iter().map(|s| s.to_string()));
    args.extend(
        [fixture(source), fixture("native_main.c")]
            .iter()
            .map(|p| p.display().to_string()),
    );
    args.extend(["-o".to_string(), exe.display().to_string()]);
    gcc(&args);
    let out = Command::new(&exe).output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .trim_end()
        .to_string()
}

fn module(source: &str, model: &CodeModel, extra: &[&str]) -> Vec<u8> {
    let obj = tmp(&format!("{source}-{}{}.o", model.name, extra.join("")));
    let mut args: Vec<String> = COMMON_FLAGS.iter().map(|s| s.to_string()).collect();
    args.push(format!("-I{}", umod_loader::kit::include_dir().display()));
    args.extend(model.flags.iter().chain(extra).map(|s| s.to_string()));
    args.extend([
        "-ffreestanding".into(),
        "-c".into(),
        fixture(source).display().to_string(),
    ]);
    args.extend(["-o".to_string(), obj.display().to_string()]);
    gcc(&args);
    std::fs::read(obj).unwrap()
}

fn check(extra: &[&str]) {
    let expected = native("shapes.c", extra);
    assert!(expected.starts_with("shapes: "), "{expected}");
    for model in &CODE_MODELS {
        let object = module("shapes.c", model, extra);
        let host = host();
        // The 2.4 path...
        let m = ModuleObject::parse("shapes", &object).unwrap();
        let mut calls = LocalCalls::new(&host, root());
        insmod::insmod(&mut calls, &m, &[], &LinkOptions::default()).unwrap();
        assert_eq!(last_log(&host), expected, "2.4 path, {}", model.name);
        host.delete(&root(), Some("shapes")).unwrap();
        // ...and the one-shot path.
        host.load_object(&root(), "shapes", &object, &LoadOptions::default())
            .unwrap();
        assert_eq!(last_log(&host), expected, "one-shot, {}", model.name);
        host.delete(&root(), Some("shapes")).unwrap();
    }
}

#[test]
fn shapes_compute_the_native_result_in_every_code_model() {
    check(&[]);
}

#[test]
fn common_symbols_too() {
    check(&["-fcommon", "-DWITH_COMMON"]);
}
