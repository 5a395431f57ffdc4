//! The example modules, real gcc and rustc objects, through both load
//! paths: the 2.4 sequence (query, create, relocate, init) and the
//! one-shot load inside the host.

mod common;
use common::*;

use std::time::{Duration, Instant};

use umod_abi::image::{asm, ImageBuilder};
use umod_abi::{Errno, QueryAnswer, MOD_RUNNING, QM_DEPS, QM_REFS, QM_SYMBOLS};
use umod_examples::{
    Example, COUNTER, COUNTER_USER, FAILING, HELLO, PARAMS, PROCFILE, RUST_COUNTER,
    RUST_COUNTER_USER, RUST_HELLO, RUST_PARAMS, RUST_PROCFILE, RUST_TICKER, TICKER,
};
use umod_host::{Host, HostConfig, LoadOptions, LocalCalls, OneShotError};
use umod_loader::insmod::{self, InsmodError};
use umod_loader::{LinkOptions, LoadError, ModuleObject};

#[derive(Clone, Copy, Debug)]
enum Path {
    Legacy,
    OneShot,
}

const PATHS: [Path; 2] = [Path::Legacy, Path::OneShot];

/// Loads `ex` with `args` by `path`; the errno of a failure.
fn load(host: &Host, path: Path, ex: &Example, args: &[&str]) -> Result<u64, Errno> {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    match path {
        Path::Legacy => {
            let module = ModuleObject::parse(ex.name, ex.object).expect("example parses");
            let mut calls = LocalCalls::new(host, root());
            insmod::insmod(&mut calls, &module, &args, &LinkOptions::default())
                .map(|l| l.addr)
                .map_err(|e| e.errno())
        }
        Path::OneShot => {
            let options = LoadOptions {
                args,
                ..Default::default()
            };
            host.load_object(&root(), ex.name, ex.object, &options)
                .map(|l| l.addr)
                .map_err(|e| e.errno())
        }
    }
}

fn log_texts(host: &Host) -> Vec<String> {
    host.dmesg().into_iter().map(|r| r.text).collect()
}

#[test]
fn hello_says_hello_and_goodbye() {
    for path in PATHS {
        let host = host();
        load(&host, path, &HELLO, &[]).unwrap();
        assert_eq!(last_log(&host), "Hello, world", "{path:?}");
        assert_eq!(snap(&host).modules[0].flags, MOD_RUNNING);
        host.delete(&root(), Some("hello")).unwrap();
        assert_eq!(last_log(&host), "Goodbye, world");
        assert_eq!(host.window_usage().in_use, 0);
    }
}

/// A C example and its Rust twin (written with the umod-module kit): the
/// same test drives both, and only the names differ.
struct Twins {
    c: Example,
    rust: Example,
}

/// `text` with the C example's name swapped for the Rust one's, where `ex`
/// is the Rust one.
fn named(text: &str, c: &Example, ex: &Example) -> String {
    text.replace(c.name, ex.name)
}

#[test]
fn counter_pair_links_and_pins() {
    let pairs = [
        (COUNTER, COUNTER_USER, "counter_bump", "counter_value"),
        (
            RUST_COUNTER,
            RUST_COUNTER_USER,
            "rust_counter_bump",
            "rust_counter_value",
        ),
    ];
    for (counter, user, bump, value) in pairs {
        for path in PATHS {
            let host = host();
            load(&host, path, &counter, &[]).unwrap();
            load(&host, path, &user, &[]).unwrap();
            let (c, u) = (counter.name, user.name);
            assert_eq!(last_log(&host), format!("{u}: counter is 42"), "{path:?}");
            assert_eq!(
                host.query(Some(u), QM_DEPS).unwrap(),
                QueryAnswer::Names(vec![c.as_bytes().to_vec()])
            );
            assert_eq!(
                host.query(Some(c), QM_REFS).unwrap(),
                QueryAnswer::Names(vec![u.as_bytes().to_vec()])
            );
            let QueryAnswer::Symbols(syms) = host.query(Some(c), QM_SYMBOLS).unwrap() else {
                panic!()
            };
            let mut names: Vec<&[u8]> = syms.iter().map(|(_, n)| &n[..]).collect();
            names.sort();
            assert_eq!(names, [bump.as_bytes(), value.as_bytes()]);
            // The user exports nothing (EXPORT_NO_SYMBOLS; the kit's empty
            // __ksymtab).
            assert_eq!(
                host.query(Some(u), QM_SYMBOLS).unwrap(),
                QueryAnswer::Symbols(vec![])
            );
            assert_eq!(host.delete(&root(), Some(c)), Err(Errno::EBUSY));
            host.delete(&root(), Some(u)).unwrap();
            assert_eq!(last_log(&host), format!("{u}: gave it back"));
            host.delete(&root(), Some(c)).unwrap();
            assert_eq!(last_log(&host), format!("{c}: final value 0"));
        }
    }
}

#[test]
fn counter_user_alone_is_an_unresolved_symbol() {
    let host = host();
    let before = snap(&host);
    let module = ModuleObject::parse("counter_user", COUNTER_USER.object).unwrap();
    let mut calls = LocalCalls::new(&host, root());
    let err = insmod::insmod(&mut calls, &module, &[], &LinkOptions::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "unresolved symbols counter_bump, counter_value"
    );
    let one = host.load_object(
        &root(),
        "counter_user",
        COUNTER_USER.object,
        &LoadOptions::default(),
    );
    assert_eq!(
        one.unwrap_err(),
        OneShotError::Load(LoadError::Unresolved(vec![
            "counter_bump".into(),
            "counter_value".into()
        ]))
    );
    assert_eq!(snap(&host), before);
}

#[test]
fn params_defaults_and_arguments() {
    let twins = Twins {
        c: PARAMS,
        rust: RUST_PARAMS,
    };
    for ex in [twins.c, twins.rust] {
        let name = |t: &str| named(t, &twins.c, &ex);
        for path in PATHS {
            let host = host();
            load(&host, path, &ex, &[]).unwrap();
            assert_eq!(
                last_log(&host),
                name("params: irq=5 ports=0x300,0,0,0 mode=auto label=none")
            );
            host.delete(&root(), Some(ex.name)).unwrap();
            let args = [
                "irq=11",
                "ports=0x10,020,3",
                "mode=fast",
                "label=exactly15chars!",
            ];
            load(&host, path, &ex, &args).unwrap();
            assert_eq!(
                last_log(&host),
                name("params: irq=11 ports=0x10,0x10,0x3,0 mode=fast label=exactly15chars!"),
                "{path:?}"
            );
            host.delete(&root(), Some(ex.name)).unwrap();
        }
    }
}

#[test]
fn bad_parameters_are_refused_and_leave_nothing() {
    for ex in [PARAMS, RUST_PARAMS] {
        let host = host();
        let before = snap(&host);
        let cases: [(&str, &str); 6] = [
            (
                "nosuch=1",
                "parameter nosuch: unknown parameter (the module declares no such MODULE_PARM)",
            ),
            ("irq=abc", "parameter irq: `abc` is not a number"),
            (
                "irq=99999999999",
                "parameter irq: 99999999999 does not fit a int",
            ),
            (
                "ports=1,2,3,4,5",
                "parameter ports: 5 value(s) given, the module takes 1-4",
            ),
            (
                "label=sixteen_chars_xx",
                "parameter label: string `sixteen_chars_xx` is too long (at most 15 characters)",
            ),
            ("irq", "parameter irq: expected name=value"),
        ];
        for (arg, message) in cases {
            let module = ModuleObject::parse(ex.name, ex.object).unwrap();
            let mut calls = LocalCalls::new(&host, root());
            let err = insmod::insmod(
                &mut calls,
                &module,
                &[arg.to_string()],
                &LinkOptions::default(),
            )
            .unwrap_err();
            assert_eq!(err.to_string(), message);
            assert!(matches!(
                err,
                InsmodError::Load(LoadError::BadParameter { .. })
            ));
            assert_eq!(load(&host, Path::OneShot, &ex, &[arg]), Err(Errno::EINVAL));
            assert_eq!(snap(&host), before, "{arg}");
        }
    }
}

#[test]
fn proc_entry_is_read_through_the_module() {
    for (ex, entry) in [(PROCFILE, "umod_hello"), (RUST_PROCFILE, "umod_rust_hello")] {
        for path in PATHS {
            let host = host();
            load(&host, path, &ex, &[]).unwrap();
            assert_eq!(host.proc_entries(), [entry]);
            let first = String::from_utf8(host.read_proc(entry).unwrap()).unwrap();
            let from = format!("Hello from {}: read ", ex.name);
            assert!(
                first.starts_with(&format!("{from}1 at jiffies ")) && first.ends_with('\n'),
                "{first}"
            );
            let second = String::from_utf8(host.read_proc(entry).unwrap()).unwrap();
            assert!(second.starts_with(&format!("{from}2 at jiffies ")));
            assert_eq!(host.read_proc("nosuch"), Err(Errno::ENOENT));
            host.delete(&root(), Some(ex.name)).unwrap();
            assert!(host.proc_entries().is_empty());
            assert_eq!(host.read_proc(entry), Err(Errno::ENOENT));
        }
    }
}

#[test]
fn timer_fires_on_the_host_clock_until_removed() {
    for (ex, counter) in [(TICKER, "ticks"), (RUST_TICKER, "rust_ticks")] {
        for path in PATHS {
            let host = host();
            let addr = load(&host, path, &ex, &[]).unwrap();
            let QueryAnswer::Symbols(syms) = host.query(Some(ex.name), QM_SYMBOLS).unwrap() else {
                panic!()
            };
            let ticks_at = syms
                .iter()
                .find(|(_, n)| n == counter.as_bytes())
                .expect("ticks is exported")
                .0;
            assert!(ticks_at > addr);
            let ticks = || {
                let b = host.read_memory(ticks_at, 4).unwrap().unwrap();
                i32::from_le_bytes(b.try_into().unwrap())
            };
            let deadline = Instant::now() + Duration::from_secs(10);
            while ticks() < 3 && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            assert!(ticks() >= 3, "the timer fired {} times in 10 s", ticks());
            assert_eq!(host.pending_timers(), 1);
            host.delete(&root(), Some(ex.name)).unwrap();
            assert_eq!(host.pending_timers(), 0);
            assert!(last_log(&host).starts_with(&format!("{}: stopped after ", ex.name)));
        }
    }
}

#[test]
fn failing_init_leaves_nothing_registered() {
    // The 2.4 path: init fails, insmod deletes the entry.
    let host = host();
    let before = snap(&host);
    assert_eq!(load(&host, Path::Legacy, &FAILING, &[]), Err(Errno::ENODEV));
    assert!(
        host.proc_entries().is_empty(),
        "the failed init's proc entry was removed"
    );
    assert!(log_texts(&host)
        .contains(&"failing: removed /proc/failing_leftover it left registered".to_string()));
    assert_eq!(snap(&host), before);
    // The one-shot path: the same, atomically.
    assert_eq!(
        load(&host, Path::OneShot, &FAILING, &[]),
        Err(Errno::ENODEV)
    );
    assert!(host.proc_entries().is_empty());
    assert_eq!(snap(&host), before);
}

#[test]
fn rust_no_std_module_runs() {
    for path in PATHS {
        let host = host();
        load(&host, path, &RUST_HELLO, &[]).unwrap();
        assert_eq!(last_log(&host), "rust_hello: 7 squared is 49", "{path:?}");
        let QueryAnswer::Symbols(syms) = host.query(Some("rust_hello"), QM_SYMBOLS).unwrap() else {
            panic!()
        };
        // 2.4 exports every global of a module without __ksymtab: the two
        // #[no_mangle] items and rustc's (mangled, crate-unique) panic entry.
        let names: Vec<String> = syms
            .iter()
            .map(|(_, n)| String::from_utf8_lossy(n).into_owned())
            .collect();
        assert!(names.contains(&"rust_hello_calls".to_string()), "{names:?}");
        assert!(names.contains(&"rust_hello_square".to_string()));
        assert_eq!(names.len(), 3);
        host.delete(&root(), Some("rust_hello")).unwrap();
        assert_eq!(last_log(&host), "rust_hello: goodbye");
    }
}

#[test]
fn a_2_4_init_over_a_one_shot_module_maps_it_as_a_2_4_image() {
    // Spec §3: init_module on a running module is accepted and re-run in
    // full. Over a W^X module this used to fail with EFAULT: the image
    // went to pages that were read-execute.
    let host = host();
    let loaded = load_counter_with_map(&host);
    let map = loaded.map.unwrap();
    let text = map.sections.iter().find(|s| s.name == ".text").unwrap();
    assert_eq!(page_perms(text.addr), "r-x");
    let mut image = ImageBuilder::new("counter");
    let init = image.append(&asm::return_value(0), 16);
    image.init(init);
    host.init(&root(), "counter", &image.build(loaded.addr))
        .unwrap();
    assert_eq!(page_perms(loaded.addr), "rwx");
    assert_eq!(page_perms(text.addr), "rwx");
    assert_eq!(
        last_log(&host),
        "counter: 2.4 image, mapped read-write-execute"
    );
    host.delete(&root(), Some("counter")).unwrap();
    assert_eq!(page_perms(text.addr), "rw-");
}

/// Loads the counter example in one shot, asking for its load map.
/// Loads `ex` the 2.4 way with a flat image, as an unmodified insmod
/// builds it (no table of segments in archdata).
fn load_flat(host: &Host, ex: &Example) -> u64 {
    let module = ModuleObject::parse(ex.name, ex.object).expect("example parses");
    let mut calls = LocalCalls::new(host, root());
    let flat = LinkOptions {
        wx: false,
        ..LinkOptions::default()
    };
    insmod::insmod(&mut calls, &module, &[], &flat)
        .expect("flat image loads")
        .addr
}

/// Loads `counter` the 2.4 way with umod's loader; its load map.
fn load_counter_2_4(host: &Host) -> insmod::Loaded {
    let module = ModuleObject::parse("counter", COUNTER.object).expect("example parses");
    let mut calls = LocalCalls::new(host, root());
    insmod::insmod(&mut calls, &module, &[], &LinkOptions::default()).unwrap()
}

fn load_counter_with_map(host: &Host) -> umod_host::Loaded {
    let options = LoadOptions {
        map: true,
        ..Default::default()
    };
    host.load_object(&root(), "counter", COUNTER.object, &options)
        .unwrap()
}

#[test]
fn a_single_view_window_keeps_w_xor_x_and_parks_freed_code_read_write() {
    let host = Host::with_config(HostConfig {
        window_size: 16 << 20,
        single_view_window: true,
        ..Default::default()
    })
    .unwrap();
    let loaded = load_counter_with_map(&host);
    let map = loaded.map.unwrap();
    let section = |name: &str| map.sections.iter().find(|s| s.name == name).unwrap().addr;
    assert_eq!(page_perms(loaded.addr), "rw-", "the header page");
    assert_eq!(page_perms(section(".text")), "r-x");
    assert_eq!(page_perms(section("__ksymtab")), "r--");
    assert_eq!(last_log(&host), "counter: ready", "its init ran");
    host.delete(&root(), Some("counter")).unwrap();
    assert_eq!(
        page_perms(section(".text")),
        "rw-",
        "freed code is not executable"
    );
    // Loaded again on the same pages, and a 2.4 image after it.
    let again = load_counter_with_map(&host);
    assert_eq!(again.addr, loaded.addr);
    assert_eq!(page_perms(section(".text")), "r-x");
    let legacy = load_flat(&host, &HELLO);
    assert_eq!(page_perms(legacy), "rwx");
    host.delete(&root(), Some("hello")).unwrap();
    assert_eq!(page_perms(legacy), "rw-");
    host.delete(&root(), Some("counter")).unwrap();
    // umod's 2.4 path: W^X too, written through the module view first.
    let loaded = load_counter_2_4(&host);
    let text = loaded
        .map
        .sections
        .iter()
        .find(|s| s.name == ".text")
        .unwrap();
    assert_eq!(page_perms(loaded.addr), "rw-");
    assert_eq!(page_perms(text.addr), "r-x");
    assert_eq!(last_log(&host), "counter: ready", "its init ran");
    host.delete(&root(), Some("counter")).unwrap();
    assert_eq!(host.window_usage().in_use, 0);
}

#[test]
fn images_are_w_xor_x_unless_an_unmodified_insmod_made_them() {
    let host = host();
    let created = host.create(&root(), "empty", 10_000).unwrap();
    assert_eq!(page_perms(created), "---", "nothing runs before init");
    host.delete(&root(), Some("empty")).unwrap();
    let legacy = load_flat(&host, &HELLO);
    assert_eq!(page_perms(legacy), "rwx");
    assert!(log_texts(&host).contains(&"hello: 2.4 image, mapped read-write-execute".to_string()));
    // umod's own 2.4 path describes its segments: W^X, and nothing logged.
    let loaded = load_counter_2_4(&host);
    let section = |name: &str| {
        loaded
            .map
            .sections
            .iter()
            .find(|s| s.name == name)
            .unwrap()
            .addr
    };
    assert_eq!(page_perms(loaded.addr), "rw-", "the header page");
    assert_eq!(page_perms(section(".text")), "r-x");
    assert_eq!(page_perms(section("__ksymtab")), "r--");
    assert!(
        !log_texts(&host).contains(&"counter: 2.4 image, mapped read-write-execute".to_string())
    );
    host.delete(&root(), Some("counter")).unwrap();
    let loaded = load_counter_with_map(&host);
    let base = loaded.addr;
    let map = loaded.map.unwrap();
    assert_eq!(page_perms(base), "rw-", "the header page");
    let text = map.sections.iter().find(|s| s.name == ".text").unwrap();
    assert_eq!(page_perms(text.addr), "r-x");
    let rodata = map.sections.iter().find(|s| s.name == "__ksymtab").unwrap();
    assert_eq!(page_perms(rodata.addr), "r--");
    let data = map
        .symbols
        .iter()
        .find(|s| s.name == "counter_value")
        .unwrap();
    assert_eq!(page_perms(data.addr), "rw-");
    assert_eq!(text.addr % 4096, 0);
    assert!(!all_traps(text.addr));
    host.delete(&root(), Some("counter")).unwrap();
    // Freed code stays mapped read-execute, for the next module's code,
    // but holds nothing but int3: a stale call traps.
    assert_eq!(page_perms(base), "rw-");
    assert_eq!(page_perms(text.addr), "r-x", "never writable");
    assert!(all_traps(text.addr), "freed code is traps");
    // The next module with code there changes no protection and runs.
    let again = load_counter_with_map(&host);
    assert_eq!(again.addr, base);
    assert!(!all_traps(text.addr));
    host.delete(&root(), Some("counter")).unwrap();
    // A 2.4 image's pages lose execute.
    host.delete(&root(), Some("hello")).unwrap();
    assert_eq!(page_perms(legacy), "rw-", "freed code is not executable");
    assert!(all_traps(legacy));
}
