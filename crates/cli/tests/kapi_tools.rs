//! The 2.4 API's base services through the tools and a real daemon:
//! `umod cat /proc/ioports` and `/proc/iomem`, and insmod's reason for a
//! refused symbol.

mod common;
use common::*;

use std::path::PathBuf;

/// Compiles the host test module `NAME.c` into the daemon's directory.
fn build(d: &Daemon, name: &str) {
    let src =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("../host/tests/kapi/{name}.c"));
    umod_loader::kit::compile(&src, &d.dir.join(format!("{name}.o")))
        .unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn cat_proc_ioports_and_iomem_show_the_regions_modules_hold() {
    let d = Daemon::start("kapi-ioports");
    build(&d, "kapi_res");
    assert_eq!(d.ok(&["cat", "/proc/ioports"]), "");
    d.ok(&["insmod", "kapi_res.o"]);
    assert_eq!(
        d.ok(&["cat", "/proc/ioports"]),
        "0300-031f : kapi_ports\ne000-e0ff : kapi card\n  e000-e01f : kapi_sub\n"
    );
    assert_eq!(
        d.ok(&["cat", "/proc/iomem"]),
        "000d0000-000d0fff : kapi_mem\n"
    );
    d.ok(&["rmmod", "kapi_res"]);
    assert_eq!(d.ok(&["cat", "/proc/ioports"]), "");
}

#[test]
fn insmod_says_why_a_refused_symbol_is_missing() {
    let d = Daemon::start("kapi-refused");
    build(&d, "kapi_syscall");
    assert_eq!(
        d.fails(&["insmod", "kapi_syscall.o"]),
        "insmod: kapi_syscall.o: unresolved symbol sys_call_table (no system call table \
         in user space: hooking system calls cannot work)\n"
    );
}
