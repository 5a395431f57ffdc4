//! Module code that never returns (a loop, a loop through host services, a
//! sleep that never wakes) in init, cleanup, a timer, a /proc read or
//! can_unload: the watchdog stops it and reports a soft lockup naming the
//! module and where it spun; the module is left as a faulting call leaves
//! it; and while the code runs, the host serves everyone else.

mod common;
use common::*;

use std::sync::Arc;
use std::time::{Duration, Instant};

use umod_abi::{Errno, MOD_INITIALIZING, MOD_RUNNING};
use umod_host::services::TAINT_DIE;
use umod_host::{Host, HostConfig, LoadOptions, LocalCalls};
use umod_loader::{LinkOptions, ModuleObject};

const LIMIT: Duration = Duration::from_millis(300);

/// How the code never returns, and a word for the failure message.
const HOWS: [(&str, &str); 3] = [
    ("how=0", "loop"),
    ("how=1", "printk loop"),
    ("how=2", "pause"),
];

fn host() -> Arc<Host> {
    Arc::new(
        Host::with_config(HostConfig {
            window_size: 16 << 20,
            watchdog: LIMIT,
            ..Default::default()
        })
        .unwrap(),
    )
}

fn load(host: &Host, object: &[u8], args: &[&str]) -> Result<u64, Errno> {
    let options = LoadOptions {
        args: args.iter().map(|a| a.to_string()).collect(),
        ..Default::default()
    };
    host.load_object(&root(), "spinner", object, &options)
        .map(|l| l.addr)
        .map_err(|e| e.errno())
}

/// The lockup report for `what`, with the place it spun in the module.
fn assert_lockup(host: &Host, what: &str, how: &str) {
    let text = log_text(host);
    assert!(
        text.contains(&format!(
            "<1>BUG: soft lockup: spinner stuck for 0.3s during {what}; stopped by the watchdog\n"
        )),
        "{how}: {text}"
    );
    assert!(
        text.contains("<1>  spinning at spinner+0x"),
        "{how}: where it spun: {text}"
    );
    assert!(
        text.contains(&format!(
            "<3>watchdog: spinner: {what} has run for 300 ms; stopping it"
        )),
        "{how}: {text}"
    );
    assert_ne!(host.taint() & TAINT_DIE, 0);
}

/// Waits until `cond` holds (the test fails after 20 s).
fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn a_spinning_init_is_stopped_while_the_host_serves_others() {
    let object = fixture("spinner");
    for (how, word) in HOWS {
        let host = host();
        // The 2.4 path, in another thread: create, then an init that spins.
        let m = ModuleObject::parse("spinner", &object).unwrap();
        let args = vec!["spin_in=1".to_string(), how.to_string()];
        let symbols =
            umod_loader::insmod::gather_symbols(&mut LocalCalls::new(&host, root())).unwrap();
        let plan = m.plan(&symbols, &args, &LinkOptions::default()).unwrap();
        let addr = host.create(&root(), "spinner", plan.size()).unwrap();
        let image = plan.relocate(addr).unwrap();
        let loader = {
            let host = Arc::clone(&host);
            std::thread::spawn(move || host.init(&root(), "spinner", &image.bytes))
        };
        // While init runs, everyone else is served: the list shows it
        // initializing, another module loads and goes, and removing the
        // spinner is refused.
        wait_for("init to start", || {
            snap(&host)
                .modules
                .first()
                .is_some_and(|m| m.flags & MOD_INITIALIZING != 0)
        });
        assert!(
            String::from_utf8(host.proc_modules().unwrap())
                .unwrap()
                .contains("(initializing)"),
            "{word}"
        );
        host.load_object(
            &root(),
            "hello",
            umod_examples::HELLO.object,
            &LoadOptions::default(),
        )
        .unwrap();
        host.delete(&root(), Some("hello")).unwrap();
        assert_eq!(host.delete(&root(), Some("spinner")), Err(Errno::EBUSY));
        assert_eq!(loader.join().unwrap(), Err(Errno::ETIME), "{word}");
        assert_lockup(&host, "init", word);
        // Left as a faulting init leaves it: uninitialized, removable.
        let s = snap(&host);
        assert_eq!(
            (s.modules[0].flags, s.modules[0].usecount),
            (0, 0),
            "{word}"
        );
        host.delete(&root(), Some("spinner")).unwrap();
        assert_eq!(host.window_usage().in_use, 0);
        // The one-shot path: nothing remains at all.
        assert_eq!(load(&host, &object, &["spin_in=1", how]), Err(Errno::ETIME));
        assert!(snap(&host).modules.is_empty());
    }
}

#[test]
fn a_spinning_cleanup_is_stopped_and_the_module_goes() {
    let object = fixture("spinner");
    for (how, word) in HOWS {
        let host = host();
        load(&host, &object, &["spin_in=2", how]).unwrap();
        host.delete(&root(), Some("spinner")).unwrap();
        assert_lockup(&host, "cleanup", word);
        assert!(!log_text(&host).contains("spinner: gone"), "{word}");
        assert!(snap(&host).modules.is_empty());
        assert_eq!(host.window_usage().in_use, 0);
    }
}

#[test]
fn a_spinning_timer_is_stopped_and_holds_up_nobody() {
    let object = fixture("spinner");
    for (how, word) in HOWS {
        let host = host();
        load(&host, &object, &["spin_in=3", how]).unwrap();
        wait_for("the timer to spin", || {
            log_text(&host).contains("a timer has run for")
        });
        // The clock still ticks and calls are served while it spins or
        // after it was stopped.
        let j0 = host.read_memory(host.jiffies_addr(), 8).unwrap().unwrap();
        wait_for("the clock", || {
            host.read_memory(host.jiffies_addr(), 8).unwrap().unwrap() != j0
        });
        wait_for("the lockup report", || {
            log_text(&host).contains("during a timer; stopped")
        });
        assert_lockup(&host, "a timer", word);
        let s = snap(&host);
        assert_eq!(s.modules[0].flags & MOD_RUNNING, MOD_RUNNING);
        host.delete(&root(), Some("spinner")).unwrap();
        assert_eq!(host.window_usage().in_use, 0);
    }
}

#[test]
fn a_spinning_proc_read_is_eio() {
    let object = fixture("spinner");
    for (how, word) in HOWS {
        let host = host();
        load(&host, &object, &["spin_in=4", how]).unwrap();
        assert_eq!(host.read_proc("spinner"), Err(Errno::EIO), "{word}");
        assert_lockup(&host, "a /proc read", word);
        host.delete(&root(), Some("spinner")).unwrap();
        assert!(host.proc_entries().is_empty());
    }
}

#[test]
fn a_spinning_can_unload_keeps_the_module_as_busy() {
    let object = fixture("spinner");
    for (how, word) in HOWS {
        let host = host();
        load(&host, &object, &["spin_in=5", how]).unwrap();
        assert_eq!(
            host.delete(&root(), Some("spinner")),
            Err(Errno::EBUSY),
            "{word}"
        );
        assert_lockup(&host, "can_unload", word);
        assert_eq!(snap(&host).modules[0].flags & MOD_RUNNING, MOD_RUNNING);
    }
}

#[test]
fn shutdown_ends_in_bounded_time_whatever_the_modules_do() {
    let object = fixture("spinner");
    let host = host();
    load(&host, &object, &["spin_in=2", "how=2"]).unwrap();
    load_as(&host, &object, "spinner_timer", &["spin_in=3"]);
    wait_for("the timer to spin", || {
        log_text(&host).contains("a timer has run for")
    });
    let removed = host.shutdown().unwrap();
    assert_eq!(removed.len(), 2);
    assert_eq!(host.window_usage().in_use, 0);
}

fn load_as(host: &Host, object: &[u8], name: &str, args: &[&str]) {
    let options = LoadOptions {
        args: args.iter().map(|a| a.to_string()).collect(),
        ..Default::default()
    };
    host.load_object(&root(), name, object, &options).unwrap();
}

#[test]
fn a_lockup_in_a_host_service_traces_through_the_module_and_hides_host_code() {
    let object = fixture("spinner");
    let host = host();
    // init calls printk in a loop: the watchdog stops it inside the host
    // or in the module; either way the trace names init_module.
    assert_eq!(
        load(&host, &object, &["spin_in=1", "how=1"]),
        Err(Errno::ETIME)
    );
    let full: Vec<String> = host
        .dmesg()
        .iter()
        .map(|r| r.text_for(true).to_string())
        .collect();
    let public: Vec<String> = host
        .dmesg()
        .iter()
        .map(|r| r.text_for(false).to_string())
        .collect();
    let full = full.join("\n");
    let public = public.join("\n");
    assert!(
        full.contains("  EIP is at spinner_spin+0x") || full.contains("(host code)"),
        "{full}"
    );
    assert!(full.contains("] init_module+0x"), "{full}");
    assert!(public.contains("] init_module+0x"), "{public}");
    // Host code is an address only privileged readers see.
    for line in public.lines().filter(|l| l.contains("(host code)")) {
        assert!(line.contains("[<(hidden)>]"), "{line}");
    }
    for line in full
        .lines()
        .filter(|l| l.contains("(host code)") && l.contains("[<"))
    {
        assert!(!line.contains("(hidden)"), "{line}");
    }
}
