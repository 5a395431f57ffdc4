//! A crashing module is an oops, not an outage: faults in init, cleanup,
//! can_unload, a timer and a /proc read are recorded, taint the module and the host,
//! fail only the call that ran the code, and the host keeps serving.

mod common;
use common::*;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use umod_abi::{Errno, MOD_RUNNING};
use umod_examples::HELLO;
use umod_host::services::TAINT_DIE;
use umod_host::{Host, HostConfig, LoadOptions, LocalCalls};
use umod_loader::{LinkOptions, ModuleObject};

fn crasher() -> Vec<u8> {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../loader/tests/fixtures/crasher.c");
    // One file per call: the tests run in parallel.
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("crasher-{}-{n}.o", std::process::id()));
    umod_loader::kit::compile(&src, &out).unwrap();
    std::fs::read(out).unwrap()
}

fn load(host: &Host, object: &[u8], args: &[&str]) -> Result<u64, Errno> {
    let options = LoadOptions {
        args: args.iter().map(|a| a.to_string()).collect(),
        ..Default::default()
    };
    host.load_object(&root(), "crasher", object, &options)
        .map(|l| l.addr)
        .map_err(|e| e.errno())
}

fn log(host: &Host) -> String {
    host.dmesg()
        .into_iter()
        .map(|r| format!("<{}>{}\n", r.level, r.text))
        .collect()
}

const HOWS: [(&str, &str); 3] = [
    ("how=0", "SIGSEGV (invalid memory reference)"),
    ("how=1", "SIGILL (invalid opcode)"),
    ("how=2", "SIGFPE (divide error)"),
];

/// After an oops the host still loads, runs and removes other modules.
fn still_serving(host: &Host) {
    host.load_object(&root(), "hello", HELLO.object, &LoadOptions::default())
        .unwrap();
    assert_eq!(last_log(host), "Hello, world");
    host.delete(&root(), Some("hello")).unwrap();
}

#[test]
fn fault_in_init_leaves_an_uninitialized_removable_entry() {
    let object = crasher();
    for (how, signal) in HOWS {
        let host = host();
        // The 2.4 path: create, init faults, the entry stays.
        let m = ModuleObject::parse("crasher", &object).unwrap();
        let args = vec!["crash_in=1".to_string(), how.to_string()];
        let symbols =
            umod_loader::insmod::gather_symbols(&mut LocalCalls::new(&host, root())).unwrap();
        let plan = m.plan(&symbols, &args, &LinkOptions::default()).unwrap();
        let addr = host.create(&root(), "crasher", plan.size()).unwrap();
        let image = plan.relocate(addr).unwrap();
        assert_eq!(
            host.init(&root(), "crasher", &image.bytes),
            Err(Errno::EFAULT),
            "{how}"
        );
        let s = snap(&host);
        assert_eq!(
            (
                s.modules[0].flags,
                s.modules[0].usecount,
                s.modules[0].oopsed
            ),
            (0, 0, true)
        );
        let text = log(&host);
        assert!(
            text.contains(&format!(
                "<1>Oops: {signal} in module crasher during init\n"
            )),
            "{text}"
        );
        assert!(text.contains("  at crasher+0x"), "{text}");
        if how == "how=0" {
            // (gcc moves a trap to a cold section, past every symbol.)
            assert!(
                text.contains(" [crasher_crash+0xa], address 0x0\n"),
                "named after the nearest symbol: {text}"
            );
        }
        assert_ne!(host.taint() & TAINT_DIE, 0);
        host.delete(&root(), Some("crasher")).unwrap();
        assert_eq!(host.window_usage().in_use, 0);
        still_serving(&host);
        // The one-shot path: nothing remains at all.
        assert_eq!(
            load(&host, &object, &["crash_in=1", how]),
            Err(Errno::EFAULT)
        );
        assert!(snap(&host).modules.is_empty());
    }
}

#[test]
fn fault_in_cleanup_still_removes_the_module() {
    let object = crasher();
    for (how, signal) in HOWS {
        let host = host();
        load(&host, &object, &["crash_in=2", how]).unwrap();
        assert_eq!(host.taint(), 0);
        host.delete(&root(), Some("crasher")).unwrap();
        let text = log(&host);
        assert!(
            text.contains(&format!(
                "<1>Oops: {signal} in module crasher during cleanup\n"
            )),
            "{text}"
        );
        assert!(
            !text.contains("crasher: gone"),
            "cleanup did not run past the fault"
        );
        assert!(snap(&host).modules.is_empty());
        assert_eq!(host.window_usage().in_use, 0);
        assert_ne!(host.taint() & TAINT_DIE, 0);
        still_serving(&host);
    }
}

#[test]
fn fault_in_a_timer_is_contained() {
    let object = crasher();
    for (how, signal) in HOWS {
        let host = host();
        load(&host, &object, &["crash_in=3", how]).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while !log(&host).contains("during a timer") {
            assert!(Instant::now() < deadline, "the timer never ran");
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(log(&host).contains(&format!(
            "<1>Oops: {signal} in module crasher during a timer\n"
        )));
        let s = snap(&host);
        assert_eq!(
            (s.modules[0].flags & MOD_RUNNING, s.modules[0].oopsed),
            (MOD_RUNNING, true)
        );
        assert_eq!(host.pending_timers(), 0);
        still_serving(&host);
        host.delete(&root(), Some("crasher")).unwrap();
    }
}

#[test]
fn fault_in_a_proc_read_is_eio() {
    let object = crasher();
    let host = host();
    load(&host, &object, &["crash_in=4", "how=0"]).unwrap();
    assert_eq!(host.read_proc("crasher"), Err(Errno::EIO));
    assert!(log(&host).contains(
        "<1>Oops: SIGSEGV (invalid memory reference) in module crasher during a /proc read\n"
    ));
    still_serving(&host);
    host.delete(&root(), Some("crasher")).unwrap();
    assert!(host.proc_entries().is_empty());
}

#[test]
fn fault_in_can_unload_keeps_the_module_as_busy() {
    let object = crasher();
    for (how, signal) in HOWS {
        let host = host();
        load(&host, &object, &["crash_in=5", how]).unwrap();
        assert_eq!(host.delete(&root(), Some("crasher")), Err(Errno::EBUSY));
        let text = log(&host);
        assert!(
            text.contains(&format!(
                "<1>Oops: {signal} in module crasher during can_unload\n"
            )),
            "{text}"
        );
        assert!(!text.contains("crasher: gone"), "cleanup never ran");
        let s = snap(&host);
        assert_eq!(
            (s.modules[0].flags & MOD_RUNNING, s.modules[0].oopsed),
            (MOD_RUNNING, true)
        );
        assert_ne!(host.taint() & TAINT_DIE, 0);
        still_serving(&host);
    }
}

#[test]
fn a_slow_init_under_the_watchdog_limit_runs_to_the_end() {
    let object = crasher();
    let host = Host::with_config(HostConfig {
        window_size: 16 << 20,
        watchdog: Duration::from_secs(5),
        ..Default::default()
    })
    .unwrap();
    // init spins for 20 jiffies (0.2 s): the clock keeps ticking while it
    // runs, and the watchdog leaves it alone.
    load(&host, &object, &["spin=20"]).unwrap();
    let text = log(&host);
    assert!(text.contains("crasher: ready"), "{text}");
    assert!(!text.contains("watchdog"), "{text}");
    assert_eq!(host.taint(), 0, "a slow init is not an oops");
}

#[test]
fn host_addresses_in_oopses_are_for_privileged_readers_only() {
    let object = crasher();
    for (how, hidden) in [("how=3", "0x7ff000000000"), ("how=4", "0x7ff000001000")] {
        let host = host();
        assert_eq!(
            load(&host, &object, &["crash_in=1", how]),
            Err(Errno::EFAULT)
        );
        let public: String = host
            .dmesg()
            .iter()
            .map(|r| format!("{}\n", r.text_for(false)))
            .collect();
        let full: String = host
            .dmesg()
            .iter()
            .map(|r| format!("{}\n", r.text_for(true)))
            .collect();
        assert!(full.contains(hidden), "{how}: {full}");
        assert!(!public.contains(hidden), "{how}: {public}");
        assert!(public.contains("Oops: SIGSEGV"), "{public}");
        if how == "how=3" {
            // The module's place stays visible, as module+offset.
            assert!(public.contains("  at crasher+0x"), "{public}");
            assert!(public.contains("address (host address hidden)"), "{public}");
        } else {
            assert!(
                public.contains("  at (host code, outside crasher)"),
                "{public}"
            );
        }
    }
}
