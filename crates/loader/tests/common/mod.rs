//! Shared by the loader's tests: compiling fixtures under each code model.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

pub use umod_loader::kit::{CodeModel as Model, CODE_MODELS as MODELS};

pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

pub fn tmp(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("loader-tests");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

pub fn kit_include() -> String {
    format!("-I{}", umod_loader::kit::include_dir().display())
}

/// Compiles `source` with `model` (plus `extra`) into an object; its bytes.
pub fn compile(source: &str, model: &Model, extra: &[&str]) -> Vec<u8> {
    let out = tmp(&format!(
        "{}-{}-{}.o",
        source.replace('.', "_"),
        model.name,
        extra.join("").replace(['-', '='], "")
    ));
    let status = Command::new("gcc")
        .args([
            "-O2",
            "-D__KERNEL__",
            "-DMODULE",
            "-ffreestanding",
            "-fno-stack-protector",
        ])
        .args(["-fcf-protection=none", "-fno-asynchronous-unwind-tables"])
        .arg(kit_include())
        .args(model.flags)
        .args(extra)
        .arg("-c")
        .arg(fixture(source))
        .arg("-o")
        .arg(&out)
        .status()
        .expect("run gcc");
    assert!(status.success(), "gcc failed for {source} ({})", model.name);
    std::fs::read(out).unwrap()
}
