//! Deferred work and software interrupts: timers, tasklets, task queues
//! and keventd in their 2.4 contexts; interrupt lines raised by the host;
//! the global interrupt lock; what a module leaves behind at unload; and
//! faults in deferred work.

mod common;
use common::*;

use std::time::{Duration, Instant};

use umod_abi::Errno;
use umod_examples::{DEFERRED, IRQDEMO};
use umod_host::{Host, LoadOptions};

fn load(host: &Host, name: &str, object: &[u8], args: &[&str]) -> Result<u64, Errno> {
    let options = LoadOptions {
        args: args.iter().map(|a| a.to_string()).collect(),
        ..LoadOptions::default()
    };
    host.load_object(&root(), name, object, &options)
        .map(|l| l.addr)
        .map_err(|e| e.errno())
}

fn texts(host: &Host) -> Vec<String> {
    host.dmesg().into_iter().map(|r| r.text).collect()
}

/// Waits until `done` holds (10 s at most).
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn has_line(host: &Host, line: &str) -> bool {
    texts(host).iter().any(|t| t == line)
}

#[test]
fn work_runs_in_its_2_4_context() {
    let host = host();
    load(&host, "deferred", DEFERRED.object, &[]).unwrap();
    let all_done = "timer 3\ntasklet 1\ntq_timer 3\ntq_immediate 3\nkeventd 3\n";
    wait_until("every context to run", || {
        host.read_proc("deferred").unwrap() == all_done.as_bytes()
    });
    let log = texts(&host);
    for line in [
        "deferred: init: in_interrupt=0 in_irq=0 in_softirq=0",
        "deferred: bh disabled: in_interrupt=1 in_softirq=1",
        "deferred: queue_task twice: 1 0",
        "deferred: tq_disk ran",
        "deferred: timer: in_interrupt=1 in_irq=0 in_softirq=1",
        "deferred: tasklet: in_interrupt=1 in_irq=0 in_softirq=1",
        "deferred: tq_timer: in_interrupt=1 in_irq=0 in_softirq=1",
        "deferred: tq_immediate: in_interrupt=1 in_irq=0 in_softirq=1",
        "deferred: keventd: in_interrupt=0 in_irq=0 in_softirq=0",
    ] {
        assert!(
            log.iter().any(|t| t == line),
            "missing {line:?} in {log:#?}"
        );
    }
    host.delete(&root(), Some("deferred")).unwrap();
    let log = texts(&host);
    // A tasklet scheduled twice before it ran ran once.
    assert!(log.contains(&"deferred: tasklet ran 1 time(s)".to_string()));
    assert!(!log.iter().any(|t| t.contains("left behind")), "{log:#?}");
}

#[test]
fn unload_removes_what_the_module_left_registered() {
    let host = host();
    let tq_disk = host.lookup_kernel_symbol("tq_disk").unwrap().unwrap();
    load(&host, "deferred", DEFERRED.object, &["leak=1"]).unwrap();
    let head = host.read_memory(tq_disk, 8).unwrap().unwrap();
    assert_ne!(head, tq_disk.to_le_bytes(), "tq_disk holds the task");
    host.delete(&root(), Some("deferred")).unwrap();
    let log = texts(&host);
    for line in [
        "deferred: removed 1 pending timer(s) it left behind",
        "deferred: removed 1 scheduled tasklet(s) it left behind",
        "deferred: removed 1 queued task(s) it left behind",
    ] {
        assert!(
            log.iter().any(|t| t == line),
            "missing {line:?} in {log:#?}"
        );
    }
    let head = host.read_memory(tq_disk, 16).unwrap().unwrap();
    assert_eq!(head[..8], tq_disk.to_le_bytes(), "tq_disk is empty again");
    assert_eq!(head[8..], tq_disk.to_le_bytes());
    assert_eq!(host.pending_timers(), 0);
    // The host goes on: the module loads and runs again.
    load(&host, "deferred", DEFERRED.object, &[]).unwrap();
    wait_until("keventd work", || {
        has_line(
            &host,
            "deferred: keventd: in_interrupt=0 in_irq=0 in_softirq=0",
        )
    });
}

const EMPTY_INTERRUPTS: &str =
    "           CPU0       \nNMI:          0 \nLOC:          0 \nERR:          0\n";

fn interrupts(host: &Host) -> String {
    String::from_utf8(host.read_proc("interrupts").unwrap()).unwrap()
}

#[test]
fn raised_interrupts_run_the_handler_in_irq_context_and_are_counted() {
    let host = host();
    assert_eq!(interrupts(&host), EMPTY_INTERRUPTS);
    load(&host, "irqdemo", IRQDEMO.object, &[]).unwrap();
    assert!(has_line(&host, "irqdemo: bad line -22, no handler -22"));
    for _ in 0..3 {
        host.raise_irq(5).unwrap();
    }
    assert_eq!(host.raise_irq(6), Err(Errno::ENODEV), "no handler");
    assert_eq!(host.raise_irq(224), Err(Errno::EINVAL), "past NR_IRQS");
    assert!(has_line(
        &host,
        "irqdemo: irq 5: in_interrupt=1 in_irq=1 in_softirq=0"
    ));
    wait_until("the tasklet to report", || {
        has_line(
            &host,
            "irqdemo: tasklet: 3 interrupt(s) so far, in_softirq=1",
        )
    });
    assert_eq!(
        interrupts(&host),
        "           CPU0       \n  5:          3          XT-PIC  irqdemo\n\
         NMI:          0 \nLOC:          0 \nERR:          0\n"
    );
    // A second driver shares the line; one asking for it alone is refused.
    load(&host, "irqdemo_b", IRQDEMO.object, &[]).unwrap();
    assert_eq!(
        load(&host, "irqdemo_c", IRQDEMO.object, &["shared=0"]),
        Err(Errno::EBUSY)
    );
    load(&host, "irqdemo_d", IRQDEMO.object, &["irq=40"]).unwrap();
    host.raise_irq(5).unwrap();
    assert_eq!(
        interrupts(&host),
        "           CPU0       \n  5:          4          XT-PIC  irqdemo, irqdemo\n \
         40:          0    IO-APIC-edge  irqdemo\n\
         NMI:          0 \nLOC:          0 \nERR:          0\n"
    );
    for name in ["irqdemo_d", "irqdemo_b", "irqdemo"] {
        host.delete(&root(), Some(name)).unwrap();
    }
    assert!(has_line(&host, "irqdemo: 4 interrupt(s) handled"));
    assert_eq!(interrupts(&host), EMPTY_INTERRUPTS);
    assert_eq!(host.raise_irq(5), Err(Errno::ENODEV));
}

#[test]
fn irq_handlers_left_requested_are_freed_at_unload_and_after_a_failed_init() {
    let host = host();
    load(&host, "irqdemo", IRQDEMO.object, &["keep=1"]).unwrap();
    host.delete(&root(), Some("irqdemo")).unwrap();
    assert!(has_line(&host, "irqdemo: freed IRQ 5 it left requested"));
    assert_eq!(interrupts(&host), EMPTY_INTERRUPTS);
    host.clear_dmesg();
    assert_eq!(
        load(&host, "irqdemo", IRQDEMO.object, &["fail=1"]),
        Err(Errno::EIO)
    );
    assert!(has_line(&host, "irqdemo: freed IRQ 5 it left requested"));
    assert_eq!(interrupts(&host), EMPTY_INTERRUPTS);
}

#[test]
fn the_global_interrupt_lock_holds_off_bottom_halves_not_tasklets() {
    let host = host();
    load(&host, "clihold", &fixture("clihold"), &[]).unwrap();
    let log = texts(&host);
    assert!(
        log.contains(
            &"clihold: flags 1 then 0; under cli: bh 0 tasklet 1; after sti: bh 1".to_string()
        ),
        "{log:#?}"
    );
    assert!(
        log.iter()
            .any(|t| t.starts_with("global_restore_flags: 00000007 (")),
        "{log:#?}"
    );
}

#[test]
fn a_cli_left_held_is_released_when_the_module_code_returns() {
    let host = host();
    load(&host, "clihold", &fixture("clihold"), &["leave_held=1"]).unwrap();
    assert!(has_line(
        &host,
        "clihold: returned holding the global interrupt lock (cli); released"
    ));
    // Bottom halves run again: a timer module ticks.
    load(&host, "deferred", DEFERRED.object, &[]).unwrap();
    wait_until("the timer", || {
        has_line(
            &host,
            "deferred: timer: in_interrupt=1 in_irq=0 in_softirq=1",
        )
    });
}

#[test]
fn faults_in_deferred_work_oops_that_module_and_the_threads_go_on() {
    for (where_, what) in [
        ("tasklet", "a tasklet"),
        ("keventd", "a scheduled task"),
        ("tq_immediate", "a task queue routine"),
        ("irq", "an irq handler"),
    ] {
        let host = host();
        let arg = format!("where={where_}");
        load(&host, "softcrash", &fixture("softcrash"), &[&arg]).unwrap();
        if where_ == "irq" {
            host.raise_irq(7).unwrap();
        }
        let oops =
            format!("Oops: SIGSEGV (invalid memory reference) in module softcrash during {what}");
        wait_until(&oops, || texts(&host).iter().any(|t| t == &oops));
        // The same threads still run other modules' work.
        load(&host, "deferred", DEFERRED.object, &[]).unwrap();
        wait_until("the other module's work", || {
            host.read_proc("deferred").unwrap()
                == b"timer 3\ntasklet 1\ntq_timer 3\ntq_immediate 3\nkeventd 3\n"
        });
        if where_ == "irq" {
            host.raise_irq(7).unwrap();
        }
    }
}

#[test]
fn disable_irq_holds_an_interrupt_until_enable_irq() {
    let host = host();
    load(&host, "irqctl", &fixture("irqctl"), &[]).unwrap();
    // Disabled twice, enabled once: the interrupt waits.
    host.raise_irq(9).unwrap();
    assert!(!has_line(&host, "irqctl: irq 9 handled"));
    assert!(interrupts(&host).contains("  9:          1          XT-PIC  irqctl\n"));
    wait_until("the handler, once enabled", || {
        has_line(&host, "irqctl: irq 9 handled")
    });
    let log = texts(&host);
    let enabling = log.iter().position(|t| t == "irqctl: enabling").unwrap();
    let handled = log
        .iter()
        .position(|t| t == "irqctl: irq 9 handled")
        .unwrap();
    assert!(enabling < handled, "{log:#?}");
    assert!(
        log.iter()
            .any(|t| t.starts_with("enable_irq(9) unbalanced from ")),
        "{log:#?}"
    );
    wait_until("the bottom half and the tasklet", || {
        has_line(
            &host,
            "irqctl: serial bh: in_interrupt=1 in_irq=0 in_softirq=1",
        ) && has_line(&host, "irqctl: hi tasklet 9: in_softirq=1")
    });
    host.raise_irq(9).unwrap();
    assert_eq!(
        texts(&host)
            .iter()
            .filter(|t| *t == "irqctl: irq 9 handled")
            .count(),
        2
    );
    host.delete(&root(), Some("irqctl")).unwrap();
    assert!(has_line(&host, "Trying to free free IRQ9"));
    assert_eq!(interrupts(&host), EMPTY_INTERRUPTS);
    assert!(!texts(&host).iter().any(|t| t.contains("left")));
}

#[test]
fn spinning_deferred_work_is_stopped_and_the_threads_go_on() {
    for (where_, what) in [("tasklet", "a tasklet"), ("keventd", "a scheduled task")] {
        let host = Host::with_config(umod_host::HostConfig {
            window_size: 16 << 20,
            watchdog: Duration::from_millis(300),
            ..Default::default()
        })
        .unwrap();
        let arg = format!("where={where_}");
        load(&host, "softcrash", &fixture("softcrash"), &[&arg, "spin=1"]).unwrap();
        let lockup = format!(
            "BUG: soft lockup: softcrash stuck for 0.3s during {what}; stopped by the watchdog"
        );
        wait_until(&lockup, || texts(&host).iter().any(|t| t == &lockup));
        load(&host, "deferred", DEFERRED.object, &[]).unwrap();
        wait_until("the other module's work", || {
            host.read_proc("deferred").unwrap()
                == b"timer 3\ntasklet 1\ntq_timer 3\ntq_immediate 3\nkeventd 3\n"
        });
    }
}
