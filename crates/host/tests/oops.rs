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

/// The `[<addr>] function+off/size [module]` entries of the call trace.
fn trace_entries(text: &str) -> Vec<(u64, String, u64, u64, String)> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        let entry = if let Some(e) = line.strip_prefix("<1>  Call Trace: ") {
            inside = true;
            e
        } else if let (true, Some(e)) = (inside, line.strip_prefix("<1>    ")) {
            e
        } else {
            inside = false;
            continue;
        };
        let (addr, rest) = entry.split_once("] ").unwrap();
        let addr = u64::from_str_radix(addr.trim_start_matches("[<").trim_end_matches('>'), 16);
        let Ok(addr) = addr else { continue };
        let Some((place, module)) = rest.split_once(' ') else {
            continue; // (host code)
        };
        let (func, offsize) = place.split_once('+').unwrap();
        let (off, size) = offsize.split_once('/').unwrap();
        let hex = |s: &str| u64::from_str_radix(s.trim_start_matches("0x"), 16).unwrap();
        out.push((
            addr,
            func.to_string(),
            hex(off),
            hex(size),
            module.to_string(),
        ));
    }
    out
}

#[test]
fn oopses_name_the_function_with_its_size_and_trace_the_calls() {
    let object = crasher();
    for oneshot in [true, false] {
        let host = host();
        let args = ["crash_in=2", "how=0"];
        if oneshot {
            load(&host, &object, &args).unwrap();
        } else {
            let m = ModuleObject::parse("crasher", &object).unwrap();
            let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
            let symbols =
                umod_loader::insmod::gather_symbols(&mut LocalCalls::new(&host, root())).unwrap();
            let plan = m.plan(&symbols, &args, &LinkOptions::default()).unwrap();
            let addr = host.create(&root(), "crasher", plan.size()).unwrap();
            host.init(&root(), "crasher", &plan.relocate(addr).unwrap().bytes)
                .unwrap();
        }
        // The host's table of the module: every function, local ones too.
        let functions = host.module_functions("crasher").unwrap();
        let find = |n: &str| functions.iter().find(|f| f.name == n).unwrap().clone();
        let crash = find("crasher_crash");
        let cleanup = find("cleanup_module");
        for local in ["tick", "read_it", "crash_can_unload"] {
            find(local);
        }
        assert!(functions
            .windows(2)
            .all(|w| w[0].start + w[0].size <= w[1].start));
        host.delete(&root(), Some("crasher")).unwrap();
        let text = log(&host);
        assert!(
            text.contains(&format!(
                "<1>  EIP is at crasher_crash+0xa/{:#x} [crasher]\n",
                crash.size
            )),
            "oneshot {oneshot}: {text}"
        );
        // cleanup_module called crasher_crash: its return address is on
        // the stack, named with its offset and the function's size.
        let trace = trace_entries(&text);
        let (addr, _, off, size, module) = trace
            .iter()
            .find(|e| e.1 == "cleanup_module")
            .unwrap_or_else(|| panic!("no cleanup_module in the trace: {text}"))
            .clone();
        assert_eq!(
            (addr, size, module.as_str()),
            (cleanup.start + off, cleanup.size, "[crasher]")
        );
        assert!(off > 0 && off < size);
        // Every entry names a function of the module at its address.
        for (addr, func, off, _, _) in &trace {
            assert_eq!(find(func).start + off, *addr, "{text}");
        }
    }
}

#[test]
fn an_image_without_kallsyms_is_named_by_its_exports() {
    use umod_abi::image::{asm, ImageBuilder, SymbolValue};
    let host = host();
    let made = |base: u64| {
        let mut b = ImageBuilder::new("bare");
        // init calls bare_boom, which writes to address 0.
        let boom = b.append(&asm::store_then_return(0, 1, 0), 16);
        let init = b.append(&asm::call_with_arg(base + boom, 0), 16);
        b.init(init);
        b.export("bare_boom", SymbolValue::Offset(boom));
        b
    };
    assert_eq!(install(&host, "bare", made), Err(Errno::EFAULT));
    let text = log(&host);
    assert!(text.contains(" [bare_boom+0x"), "{text}");
    assert!(text.contains("<1>  EIP is at bare_boom+0x"), "{text}");
    assert!(
        text.contains("<1>  Call Trace: [<") && text.contains("] init_module+0x"),
        "{text}"
    );
    assert!(!text.contains("/0x"), "no sizes without a table: {text}");
    assert_eq!(host.module_functions("bare"), Ok(vec![]));
}
