//! The module kit: C headers for module authors, and the compiler flags
//! that build a module the loader can load with no further options.

use std::path::PathBuf;

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
