//! Spec §2: create_module, one test per row, plus LTP create_module01/02.

mod common;
use common::*;

use umod_abi::module::MODULE_HEADER_SIZE;
use umod_abi::{
    Errno, ModuleHeader, ModuleInfo, PAGE_SIZE, QM_DEPS, QM_INFO, QM_MODULES, QM_REFS, QM_SYMBOLS,
};
use umod_host::{QueryAnswer, ScratchSpace};

#[test]
fn row1_eperm_is_checked_before_the_name_is_read() {
    let host = host();
    let before = snap(&host);
    let mem = ScratchSpace::new();
    // A faulting name pointer still gives EPERM: privilege comes first.
    assert_eq!(
        host.create_module(&nobody(), &mem, u64::MAX, 10000),
        Err(Errno::EPERM)
    );
    assert_eq!(host.create(&nobody(), "dummy", 10000), Err(Errno::EPERM));
    assert_eq!(snap(&host), before);
}

#[test]
fn row2_name_copy_in_errors() {
    let host = host();
    let before = snap(&host);
    let mut mem = ScratchSpace::new();
    assert_eq!(
        host.create_module(&root(), &mem, 0, 10000),
        Err(Errno::EFAULT),
        "NULL"
    );
    assert_eq!(
        host.create_module(&root(), &mem, u64::MAX, 10000),
        Err(Errno::EFAULT),
        "(char*)-1"
    );
    let empty = mem.put_cstr(b"");
    assert_eq!(
        host.create_module(&root(), &mem, empty, 10000),
        Err(Errno::EINVAL)
    );
    let long = mem.put_at_page_end(&long_name());
    assert_eq!(
        host.create_module(&root(), &mem, long, 1 << 20),
        Err(Errno::ENAMETOOLONG)
    );
    let unterminated = mem.put_at_page_end(b"abc");
    assert_eq!(
        host.create_module(&root(), &mem, unterminated, 10000),
        Err(Errno::EFAULT)
    );
    assert_eq!(snap(&host), before);
}

#[test]
fn row2_longest_accepted_name_is_4095_bytes() {
    let host = host();
    let name = "n".repeat(4095);
    let addr = host.create(&root(), &name, 8192).unwrap();
    assert_eq!(names(&host), vec![name.clone()]);
    assert_eq!(
        host.read_memory(addr + 184, 4096).unwrap().unwrap()[4095],
        0
    );
    host.delete(&root(), Some(&name)).unwrap();
}

#[test]
fn row3_size_floor_is_header_plus_name_plus_nul() {
    let host = host();
    let before = snap(&host);
    let min = (MODULE_HEADER_SIZE + "dummy".len() + 1) as u64;
    assert_eq!(host.create(&root(), "dummy", min - 1), Err(Errno::EINVAL));
    assert_eq!(host.create(&root(), "dummy", 1), Err(Errno::EINVAL));
    assert_eq!(host.create(&root(), "dummy", 0), Err(Errno::EINVAL));
    assert_eq!(snap(&host), before);
    host.create(&root(), "dummy", min).unwrap();
}

#[test]
fn row3_size_check_comes_before_eexist() {
    let host = host();
    host.create(&root(), "dup", 10000).unwrap();
    let before = snap(&host);
    assert_eq!(host.create(&root(), "dup", 1), Err(Errno::EINVAL));
    assert_eq!(snap(&host), before);
}

#[test]
fn row4_eexist_for_a_live_module() {
    let host = host();
    host.create(&root(), "dup", 10000).unwrap();
    let before = snap(&host);
    assert_eq!(host.create(&root(), "dup", 10000), Err(Errno::EEXIST));
    assert_eq!(snap(&host), before);
    // Once deleted, the name is free again.
    host.delete(&root(), Some("dup")).unwrap();
    host.create(&root(), "dup", 10000).unwrap();
}

#[test]
fn row5_enomem_when_nothing_fits() {
    let host = host();
    let before = snap(&host);
    for size in [
        u64::MAX,
        u64::MAX - 4095,
        0xffff_ffff,
        1 << 40,
        host.window_usage().capacity,
    ] {
        assert_eq!(
            host.create(&root(), "huge", size),
            Err(Errno::ENOMEM),
            "size {size:#x}"
        );
    }
    assert_eq!(snap(&host), before);
}

#[test]
fn row5_enomem_from_fragmentation() {
    let host = host();
    let cap = host.window_usage().capacity;
    let third = (cap / PAGE_SIZE / 3 - 1) * PAGE_SIZE;
    for name in ["a", "b", "c"] {
        host.create(&root(), name, third).unwrap();
    }
    host.delete(&root(), Some("a")).unwrap();
    host.delete(&root(), Some("c")).unwrap();
    let usage = host.window_usage();
    assert!(cap - usage.in_use >= third * 2, "two thirds are free");
    assert!(usage.largest_free < third * 2);
    assert_eq!(host.create(&root(), "big", third * 2), Err(Errno::ENOMEM));
    assert_eq!(names(&host), vec!["b"]);
}

#[test]
fn new_entry_state_and_return_value() {
    let host = host();
    let addr = host.create(&root(), "fresh", 10000).unwrap();
    assert_eq!(addr % PAGE_SIZE, 0);
    assert!(addr + 10000 <= 0x8000_0000, "inside the window below 2 GiB");
    assert_eq!(
        addr,
        host.window_usage().base,
        "the first module lands at the window base"
    );
    let bytes = host.read_memory(addr, 184 + 6).unwrap().unwrap();
    let h = ModuleHeader::decode(&bytes);
    assert_eq!(
        h,
        ModuleHeader {
            size_of_struct: 184,
            name: addr + 184,
            size: 10000,
            ..Default::default()
        }
    );
    assert_eq!(&bytes[184..], b"fresh\0");
}

#[test]
fn new_entries_go_at_the_head_of_the_list() {
    let host = host();
    for n in ["one", "two", "three"] {
        host.create(&root(), n, 10000).unwrap();
    }
    assert_eq!(names(&host), vec!["three", "two", "one"]);
    assert_eq!(
        host.query(None, QM_MODULES).unwrap(),
        QueryAnswer::Names(vec![b"three".to_vec(), b"two".to_vec(), b"one".to_vec()])
    );
}

#[test]
fn what_other_calls_see_of_an_uninitialized_entry() {
    let host = host();
    let addr = host.create(&root(), "uninit", 10000).unwrap();
    assert_eq!(
        host.query(Some("uninit"), QM_INFO).unwrap(),
        QueryAnswer::Info(ModuleInfo {
            addr,
            size: 10000,
            flags: 0,
            usecount: 0
        })
    );
    for which in [QM_SYMBOLS, QM_DEPS, QM_REFS] {
        let a = host.query(Some("uninit"), which).unwrap();
        assert!(
            matches!(a, QueryAnswer::Names(ref v) if v.is_empty())
                || a == QueryAnswer::Symbols(vec![])
        );
    }
    let ksyms = String::from_utf8(host.proc_ksyms().unwrap()).unwrap();
    // The module's tag, not the word: the kernel exports __spin_lock_uninit.
    assert!(!ksyms.contains("[uninit]"));
    let modules = String::from_utf8(host.proc_modules().unwrap()).unwrap();
    assert_eq!(
        modules,
        format!("{:<20}{:8} (uninitialized)\n", "uninit", 10000)
    );
    // get_kernel_syms skips it when filling but counts it (+1) when asked for the size.
    let syms = host.kernel_syms();
    assert_eq!(
        syms,
        Err(Errno::EAGAIN),
        "count and fill disagree by the tag"
    );
    // delete_module succeeds and runs no cleanup.
    host.delete(&root(), Some("uninit")).unwrap();
    assert!(names(&host).is_empty());
}

#[test]
fn ltp_create_module01() {
    let host = host();
    let name = format!("dummy_{}", std::process::id());
    let addr = host.create(&root(), &name, 10000).unwrap();
    assert!(addr > 0);
    host.delete(&root(), Some(&name)).unwrap();
    assert_eq!(host.window_usage().in_use, 0);
}

#[test]
fn ltp_create_module02() {
    let host = host();
    host.create(&root(), "dummy", 10000).unwrap();
    let before = snap(&host);
    let mut mem = ScratchSpace::new();
    let dummy = mem.put_cstr(b"dummy");
    let other = mem.put_cstr(b"other");
    let empty = mem.put_cstr(b"");
    let long = mem.put(&[b'm'; 4096]);
    let cases: [(_, u64, u64, Errno); 8] = [
        (nobody(), other, 10000, Errno::EPERM),
        (root(), u64::MAX, 10000, Errno::EFAULT),
        (root(), 0, 10000, Errno::EFAULT),
        (root(), empty, 10000, Errno::EINVAL),
        (root(), dummy, 10000, Errno::EEXIST),
        (root(), other, 1, Errno::EINVAL),
        (root(), long, 10000, Errno::ENAMETOOLONG),
        (root(), other, u64::MAX, Errno::ENOMEM),
    ];
    for (caller, name, size, want) in cases {
        assert_eq!(host.create_module(&caller, &mem, name, size), Err(want));
    }
    assert_eq!(snap(&host), before);
}

#[test]
fn every_byte_returns_to_the_window() {
    let host = host();
    let empty = host.window_usage();
    assert_eq!((empty.in_use, empty.blocks), (0, 0));
    host.create(&root(), "a", 5000).unwrap();
    let u = host.window_usage();
    assert_eq!(u.in_use, 3 * PAGE_SIZE, "two pages plus the guard page");
    assert_eq!(u.blocks, 1);
    host.create(&root(), "b", 4096).unwrap();
    assert_eq!(host.window_usage().in_use, 5 * PAGE_SIZE);
    host.delete(&root(), Some("a")).unwrap();
    host.delete(&root(), Some("b")).unwrap();
    assert_eq!(host.window_usage(), empty);
}

#[test]
fn freed_memory_is_wiped_before_reuse() {
    let host = host();
    let a = install(&host, "first", |_| {
        let mut b = umod_abi::image::ImageBuilder::new("first");
        b.append(&[0xaa; 600], 8);
        b
    })
    .unwrap();
    host.delete(&root(), Some("first")).unwrap();
    let b = host.create(&root(), "second", 4000).unwrap();
    assert_eq!(a, b, "first fit reuses the block");
    let bytes = host.read_memory(b + 191, 3000).unwrap().unwrap();
    assert!(
        bytes.iter().all(|&x| x == 0),
        "no byte of the old module remains"
    );
}
