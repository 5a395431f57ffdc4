//! Modules written in Rust with the umod-module kit, beyond their C twins
//! (which `examples.rs` drives with the same tests): calls between Rust
//! and C modules, allocation, a panic as an oops, exports only by
//! `export!`, and the `staticlib` archive loaded as it is.

mod common;
use common::*;

use umod_abi::{Errno, QueryAnswer, QM_DEPS, QM_SYMBOLS};
use umod_examples::{
    archive, Example, COUNTER, C_USES_RUST, RUST_COUNTER, RUST_PANIC, RUST_PARAMS, RUST_USES_C,
};
use umod_host::{Host, LoadOptions, LocalCalls};
use umod_loader::insmod;
use umod_loader::{LinkOptions, ModuleObject};

fn one_shot(host: &Host, ex: &Example, args: &[&str]) -> Result<u64, Errno> {
    let options = LoadOptions {
        args: args.iter().map(|a| a.to_string()).collect(),
        ..Default::default()
    };
    host.load_object(&root(), ex.name, ex.object, &options)
        .map(|l| l.addr)
        .map_err(|e| e.errno())
}

#[test]
fn rust_and_c_modules_call_each_other() {
    let host = host();
    one_shot(&host, &COUNTER, &[]).unwrap();
    one_shot(&host, &RUST_USES_C, &[]).unwrap();
    assert_eq!(last_log(&host), "rust_uses_c: counter is 7");
    one_shot(&host, &RUST_COUNTER, &[]).unwrap();
    one_shot(&host, &C_USES_RUST, &[]).unwrap();
    assert_eq!(last_log(&host), "c_uses_rust: counter is 5");
    for (user, dep) in [("rust_uses_c", "counter"), ("c_uses_rust", "rust_counter")] {
        assert_eq!(
            host.query(Some(user), QM_DEPS).unwrap(),
            QueryAnswer::Names(vec![dep.as_bytes().to_vec()])
        );
        assert_eq!(host.delete(&root(), Some(dep)), Err(Errno::EBUSY));
    }
    host.delete(&root(), Some("c_uses_rust")).unwrap();
    host.delete(&root(), Some("rust_counter")).unwrap();
    assert_eq!(last_log(&host), "rust_counter: final value 0");
    host.delete(&root(), Some("rust_uses_c")).unwrap();
    host.delete(&root(), Some("counter")).unwrap();
    assert_eq!(last_log(&host), "counter: final value 0");
}

#[test]
fn a_rust_module_allocates_and_frees_through_kmalloc() {
    let host = host();
    one_shot(&host, &RUST_PANIC, &[]).unwrap();
    assert_eq!(last_log(&host), "rust_panic: built [1, 2, 3] (6)");
    host.delete(&root(), Some("rust_panic")).unwrap();
    assert_eq!(last_log(&host), "rust_panic: freeing 3 numbers");
    assert_eq!(host.window_usage().in_use, 0);
}

#[test]
fn a_panic_is_an_oops_of_the_module() {
    let host = host();
    let before = snap(&host);
    assert_eq!(
        one_shot(&host, &RUST_PANIC, &["panic=1"]),
        Err(Errno::EFAULT)
    );
    let log = log_text(&host);
    assert!(
        log.contains("<0>Kernel BUG: panicked at ") && log.contains("rust_panic: asked to"),
        "{log}"
    );
    assert!(
        log.contains("<1>Oops: SIGILL (invalid opcode) in module rust_panic during init"),
        "{log}"
    );
    // The failed load left nothing behind; the host goes on.
    assert_eq!(snap(&host).modules, before.modules);
    one_shot(&host, &RUST_PANIC, &[]).unwrap();
}

#[test]
fn a_rust_module_exports_what_export_says_and_nothing_else() {
    let host = host();
    one_shot(&host, &RUST_COUNTER, &[]).unwrap();
    let QueryAnswer::Symbols(syms) = host.query(Some("rust_counter"), QM_SYMBOLS).unwrap() else {
        panic!()
    };
    let mut names: Vec<&[u8]> = syms.iter().map(|(_, n)| &n[..]).collect();
    names.sort();
    assert_eq!(names, [&b"rust_counter_bump"[..], b"rust_counter_value"]);
    // What depmod and modinfo see, from the object alone.
    let m = ModuleObject::parse("rust_counter", RUST_COUNTER.object).unwrap();
    let mut exported = m.exported_symbols();
    exported.sort();
    assert_eq!(exported, ["rust_counter_bump", "rust_counter_value"]);
    let params = ModuleObject::parse("rust_params", RUST_PARAMS.object).unwrap();
    assert_eq!(params.modinfo.get("license"), Some("GPL"));
    assert_eq!(
        params.modinfo.get("description"),
        Some("Shows its parameters")
    );
    assert!(params.exported_symbols().is_empty());
}

#[test]
fn the_staticlib_archive_loads_as_it_is_both_ways() {
    let bytes = archive(&RUST_PARAMS).expect("the build keeps libNAME.a");
    assert!(bytes.starts_with(b"!<arch>\n"));
    let host = host();
    let options = LoadOptions {
        args: vec!["irq=9".into()],
        ..Default::default()
    };
    host.load_object(&root(), "rust_params", &bytes, &options)
        .unwrap();
    assert_eq!(
        last_log(&host),
        "rust_params: irq=9 ports=0x300,0,0,0 mode=auto label=none"
    );
    host.delete(&root(), Some("rust_params")).unwrap();
    let module = ModuleObject::parse("rust_params", &bytes).unwrap();
    let mut calls = LocalCalls::new(&host, root());
    insmod::insmod(&mut calls, &module, &[], &LinkOptions::default()).unwrap();
    assert_eq!(
        last_log(&host),
        "rust_params: irq=5 ports=0x300,0,0,0 mode=auto label=none"
    );
}

#[test]
fn archives_that_hold_no_module_or_several_are_refused_by_what_they_hold() {
    // An archive of two kit modules: two members define init_module.
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("two-modules");
    std::fs::create_dir_all(&dir).unwrap();
    for ex in [RUST_COUNTER, RUST_PARAMS] {
        std::fs::write(dir.join(format!("{}.o", ex.name)), ex.object).unwrap();
    }
    let _ = std::fs::remove_file(dir.join("two.a"));
    let st = std::process::Command::new("ar")
        .args(["rcs", "two.a", "rust_counter.o", "rust_params.o"])
        .current_dir(&dir)
        .status()
        .unwrap();
    assert!(st.success());
    let two = std::fs::read(dir.join("two.a")).unwrap();
    let err = ModuleObject::parse("two", &two).unwrap_err().to_string();
    assert!(
        err.starts_with("not a module archive: 2 members define init_module or cleanup_module"),
        "{err}"
    );
    let _ = std::fs::remove_file(dir.join("none.a"));
    std::fs::write(dir.join("empty.o"), b"").unwrap();
    let st = std::process::Command::new("ar")
        .args(["rcs", "none.a", "empty.o"])
        .current_dir(&dir)
        .status()
        .unwrap();
    assert!(st.success());
    let none = std::fs::read(dir.join("none.a")).unwrap();
    let err = ModuleObject::parse("none", &none).unwrap_err().to_string();
    assert!(err.starts_with("not a module archive: "), "{err}");
    assert_eq!(
        ModuleObject::parse("x", b"!<arch>\ngarbage")
            .unwrap_err()
            .errno(),
        Errno::ENOEXEC
    );
}
