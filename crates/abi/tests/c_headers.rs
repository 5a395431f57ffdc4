//! The C headers carry the 2.4 structures again (the kit's
//! `<linux/module.h>` for modules, `umod.h` for programs linking libumod);
//! the Rust definitions are the source of truth. This compiles each
//! header with an `offsetof`/`sizeof` assertion for every member, and the
//! value of every constant, taken from the Rust side: a header that drifts
//! fails to compile.

use std::fmt::Write;
use std::mem::{offset_of, size_of};
use std::path::{Path, PathBuf};
use std::process::Command;

use umod_abi::*;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `_Static_assert`s that `struct NAME`'s members sit where Rust puts them.
fn members(out: &mut String, c_struct: &str, size: usize, members: &[(&str, usize)]) {
    writeln!(
        out,
        "_Static_assert(sizeof(struct {c_struct}) == {size}, \"sizeof(struct {c_struct})\");"
    )
    .unwrap();
    for (member, offset) in members {
        writeln!(
            out,
            "_Static_assert(offsetof(struct {c_struct}, {member}) == {offset}, \"struct {c_struct}: {member}\");"
        )
        .unwrap();
    }
}

fn constants(out: &mut String, values: &[(&str, i64)]) {
    for (name, value) in values {
        writeln!(out, "_Static_assert({name} == {value}, \"{name}\");").unwrap();
    }
}

fn module_members() -> Vec<(&'static str, usize)> {
    use module::offsets::*;
    vec![
        ("size_of_struct", SIZE_OF_STRUCT),
        ("next", NEXT),
        ("name", NAME),
        ("size", SIZE),
        ("uc.usecount", USECOUNT),
        ("flags", FLAGS),
        ("nsyms", NSYMS),
        ("ndeps", NDEPS),
        ("syms", SYMS),
        ("deps", DEPS),
        ("refs", REFS),
        ("init", INIT),
        ("cleanup", CLEANUP),
        ("ex_table_start", EX_TABLE_START),
        ("ex_table_end", EX_TABLE_END),
        ("persist_start", PERSIST_START),
        ("persist_end", PERSIST_END),
        ("can_unload", CAN_UNLOAD),
        ("runsize", RUNSIZE),
        ("kallsyms_start", KALLSYMS_START),
        ("kallsyms_end", KALLSYMS_END),
        ("archdata_start", ARCHDATA_START),
        ("archdata_end", ARCHDATA_END),
        ("kernel_data", KERNEL_DATA),
    ]
}

/// What both headers declare.
fn common_checks() -> String {
    let mut c = String::from("#include <stddef.h>\n");
    members(
        &mut c,
        "module",
        size_of::<ModuleHeader>(),
        &module_members(),
    );
    members(
        &mut c,
        "module_symbol",
        size_of::<ModuleSymbol>(),
        &[
            ("value", offset_of!(ModuleSymbol, value)),
            ("name", offset_of!(ModuleSymbol, name)),
        ],
    );
    members(
        &mut c,
        "module_ref",
        size_of::<ModuleRef>(),
        &[
            ("dep", offset_of!(ModuleRef, dep)),
            ("ref", offset_of!(ModuleRef, r#ref)),
            ("next_ref", offset_of!(ModuleRef, next_ref)),
        ],
    );
    constants(
        &mut c,
        &[
            ("MOD_UNINITIALIZED", MOD_UNINITIALIZED as i64),
            ("MOD_RUNNING", MOD_RUNNING as i64),
            ("MOD_DELETED", MOD_DELETED as i64),
            ("MOD_AUTOCLEAN", MOD_AUTOCLEAN as i64),
            ("MOD_VISITED", MOD_VISITED as i64),
            ("MOD_USED_ONCE", MOD_USED_ONCE as i64),
            ("MOD_JUST_FREED", MOD_JUST_FREED as i64),
            ("MOD_INITIALIZING", MOD_INITIALIZING as i64),
        ],
    );
    c
}

/// Compiles `checks` after `#include <header>` with `-I include`; gcc's
/// complaint is the failure.
fn compile(include: &Path, header: &str, checks: &str, extra: &[&str]) -> (bool, String) {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "umod-c-headers-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join("check.c");
    std::fs::write(&src, format!("#include <{header}>\n{checks}")).unwrap();
    let out = Command::new("gcc")
        .args(["-fsyntax-only", "-Wall", "-Werror"])
        .args(extra)
        .arg(format!("-I{}", include.display()))
        .arg(&src)
        .output()
        .expect("run gcc");
    let _ = std::fs::remove_dir_all(&dir);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_kits_module_h_matches_the_rust_definitions() {
    let (ok, why) = compile(
        &repo().join("kit/include"),
        "linux/module.h",
        &common_checks(),
        &["-D__KERNEL__", "-DMODULE"],
    );
    assert!(
        ok,
        "<linux/module.h> disagrees with the Rust definitions:\n{why}"
    );
}

#[test]
fn umod_h_matches_the_rust_definitions() {
    let mut c = common_checks();
    members(
        &mut c,
        "module_info",
        size_of::<ModuleInfo>(),
        &[
            ("addr", offset_of!(ModuleInfo, addr)),
            ("size", offset_of!(ModuleInfo, size)),
            ("flags", offset_of!(ModuleInfo, flags)),
            ("usecount", offset_of!(ModuleInfo, usecount)),
        ],
    );
    members(
        &mut c,
        "kernel_sym",
        size_of::<KernelSym>(),
        &[
            ("value", offset_of!(KernelSym, value)),
            ("name", offset_of!(KernelSym, name)),
        ],
    );
    writeln!(
        c,
        "_Static_assert(sizeof(((struct kernel_sym *)0)->name) == {}, \"kernel_sym name\");",
        KernelSym::NAME_LEN
    )
    .unwrap();
    constants(
        &mut c,
        &[
            ("QM_MODULES", i64::from(QM_MODULES)),
            ("QM_DEPS", i64::from(QM_DEPS)),
            ("QM_REFS", i64::from(QM_REFS)),
            ("QM_SYMBOLS", i64::from(QM_SYMBOLS)),
            ("QM_INFO", i64::from(QM_INFO)),
            ("__NR_create_module", SYS_CREATE_MODULE as i64),
            ("__NR_init_module", SYS_INIT_MODULE as i64),
            ("__NR_delete_module", SYS_DELETE_MODULE as i64),
            ("__NR_get_kernel_syms", SYS_GET_KERNEL_SYMS as i64),
            ("__NR_query_module", SYS_QUERY_MODULE as i64),
        ],
    );
    let (ok, why) = compile(&repo().join("crates/capi/include"), "umod.h", &c, &[]);
    assert!(ok, "umod.h disagrees with the Rust definitions:\n{why}");
}

#[test]
fn a_drifted_header_is_caught() {
    // The check itself can fail: umod.h with two members swapped.
    let dir = std::env::temp_dir().join(format!("umod-c-drift-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let umod_h = std::fs::read_to_string(repo().join("crates/capi/include/umod.h")).unwrap();
    let drifted = umod_h.replacen(
        "\tunsigned long flags;\n\tunsigned int nsyms;",
        "\tunsigned int nsyms;\n\tunsigned long flags;",
        1,
    );
    assert_ne!(drifted, umod_h, "the members to swap are there");
    std::fs::write(dir.join("umod.h"), drifted).unwrap();
    let (ok, why) = compile(&dir, "umod.h", &common_checks(), &[]);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(!ok);
    assert!(why.contains("struct module: flags"), "{why}");
}
