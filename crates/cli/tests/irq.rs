//! `umod irq raise` against a daemon: an interrupt-driven module's handler
//! and tasklet run in the daemon, `/proc/interrupts` counts them, and
//! callers without CAP_SYS_MODULE may not raise a line.

mod common;
use common::*;

use std::time::{Duration, Instant};

#[test]
fn raising_a_line_runs_the_handler_and_counts_it() {
    let d = Daemon::start("irq");
    std::fs::write(d.dir.join("irqdemo.o"), umod_examples::IRQDEMO.object).unwrap();
    d.ok(&["insmod", "irqdemo.o"]);
    assert_eq!(d.ok(&["irq", "raise", "5"]), "");
    assert_eq!(d.ok(&["irq", "raise", "5"]), "");
    assert_eq!(
        d.ok(&["cat", "/proc/interrupts"]),
        "           CPU0       \n  5:          2          XT-PIC  irqdemo\n\
         NMI:          0 \nLOC:          0 \nERR:          0\n"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let log = d.ok(&["dmesg"]);
        if log.contains("irqdemo: tasklet: 2 interrupt(s) so far, in_softirq=1") {
            assert!(
                log.contains("irqdemo: irq 5: in_interrupt=1 in_irq=1 in_softirq=0"),
                "{log}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "no tasklet report: {log}");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        d.fails(&["irq", "raise", "6"]),
        "irq raise 6: no handler on IRQ 6: ENODEV (No such device)\n"
    );
    assert_eq!(
        d.fails(&["irq", "raise", "224"]),
        "irq raise 224: no such line: EINVAL (Invalid argument)\n"
    );

    let out = d
        .unprivileged_umod()
        .args(["irq", "raise", "5"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "irq raise 5: raising an interrupt needs CAP_SYS_MODULE: EPERM (Operation not permitted)\n"
    );
    // Reading the counts needs no privilege; the refused raise counted nothing.
    let out = d
        .unprivileged_umod()
        .args(["cat", "/proc/interrupts"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("  5:          2 "));

    d.ok(&["rmmod", "irqdemo"]);
    assert!(d.ok(&["dmesg"]).contains("irqdemo: 2 interrupt(s) handled"));
    assert_eq!(
        d.ok(&["cat", "/proc/interrupts"]),
        "           CPU0       \nNMI:          0 \nLOC:          0 \nERR:          0\n"
    );
}
