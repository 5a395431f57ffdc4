//! Compiles every example module into OUT_DIR: the C ones with gcc and the
//! kit's flags (the same flags `umod cflags` prints); the raw `no_std` Rust
//! one with `rustc --emit=obj`; those written with the umod-module kit as
//! `umod new --rust` projects build them, a `staticlib` with fat LTO (kept
//! as `libNAME.a`), whose module object the loader takes out (`NAME.o`).

use std::path::{Path, PathBuf};
use std::process::Command;

fn run(cmd: &mut Command, what: &str) {
    let status = cmd
        .status()
        .unwrap_or_else(|e| panic!("cannot run the compiler for {what}: {e}"));
    assert!(status.success(), "compiling {what} failed");
}

fn main() {
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/modules");
    println!("cargo:rerun-if-changed={}", dir.display());
    println!(
        "cargo:rerun-if-changed={}",
        umod_loader::kit::include_dir().display()
    );
    let cc = std::env::var("CC").unwrap_or_else(|_| "gcc".into());
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("examples/modules")
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    let mut kit_rlib: Option<PathBuf> = None;
    for src in entries {
        let stem = src
            .file_stem()
            .expect("file name")
            .to_string_lossy()
            .into_owned();
        let obj = out.join(format!("{stem}.o"));
        match src.extension().and_then(|e| e.to_str()) {
            Some("c") => run(
                Command::new(&cc)
                    .args(umod_loader::kit::cflags())
                    .arg("-c")
                    .arg(&src)
                    .arg("-o")
                    .arg(&obj),
                &stem,
            ),
            Some("rs") if uses_kit(&src) => {
                let rlib = kit_rlib.get_or_insert_with(|| build_kit(&out));
                build_kit_module(&src, &stem, rlib, &out);
            }
            Some("rs") => run(
                rustc("lib", &stem)
                    .arg("--emit=obj")
                    .arg(&src)
                    .arg("-o")
                    .arg(&obj),
                &stem,
            ),
            _ => continue,
        }
    }
}

/// rustc for a crate of `crate_type` named `name`, as module projects
/// build (optimized, no unwinding, no debug information).
fn rustc(crate_type: &str, name: &str) -> Command {
    let mut cmd = Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()));
    cmd.args([
        "--edition",
        "2021",
        "--crate-type",
        crate_type,
        "--crate-name",
        name,
    ])
    .args([
        "-C",
        "opt-level=2",
        "-C",
        "panic=abort",
        "-C",
        "debuginfo=0",
    ]);
    cmd
}

/// Whether a Rust example is written with the umod-module kit.
fn uses_kit(src: &Path) -> bool {
    std::fs::read_to_string(src).is_ok_and(|s| s.contains("umod_module"))
}

/// The umod-module crate as an rlib, built as a module project's cargo
/// builds it (panic = "abort").
fn build_kit(out: &Path) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../module/src");
    println!("cargo:rerun-if-changed={}", src.display());
    let rlib = out.join("libumod_module.rlib");
    run(
        rustc("rlib", "umod_module")
            .arg(src.join("lib.rs"))
            .arg("-o")
            .arg(&rlib),
        "umod-module",
    );
    rlib
}

/// A kit module: `libNAME.a` as its project's profile builds it, and the
/// module object the loader takes out of it, `NAME.o`.
fn build_kit_module(src: &Path, stem: &str, rlib: &Path, out: &Path) {
    let archive = out.join(format!("lib{stem}.a"));
    run(
        rustc("staticlib", stem)
            .args(["-C", "lto=fat", "-C", "codegen-units=1"])
            .arg("--extern")
            .arg(format!("umod_module={}", rlib.display()))
            .arg(src)
            .arg("-o")
            .arg(&archive),
        stem,
    );
    let bytes = std::fs::read(&archive).expect("the archive rustc wrote");
    let member =
        umod_loader::archive::module_member(&bytes).unwrap_or_else(|e| panic!("{stem}: {e}"));
    std::fs::write(out.join(format!("{stem}.o")), member).expect("write the module object");
}
