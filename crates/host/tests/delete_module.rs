//! Spec §4: delete_module(name) row by row, freeing, and the autoclean
//! sweep (delete_module(NULL)); LTP delete_module01-03.

mod common;
use common::*;

use umod_abi::image::{asm, ImageBuilder};
use umod_abi::{Errno, MOD_AUTOCLEAN, MOD_RUNNING, MOD_USED_ONCE, MOD_VISITED};
use umod_host::{Host, ScratchSpace};

/// A kernel-data word that module code can write and the test can read.
fn marker(host: &Host, name: &str) -> u64 {
    host.export_data(name, 8, 8).unwrap()
}

fn read_marker(host: &Host, at: u64) -> u32 {
    let b = host.read_memory(at, 4).unwrap().unwrap();
    u32::from_le_bytes(b.try_into().unwrap())
}

/// A module whose cleanup stores `value` at `at`.
fn with_cleanup(name: &str, at: u64, value: u32) -> impl Fn(u64) -> ImageBuilder + '_ {
    move |_| {
        let mut b = ImageBuilder::new(name);
        let c = b.append(&asm::store_then_return(at, value, 0), 16);
        b.cleanup(c);
        b
    }
}

#[test]
fn row1_eperm_even_for_null() {
    let host = host();
    plain(&host, "m");
    let before = snap(&host);
    let mem = ScratchSpace::new();
    assert_eq!(host.delete_module(&nobody(), &mem, 0), Err(Errno::EPERM));
    assert_eq!(
        host.delete_module(&nobody(), &mem, u64::MAX),
        Err(Errno::EPERM)
    );
    assert_eq!(host.delete(&nobody(), Some("m")), Err(Errno::EPERM));
    assert_eq!(snap(&host), before);
}

#[test]
fn row2_name_copy_in() {
    let host = host();
    plain(&host, "m");
    let before = snap(&host);
    let mut mem = ScratchSpace::new();
    let empty = mem.put_cstr(b"");
    let long = mem.put(&long_name());
    assert_eq!(
        host.delete_module(&root(), &mem, u64::MAX),
        Err(Errno::EFAULT)
    );
    assert_eq!(host.delete_module(&root(), &mem, empty), Err(Errno::EINVAL));
    assert_eq!(
        host.delete_module(&root(), &mem, long),
        Err(Errno::ENAMETOOLONG)
    );
    assert_eq!(snap(&host), before);
}

#[test]
fn row3_enoent() {
    let host = host();
    plain(&host, "m");
    let before = snap(&host);
    assert_eq!(host.delete(&root(), Some("nosuch")), Err(Errno::ENOENT));
    assert_eq!(
        host.delete(&root(), Some("M")),
        Err(Errno::ENOENT),
        "names match exactly"
    );
    assert_eq!(snap(&host), before);
}

#[test]
fn row4_ebusy_while_another_module_depends_on_it() {
    let host = host();
    let lower = plain(&host, "lower");
    user_of(&host, "upper", &[lower]);
    let before = snap(&host);
    assert_eq!(host.delete(&root(), Some("lower")), Err(Errno::EBUSY));
    assert_eq!(snap(&host), before);
    host.delete(&root(), Some("upper")).unwrap();
    host.delete(&root(), Some("lower")).unwrap();
}

#[test]
fn row4_ebusy_for_a_failed_init_dependent() {
    let host = host();
    let lower = plain(&host, "lower");
    let failing = |_| {
        let mut b = ImageBuilder::new("failing");
        let c = b.append(&asm::return_value(-19), 16);
        b.init(c).depend_on(lower);
        b
    };
    assert_eq!(install(&host, "failing", failing), Err(Errno::ENODEV));
    assert_eq!(host.delete(&root(), Some("lower")), Err(Errno::EBUSY));
}

#[test]
fn row5_ebusy_while_in_use() {
    let host = host();
    held(&host, "held");
    let before = snap(&host);
    assert_eq!(host.delete(&root(), Some("held")), Err(Errno::EBUSY));
    assert_eq!(snap(&host), before);
}

#[test]
fn row5_can_unload_decides_when_present() {
    let host = host();
    let busy = |_| {
        let mut b = ImageBuilder::new("busy");
        let c = b.append(&asm::return_value(1), 16);
        b.can_unload(c);
        b
    };
    install(&host, "busy", busy).unwrap();
    assert_eq!(host.delete(&root(), Some("busy")), Err(Errno::EBUSY));
    // can_unload returning 0 wins over a non-zero use count.
    install(&host, "free", |base| {
        let mut b = ImageBuilder::new("free");
        let init = b.append(&take_own_reference(base), 16);
        let cu = b.append(&asm::return_value(0), 16);
        b.init(init).can_unload(cu);
        b
    })
    .unwrap();
    assert_eq!(snap(&host).modules[0].usecount, 1);
    host.delete(&root(), Some("free")).unwrap();
}

#[test]
fn row5_can_unload_is_read_live_as_2_4_did() {
    // A C module that installs can_unload from its init through
    // THIS_MODULE: busy the first time it is asked, free the next.
    let src = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../loader/tests/fixtures/busy_once.c");
    let out = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("busy_once-{}.o", std::process::id()));
    umod_loader::kit::compile(&src, &out).unwrap();
    let object = std::fs::read(&out).unwrap();
    let host = host();
    host.load_object(&root(), "busy_once", &object, &Default::default())
        .unwrap();
    assert_eq!(host.delete(&root(), Some("busy_once")), Err(Errno::EBUSY));
    assert_eq!(last_log(&host), "busy_once: asked 1");
    host.delete(&root(), Some("busy_once")).unwrap();
    assert_eq!(last_log(&host), "busy_once: gone");
    assert_eq!(host.window_usage().in_use, 0);
}

#[test]
fn row5_a_live_can_unload_outside_the_module_is_busy_not_called() {
    let host = host();
    // init points can_unload at 0x1000, outside the block: 2.4 would have
    // called it; the host refuses to, and keeps the module.
    install(&host, "stray", |base| {
        let mut b = ImageBuilder::new("stray");
        let at = base + umod_abi::module::offsets::CAN_UNLOAD as u64;
        let init = b.append(&asm::store_then_return(at, 0x1000, 0), 16);
        b.init(init);
        b
    })
    .unwrap();
    assert_eq!(host.delete(&root(), Some("stray")), Err(Errno::EBUSY));
    assert_eq!(
        last_log(&host),
        "stray: can_unload 0x1000 is outside the module; taken as busy"
    );
    assert_eq!(names(&host), ["stray"]);
    assert_eq!(host.taint(), 0, "nothing ran, nothing faulted");
}

#[test]
fn row6_success_runs_cleanup_of_a_running_module() {
    let host = host();
    let mark = marker(&host, "mark");
    install(&host, "m", with_cleanup("m", mark, 0x1234)).unwrap();
    assert_eq!(read_marker(&host, mark), 0);
    host.delete(&root(), Some("m")).unwrap();
    assert_eq!(read_marker(&host, mark), 0x1234);
    assert!(names(&host).is_empty());
    assert_eq!(host.window_usage().in_use, 0);
}

#[test]
fn cleanup_is_not_called_for_a_module_that_never_ran() {
    let host = host();
    let mark = marker(&host, "mark");
    let failing = |_| {
        let mut b = with_cleanup("m", mark, 7)(0);
        let c = b.append(&asm::return_value(-5), 16);
        b.init(c);
        b
    };
    assert_eq!(install(&host, "m", failing), Err(Errno::EIO));
    host.delete(&root(), Some("m")).unwrap();
    assert_eq!(read_marker(&host, mark), 0);
}

#[test]
fn dependencies_keep_used_once_after_their_user_goes() {
    let host = host();
    let lower = plain(&host, "lower");
    user_of(&host, "upper", &[lower]);
    host.delete(&root(), Some("upper")).unwrap();
    let s = snap(&host);
    assert_eq!(s.modules[0].flags, MOD_RUNNING | MOD_USED_ONCE);
    assert!(s.modules[0].refs.is_empty());
    let h = umod_abi::ModuleHeader::decode(&s.modules[0].header);
    assert_eq!(h.refs, 0, "the window's refs chain is unlinked too");
}

/// An autoclean module whose init sets `extra` flag bits on itself (as
/// MOD_INC_USE_COUNT / MOD_DEC_USE_COUNT would) and depends on `deps`.
fn autoclean(host: &Host, name: &str, extra: u8, deps: &[u64]) -> u64 {
    install(host, name, |base| {
        let mut b = ImageBuilder::new(name);
        let c = b.append(&asm::or_then_return(base + 40, extra, 0), 16);
        b.init(c).flags(MOD_AUTOCLEAN);
        for &d in deps {
            b.depend_on(d);
        }
        b
    })
    .unwrap()
}

#[test]
fn sweep_never_reaps_an_unused_module() {
    let host = host();
    autoclean(&host, "never_used", 0, &[]);
    plain(&host, "not_autoclean");
    for _ in 0..3 {
        host.delete(&root(), None).unwrap();
    }
    assert_eq!(names(&host), vec!["not_autoclean", "never_used"]);
}

#[test]
fn sweep_gives_a_visited_module_a_second_chance() {
    let host = host();
    autoclean(&host, "used", (MOD_USED_ONCE | MOD_VISITED) as u8, &[]);
    host.delete(&root(), None).unwrap();
    assert_eq!(
        names(&host),
        vec!["used"],
        "first sweep only clears VISITED"
    );
    assert_eq!(
        snap(&host).modules[0].flags,
        MOD_AUTOCLEAN | MOD_RUNNING | MOD_USED_ONCE
    );
    host.delete(&root(), None).unwrap();
    assert!(names(&host).is_empty(), "second sweep reaps it");
    assert_eq!(host.window_usage().in_use, 0);
}

#[test]
fn sweep_unwinds_a_stack_in_one_call() {
    let host = host();
    let mark = marker(&host, "mark");
    let visited = (MOD_USED_ONCE | MOD_VISITED) as u8;
    let lower = install(&host, "lower", |base| {
        let mut b = with_cleanup("lower", mark, 1)(base);
        let c = b.append(&asm::or_then_return(base + 40, visited, 0), 16);
        b.init(c).flags(MOD_AUTOCLEAN);
        b
    })
    .unwrap();
    autoclean(&host, "upper", visited, &[lower]);
    // Pass 1: upper loses VISITED; lower is pinned by upper.
    host.delete(&root(), None).unwrap();
    assert_eq!(names(&host), vec!["upper", "lower"]);
    // Pass 2: upper goes, which tags lower JUST_FREED: it goes in the same
    // call although it was VISITED.
    host.delete(&root(), None).unwrap();
    assert!(names(&host).is_empty());
    assert_eq!(read_marker(&host, mark), 1, "lower's cleanup ran");
}

#[test]
fn sweep_clears_just_freed_on_survivors() {
    let host = host();
    let keeper = plain(&host, "keeper");
    autoclean(&host, "user", MOD_USED_ONCE as u8, &[keeper]);
    host.delete(&root(), None).unwrap();
    let s = snap(&host);
    assert_eq!(names(&host), vec!["keeper"]);
    assert_eq!(
        s.modules[0].flags,
        MOD_RUNNING | MOD_USED_ONCE,
        "JUST_FREED was cleared"
    );
}

#[test]
fn sweep_skips_busy_and_uninitialized_modules() {
    let host = host();
    install(&host, "busy", |base| {
        let mut b = ImageBuilder::new("busy");
        // MOD_INC_USE_COUNT: usecount + 1, flags |= VISITED | USED_ONCE.
        let mut code = take_own_reference(base);
        code.truncate(code.len() - 6);
        code.extend(asm::or_then_return(
            base + 40,
            (MOD_USED_ONCE | MOD_VISITED) as u8,
            0,
        ));
        let c = b.append(&code, 16);
        b.init(c).flags(MOD_AUTOCLEAN);
        b
    })
    .unwrap();
    host.create(&root(), "uninit", 4000).unwrap();
    for _ in 0..2 {
        host.delete(&root(), None).unwrap();
    }
    assert_eq!(names(&host), vec!["uninit", "busy"]);
}

#[test]
fn ltp_delete_module01() {
    let host = host();
    host.create(&root(), "dummy", 10000).unwrap();
    host.delete(&root(), Some("dummy")).unwrap();
}

#[test]
fn ltp_delete_module02() {
    let host = host();
    let mut mem = ScratchSpace::new();
    let nosuch = mem.put_cstr(b"dummy_mod_ltp");
    let empty = mem.put_cstr(b"");
    let long = mem.put(&long_name());
    let cases = [
        (root(), nosuch, Errno::ENOENT),
        (root(), empty, Errno::EINVAL),
        (root(), u64::MAX, Errno::EFAULT),
        (root(), long, Errno::ENAMETOOLONG),
        (nobody(), nosuch, Errno::EPERM),
    ];
    for (caller, name, want) in cases {
        assert_eq!(host.delete_module(&caller, &mem, name), Err(want));
    }
}

#[test]
fn ltp_delete_module03() {
    let host = host();
    // dummy_del_mod exports a function; dummy_del_mod_dep calls it from init.
    let dep = install(&host, "dummy_del_mod", |_| {
        let mut b = ImageBuilder::new("dummy_del_mod");
        let f = b.append(&asm::return_value(0), 16);
        b.export("dummy_func_test", umod_abi::image::SymbolValue::Offset(f));
        b
    })
    .unwrap();
    let Ok(umod_host::QueryAnswer::Symbols(syms)) =
        host.query(Some("dummy_del_mod"), umod_abi::QM_SYMBOLS)
    else {
        panic!("no symbols");
    };
    assert_eq!(syms[0].1, b"dummy_func_test");
    let func = syms[0].0;
    install(&host, "dummy_del_mod_dep", |_| {
        let mut b = ImageBuilder::new("dummy_del_mod_dep");
        let c = b.append(&asm::call_with_arg(func, 0), 16);
        b.init(c).depend_on(dep);
        b
    })
    .unwrap();
    assert_eq!(
        host.delete(&root(), Some("dummy_del_mod")),
        Err(Errno::EBUSY)
    );
    host.delete(&root(), Some("dummy_del_mod_dep")).unwrap();
    host.delete(&root(), Some("dummy_del_mod")).unwrap();
}
