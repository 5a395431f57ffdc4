//! Smoke test: the classic hello module through the 2.4 path.

mod common;
use common::*;

use std::path::PathBuf;
use std::process::Command;

use umod_host::LocalCalls;
use umod_loader::{insmod, LinkOptions, ModuleObject};

fn compile(src: &str) -> Vec<u8> {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/modules")
        .join(src);
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(src.file_stem().unwrap())
        .with_extension("o");
    let st = Command::new("gcc")
        .args(umod_loader::kit::cflags())
        .arg("-c")
        .arg(&src)
        .arg("-o")
        .arg(&out)
        .status()
        .unwrap();
    assert!(st.success());
    std::fs::read(out).unwrap()
}

#[test]
fn hello_loads_prints_and_unloads() {
    let host = host();
    let bytes = compile("hello.c");
    let m = ModuleObject::parse("hello", &bytes).unwrap();
    let mut calls = LocalCalls::new(&host, root());
    let loaded = insmod::insmod(&mut calls, &m, &[], &LinkOptions::default()).unwrap();
    println!("{:#x?}", loaded.image.header);
    assert_eq!(last_log(&host), "Hello, world");
    host.delete(&root(), Some("hello")).unwrap();
    assert_eq!(last_log(&host), "Goodbye, world");
}
