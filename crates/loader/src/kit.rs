//! The module kit: C headers for module authors, and the compiler flags
//! that build a module the loader can load with no further options.

use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The headers and the Rust kit's sources, built into the crate (see
/// `build.rs`).
mod embedded {
    include!(concat!(env!("OUT_DIR"), "/kit_files.rs"));
}

pub use embedded::{FILES, RUST_FILES};

/// The kit's include directory in the source tree (`kit/include`): for
/// builds and tests inside the checkout. An installed binary unpacks
/// [`FILES`] instead (see [`unpack`]).
pub fn include_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../kit/include")
}

/// Writes the kit's headers under `dir` (made if missing), rewriting any
/// that differ; returns `dir`.
pub fn unpack(dir: &Path) -> io::Result<PathBuf> {
    for (rel, bytes) in FILES {
        let path = dir.join(rel);
        if std::fs::read(&path).ok().as_deref() == Some(*bytes) {
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        // Written beside, then renamed: a compiler running meanwhile reads
        // the old header or the new one, never half of one.
        let tmp = path.with_extension(format!("h.{}", std::process::id()));
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(&tmp, &path)?;
    }
    Ok(dir.to_path_buf())
}

/// A short fingerprint of the embedded headers, so that a cache of them is
/// one per kit.
pub fn fingerprint() -> String {
    // FNV-1a over every path and content: stable across builds and runs.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (rel, bytes) in FILES {
        for b in rel.bytes().chain([0]).chain(bytes.iter().copied()) {
            h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

/// Flags for `gcc -c` that build a 2.4-style module against the kit in the
/// source tree (see [`cflags_for`]).
pub fn cflags() -> Vec<String> {
    let include = include_dir();
    cflags_for(&include.canonicalize().unwrap_or(include))
}

/// Flags for `gcc -c` that build a 2.4-style module against the kit's
/// headers in `include`: the kit's headers and gcc's own (`stdarg.h`,
/// `stddef.h`) only, as 2.4's `-nostdinc -iwithprefix include` made it, so
/// a header the kit lacks is "no such file" rather than a user-space one;
/// the kernel code model (every address the module sees is below 2 GiB),
/// freestanding, and nothing that needs symbols the host does not export
/// (`__stack_chk_fail`, `__fentry__`, return thunks).
pub fn cflags_for(include: &Path) -> Vec<String> {
    vec![
        "-nostdinc".into(),
        "-iwithprefix".into(),
        "include".into(),
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

#[cfg(test)]
mod kit_tests {
    use super::*;

    #[test]
    fn the_embedded_headers_are_the_source_trees_and_unpack_whole() {
        assert!(FILES.iter().any(|(rel, _)| *rel == "linux/module.h"));
        for (rel, bytes) in FILES {
            assert_eq!(
                std::fs::read(include_dir().join(rel)).unwrap(),
                *bytes,
                "{rel}"
            );
        }
        let dir = std::env::temp_dir().join(format!("umod-kit-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        unpack(&dir).unwrap();
        // A damaged header is rewritten; the others are left alone.
        std::fs::write(dir.join("linux/module.h"), b"broken").unwrap();
        unpack(&dir).unwrap();
        for (rel, bytes) in FILES {
            assert_eq!(std::fs::read(dir.join(rel)).unwrap(), *bytes, "{rel}");
        }
        assert_eq!(fingerprint(), fingerprint());
        assert_eq!(fingerprint().len(), 16);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Compiles `source` with the kit; gcc's message on failure.
    fn build(tag: &str, source: &str) -> Result<(), String> {
        let dir = std::env::temp_dir().join(format!("umod-kit-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let src = dir.join("m.c");
        std::fs::write(&src, source).unwrap();
        let r = compile(&src, &dir.join("m.o")).map_err(|e| e.to_string());
        std::fs::remove_dir_all(&dir).unwrap();
        r
    }

    #[test]
    fn only_the_kit_and_gccs_own_headers_are_found() {
        // gcc's own headers are there, as 2.4's -iwithprefix include had them.
        let ok = "#include <stdarg.h>\n#include <stddef.h>\n#include <linux/module.h>\n\
                  int init_module(void) { return (int)sizeof(va_list) - (int)offsetof(struct module, size_of_struct); }\n";
        build("gcc-own", ok).unwrap();
        // A user-space header is not found, nor a header the kit lacks.
        for missing in ["stdio.h", "linux/no_such_kit_header.h"] {
            let err = build("missing", &format!("#include <{missing}>\n")).unwrap_err();
            assert!(
                err.contains(&format!("{missing}: No such file or directory")),
                "{err}"
            );
        }
    }
}
