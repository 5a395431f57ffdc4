//! The module kit: C headers for module authors, and the compiler flags
//! that build a module the loader can load with no further options.

use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The kit's include directory (`kit/include` in the source tree).
pub fn include_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../kit/include")
}

/// Flags for `gcc -c` that build a 2.4-style module against the kit: the
/// kernel code model (every address the module sees is below 2 GiB),
/// freestanding, and nothing that needs symbols the host does not export
/// (`__stack_chk_fail`, `__fentry__`, return thunks).
pub fn cflags() -> Vec<String> {
    let include = include_dir();
    let include = include.canonicalize().unwrap_or(include);
    vec![
        format!("-I{}", include.display()),
        "-D__KERNEL__".into(),
        "-DMODULE".into(),
        "-O2".into(),
        "-mcmodel=kernel".into(),
        "-fno-pic".into(),
        "-fno-pie".into(),
        "-ffreestanding".into(),
        "-fno-common".into(),
        "-fno-stack-protector".into(),
        "-fno-asynchronous-unwind-tables".into(),
        "-fno-unwind-tables".into(),
        "-fcf-protection=none".into(),
        "-mindirect-branch=keep".into(),
        "-mfunction-return=keep".into(),
    ]
}

/// Compiles the C module `src` to the object `out` with `gcc` and the kit
/// flags; gcc's own message is the error when it fails.
pub fn compile(src: &Path, out: &Path) -> io::Result<()> {
    let done = Command::new("gcc")
        .args(cflags())
        .arg("-c")
        .arg(src)
        .arg("-o")
        .arg(out)
        .output()?;
    if done.status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "gcc {}: {}",
            src.display(),
            String::from_utf8_lossy(&done.stderr).trim()
        )))
    }
}

/// A gcc code model (and PIC mode) whose objects the loader handles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CodeModel {
    /// Short name.
    pub name: &'static str,
    /// The gcc flags that select it.
    pub flags: &'static [&'static str],
}

/// Every code model the loader supports (the kit's default is `kernel`).
pub const CODE_MODELS: [CodeModel; 7] = [
    CodeModel {
        name: "kernel",
        flags: &["-mcmodel=kernel", "-fno-pic", "-fno-pie"],
    },
    CodeModel {
        name: "small-nopic",
        flags: &["-mcmodel=small", "-fno-pic", "-fno-pie"],
    },
    CodeModel {
        name: "pie-default",
        flags: &[],
    },
    CodeModel {
        name: "pic",
        flags: &["-fPIC"],
    },
    CodeModel {
        name: "pic-noplt",
        flags: &["-fPIC", "-fno-plt"],
    },
    CodeModel {
        name: "large",
        flags: &["-mcmodel=large", "-fno-pic", "-fno-pie"],
    },
    CodeModel {
        name: "large-pic",
        flags: &["-mcmodel=large", "-fPIC"],
    },
];
