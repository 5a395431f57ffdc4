//! `umod demo`, the README's main command: on this machine's usual window
//! and on the one-view window a system without executable memory files
//! gets.

mod common;
use common::*;

use std::process::Command;

const CLEAN_END: &str = "window: 0 modules, 0 bytes in use\n";
const ONE_VIEW: &str = "umod: the system refuses executable memory files";

/// The demo's output, once it has succeeded and left the window empty.
fn clean_run(out: std::process::Output) -> String {
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.ends_with(CLEAN_END), "{text}");
    text
}

#[test]
fn the_demo_runs_and_leaves_the_window_empty() {
    let text = clean_run(Command::new(umod()).arg("demo").output().unwrap());
    assert!(!text.contains(ONE_VIEW), "{text}");
}

#[test]
fn where_memfd_noexec_is_2_the_demo_runs_on_one_view_and_says_so() {
    // vm.memfd_noexec belongs to the pid namespace: set in a new one, it
    // leaves the machine (and the other tests) alone.
    let set_and_run = format!(
        "echo 2 > /proc/sys/vm/memfd_noexec && exec {} demo",
        umod().display()
    );
    let out = Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc", "sh", "-c", &set_and_run])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() && (err.contains("unshare") || err.contains("memfd_noexec")) {
        // Not root, a container without the right, or a kernel before 6.3.
        eprintln!("skipped: no pid namespace with its own memfd_noexec here: {err}");
        return;
    }
    let text = clean_run(out);
    assert!(text.contains(ONE_VIEW), "{text}");
}
