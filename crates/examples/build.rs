//! Compiles every example module into OUT_DIR: the C ones with gcc and the
//! kit's flags (the same flags `umod cflags` prints), the Rust one with
//! `rustc --emit=obj`.

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
            Some("rs") => {
                let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
                run(
                    Command::new(rustc)
                        .args(["--edition", "2021", "--crate-type", "lib", "--emit=obj"])
                        .args([
                            "-C",
                            "opt-level=2",
                            "-C",
                            "panic=abort",
                            "-C",
                            "debuginfo=0",
                        ])
                        .arg("--crate-name")
                        .arg(&stem)
                        .arg(&src)
                        .arg("-o")
                        .arg(&obj),
                    &stem,
                )
            }
            _ => continue,
        }
    }
}
