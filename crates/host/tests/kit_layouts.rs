//! The kit's headers declare the structures modules share with the host
//! (`struct proc_dir_entry`, `struct timer_list`); the host reads them
//! through offsets of its own. This compiles the headers with an
//! `offsetof` assertion for every offset the host uses: a header or an
//! offset that drifts fails to compile.

use std::fmt::Write;
use std::path::Path;
use std::process::Command;

use umod_host::services::proc::{self, field};
use umod_host::services::timers::{TIMER_DATA, TIMER_FUNCTION, TIMER_SIZE};

fn check(header: &str, asserts: &[(String, u64)]) {
    let mut c = format!("#include <stddef.h>\n#include <{header}>\n");
    for (expr, value) in asserts {
        writeln!(c, "_Static_assert({expr} == {value}, \"{expr}\");").unwrap();
    }
    let dir = std::env::temp_dir().join(format!(
        "umod-kit-layouts-{}-{}",
        std::process::id(),
        header.replace(['/', '.'], "_")
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join("check.c");
    std::fs::write(&src, c).unwrap();
    let include = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../kit/include");
    let out = Command::new("gcc")
        .args(["-fsyntax-only", "-D__KERNEL__", "-DMODULE"])
        .arg(format!("-I{}", include.display()))
        .arg(&src)
        .output()
        .expect("run gcc");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "<{header}> disagrees with the host:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn offset(ty: &str, member: &str, value: u64) -> (String, u64) {
    (format!("offsetof({ty}, {member})"), value)
}

#[test]
fn proc_dir_entry_is_where_the_host_reads_it() {
    let e = "struct proc_dir_entry";
    check(
        "linux/proc_fs.h",
        &[
            offset(e, "namelen", field::NAMELEN),
            offset(e, "name", field::NAME),
            offset(e, "mode", field::MODE),
            offset(e, "uid", field::UID),
            offset(e, "gid", field::GID),
            offset(e, "data", field::DATA),
            offset(e, "read_proc", field::READ_PROC),
            (format!("sizeof({e}) <= {}", proc::NAME_AT), 1),
        ],
    );
}

#[test]
fn timer_list_is_where_the_host_reads_it() {
    let t = "struct timer_list";
    check(
        "linux/timer.h",
        &[
            offset(t, "data", TIMER_DATA),
            offset(t, "function", TIMER_FUNCTION),
            (format!("sizeof({t})"), TIMER_SIZE),
        ],
    );
}

#[test]
fn tasklet_and_task_queue_structs_have_2_4_layouts() {
    // kapi-2.4.md §6.3, §6.4; deferred.c reads them with the same offsets
    // (asserted there).
    let t = "struct tasklet_struct";
    check(
        "linux/interrupt.h",
        &[
            offset(t, "next", 0),
            offset(t, "state", 8),
            offset(t, "count", 16),
            offset(t, "func", 24),
            offset(t, "data", 32),
            (format!("sizeof({t})"), 40),
            offset("struct irqaction", "handler", 0),
            offset("struct irqaction", "next", 40),
            ("NR_IRQS".into(), 224),
            ("IMMEDIATE_BH".into(), 9),
            ("SA_SHIRQ".into(), 0x0400_0000),
        ],
    );
    let q = "struct tq_struct";
    check(
        "linux/tqueue.h",
        &[
            offset(q, "list", 0),
            offset(q, "sync", 16),
            offset(q, "routine", 24),
            offset(q, "data", 32),
            (format!("sizeof({q})"), 40),
        ],
    );
}
