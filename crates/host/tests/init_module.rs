//! Spec §3: init_module, one test per row (in check order), then the
//! linking of deps into refs (§3.1) and running init (§3.2).

mod common;
use common::*;

use umod_abi::image::{asm, ImageBuilder};
use umod_abi::{
    Errno, ModuleHeader, ModuleInfo, MOD_AUTOCLEAN, MOD_INITIALIZING, MOD_RUNNING, MOD_USED_ONCE,
    PAGE_SIZE, QM_INFO, QM_REFS,
};
use umod_host::{Host, QueryAnswer, ScratchSpace};

const RESERVED: u64 = 4000;

/// Creates `name` with 4000 bytes and returns (addr, a valid 1024-byte image).
fn created(host: &Host, name: &str) -> (u64, Vec<u8>) {
    let addr = host.create(&root(), name, RESERVED).unwrap();
    let mut b = ImageBuilder::new(name);
    b.min_size(1024);
    (addr, b.build(addr))
}

fn with_header(img: &[u8], f: impl FnOnce(&mut ModuleHeader)) -> Vec<u8> {
    let mut h = ModuleHeader::decode(img);
    f(&mut h);
    let mut out = img.to_vec();
    out[..184].copy_from_slice(&h.encode());
    out
}

/// init_module(name, img) fails with `want` and changes nothing.
fn refused(host: &Host, name: &str, img: &[u8], want: Errno) {
    let before = snap(host);
    assert_eq!(host.init(&root(), name, img), Err(want));
    assert_eq!(snap(host), before, "a refused init_module changed the host");
}

#[test]
fn row1_eperm_before_any_pointer() {
    let host = host();
    let (_, img) = created(&host, "m");
    let before = snap(&host);
    let mem = ScratchSpace::new();
    assert_eq!(host.init_module(&nobody(), &mem, 0, 0), Err(Errno::EPERM));
    assert_eq!(host.init(&nobody(), "m", &img), Err(Errno::EPERM));
    assert_eq!(snap(&host), before);
}

#[test]
fn row2_name_copy_in() {
    let host = host();
    let (_, img) = created(&host, "m");
    let before = snap(&host);
    let mut mem = ScratchSpace::new();
    let image = mem.put(&img);
    let empty = mem.put_cstr(b"");
    let long = mem.put(&long_name());
    assert_eq!(
        host.init_module(&root(), &mem, 0, image),
        Err(Errno::EFAULT)
    );
    assert_eq!(
        host.init_module(&root(), &mem, u64::MAX, image),
        Err(Errno::EFAULT)
    );
    assert_eq!(
        host.init_module(&root(), &mem, empty, image),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        host.init_module(&root(), &mem, long, image),
        Err(Errno::ENAMETOOLONG)
    );
    assert_eq!(snap(&host), before);
}

#[test]
fn row3_enoent_when_not_created() {
    let host = host();
    let (_, img) = created(&host, "m");
    refused(&host, "other", &img, Errno::ENOENT);
}

#[test]
fn row4_efault_reading_size_of_struct() {
    let host = host();
    created(&host, "m");
    let before = snap(&host);
    let mut mem = ScratchSpace::new();
    let name = mem.put_cstr(b"m");
    let short = mem.put_at_page_end(&[184, 0, 0, 0]); // 4 of the 8 bytes
    for image in [0, u64::MAX, short] {
        assert_eq!(
            host.init_module(&root(), &mem, name, image),
            Err(Errno::EFAULT)
        );
    }
    assert_eq!(snap(&host), before);
}

#[test]
fn row5_size_of_struct_range() {
    let host = host();
    let (_, img) = created(&host, "m");
    for sos in [0, 111, 313, u64::MAX] {
        refused(
            &host,
            "m",
            &with_header(&img, |h| h.size_of_struct = sos),
            Errno::EINVAL,
        );
    }
    assert_eq!(
        last_log(&host),
        "A new version of the modutils is likely needed."
    );
}

#[test]
fn row5_boundaries_112_and_312_are_accepted() {
    for sos in [112, 312] {
        let host = host();
        let (addr, _) = created(&host, "m");
        let mut b = ImageBuilder::new("m");
        b.min_size(1024);
        // Keep the name past the header, whatever its size.
        b.append(&[0u8; 160], 1);
        let name_at = b.append(b"m\0", 1);
        let img = with_header(&b.build(addr), |h| {
            h.size_of_struct = sos;
            h.name = addr + name_at;
        });
        assert!(name_at >= sos);
        host.init(&root(), "m", &img).unwrap();
        assert_eq!(snap(&host).modules[0].flags, MOD_RUNNING);
    }
}

// Row 6 (the kernel cannot allocate its temporary copies → ENOMEM) has no
// counterpart: the host's copies come from the Rust allocator, which
// aborts rather than fail, so there is no state in which to test it.

#[test]
fn row7_efault_copying_the_header() {
    let host = host();
    let (_, img) = created(&host, "m");
    let before = snap(&host);
    let mut mem = ScratchSpace::new();
    let name = mem.put_cstr(b"m");
    let image = mem.put_at_page_end(&img[..100]); // sos says 184
    assert_eq!(
        host.init_module(&root(), &mem, name, image),
        Err(Errno::EFAULT)
    );
    assert_eq!(snap(&host), before);
}

#[test]
fn row8_image_larger_than_reserved() {
    let host = host();
    let (_, img) = created(&host, "m");
    refused(
        &host,
        "m",
        &with_header(&img, |h| h.size = RESERVED + 1),
        Errno::EINVAL,
    );
    assert_eq!(
        last_log(&host),
        "init_module: Size of initialized module exceeds size of created module."
    );
}

#[test]
fn row9_name_bounds() {
    let host = host();
    let (addr, img) = created(&host, "m");
    let size = img.len() as u64;
    for name in [0, addr, addr + 183, addr + size, u64::MAX] {
        refused(
            &host,
            "m",
            &with_header(&img, |h| h.name = name),
            Errno::EINVAL,
        );
    }
    assert_eq!(last_log(&host), "init_module: mod->name out of bounds.");
}

#[test]
fn row10_syms_bounds() {
    let host = host();
    let (addr, img) = created(&host, "m");
    let size = img.len() as u64;
    let cases = [
        (addr, 1),
        (addr + size - 15, 1),
        (addr + 184, 54),
        (u64::MAX - 15, 2),
    ];
    for (syms, nsyms) in cases {
        let bad = with_header(&img, |h| {
            h.syms = syms;
            h.nsyms = nsyms;
        });
        refused(&host, "m", &bad, Errno::EINVAL);
    }
    assert_eq!(last_log(&host), "init_module: mod->syms out of bounds.");
    // nsyms == 0: the pointer is not looked at.
    host.init(&root(), "m", &with_header(&img, |h| h.syms = 1))
        .unwrap();
}

#[test]
fn row11_deps_bounds() {
    let host = host();
    let (addr, img) = created(&host, "m");
    let size = img.len() as u64;
    for (deps, ndeps) in [(addr + 8, 1), (addr + size - 23, 1), (addr + 200, 40)] {
        let bad = with_header(&img, |h| {
            h.deps = deps;
            h.ndeps = ndeps;
        });
        refused(&host, "m", &bad, Errno::EINVAL);
    }
    assert_eq!(last_log(&host), "init_module: mod->deps out of bounds.");
}

#[test]
fn row12_init_range_is_inclusive() {
    let host = host();
    let (addr, img) = created(&host, "m");
    let size = img.len() as u64;
    for init in [addr + 183, addr + size + 1, 1] {
        refused(
            &host,
            "m",
            &with_header(&img, |h| h.init = init),
            Errno::EINVAL,
        );
    }
    assert_eq!(last_log(&host), "init_module: mod->init out of bounds.");
}

#[test]
fn row13_cleanup_range() {
    let host = host();
    let (addr, img) = created(&host, "m");
    let size = img.len() as u64;
    for cleanup in [addr, addr + size + 1] {
        refused(
            &host,
            "m",
            &with_header(&img, |h| h.cleanup = cleanup),
            Errno::EINVAL,
        );
    }
    assert_eq!(last_log(&host), "init_module: mod->cleanup out of bounds.");
    // The range is inclusive: cleanup == base + size passes the checks. An
    // init that fails keeps the module from running, so it is never called.
    let mut b = ImageBuilder::new("m");
    b.min_size(1024);
    let c = b.append(&asm::return_value(-5), 16);
    b.init(c);
    let img = with_header(&b.build(addr), |h| h.cleanup = addr + h.size);
    assert_eq!(
        host.init(&root(), "m", &img),
        Err(Errno::EIO),
        "checks passed, init ran"
    );
}

#[test]
fn row14_exception_table() {
    let host = host();
    let (addr, img) = created(&host, "m");
    let size = img.len() as u64;
    let cases = [
        (addr + 400, addr + 384),        // start > end
        (addr + 176, addr + 192),        // starts inside the header
        (addr + size - 16, addr + size), // end must be strictly below base + size
        (addr + 400, addr + 408),        // not a whole number of 16-byte entries
        (0, 8),                          // start 0, end not a multiple of 16 away
    ];
    for (start, end) in cases {
        let bad = with_header(&img, |h| {
            h.ex_table_start = start;
            h.ex_table_end = end;
        });
        refused(&host, "m", &bad, Errno::EINVAL);
    }
    assert_eq!(last_log(&host), "init_module: mod->ex_table_* invalid.");
    let good = with_header(&img, |h| {
        h.ex_table_start = addr + 400;
        h.ex_table_end = addr + 432;
    });
    host.init(&root(), "m", &good).unwrap();
}

#[test]
fn row15_only_autoclean_may_be_set() {
    let host = host();
    let (_, img) = created(&host, "m");
    for flags in [MOD_RUNNING, MOD_USED_ONCE, MOD_AUTOCLEAN | 8, 1 << 40] {
        refused(
            &host,
            "m",
            &with_header(&img, |h| h.flags = flags),
            Errno::EINVAL,
        );
    }
    assert_eq!(last_log(&host), "init_module: mod->flags invalid.");
    host.init(
        &root(),
        "m",
        &with_header(&img, |h| h.flags = MOD_AUTOCLEAN),
    )
    .unwrap();
    assert_eq!(snap(&host).modules[0].flags, MOD_AUTOCLEAN | MOD_RUNNING);
}

#[test]
fn row16_can_unload_range_only_when_present() {
    let host = host();
    let (addr, img) = created(&host, "m");
    refused(
        &host,
        "m",
        &with_header(&img, |h| h.can_unload = addr + 8),
        Errno::EINVAL,
    );
    assert_eq!(
        last_log(&host),
        "init_module: mod->can_unload out of bounds."
    );
    // With a header too short to hold it (sos 128), the member is absent.
    let short = with_header(&img, |h| {
        h.size_of_struct = 128;
        h.can_unload = addr + 8;
    });
    host.init(&root(), "m", &short).unwrap();
    host.delete(&root(), Some("m")).unwrap();
}

#[test]
fn row17_kallsyms() {
    let host = host();
    let (addr, img) = created(&host, "m");
    let cases = [
        (addr, addr + 300),
        (addr + 300, addr + 8000),
        (addr + 300, 0),
        (addr + 310, addr + 300),
    ];
    for (start, end) in cases {
        let bad = with_header(&img, |h| {
            h.kallsyms_start = start;
            h.kallsyms_end = end;
        });
        refused(&host, "m", &bad, Errno::EINVAL);
    }
    // Absent below sos 160: garbage is ignored.
    let short = with_header(&img, |h| {
        h.size_of_struct = 152;
        h.kallsyms_start = 5;
    });
    host.init(&root(), "m", &short).unwrap();
}

#[test]
fn row17_kallsyms_messages() {
    let host = host();
    let (addr, img) = created(&host, "m");
    let oob = with_header(&img, |h| h.kallsyms_end = addr + 8000);
    refused(&host, "m", &oob, Errno::EINVAL);
    assert_eq!(last_log(&host), "init_module: mod->kallsyms out of bounds.");
    let inverted = with_header(&img, |h| h.kallsyms_start = addr + 300);
    refused(&host, "m", &inverted, Errno::EINVAL);
    assert_eq!(last_log(&host), "init_module: mod->kallsyms invalid.");
}

#[test]
fn row18_archdata() {
    let host = host();
    let (addr, img) = created(&host, "m");
    let cases = [
        (addr, addr + 300),
        (addr + 300, 0),
        (addr + 310, addr + 300),
    ];
    for (start, end) in cases {
        let bad = with_header(&img, |h| {
            h.archdata_start = start;
            h.archdata_end = end;
        });
        refused(&host, "m", &bad, Errno::EINVAL);
    }
    let short = with_header(&img, |h| {
        h.size_of_struct = 168;
        h.archdata_start = 5;
    });
    host.init(&root(), "m", &short).unwrap();
}

#[test]
fn row19_kernel_data_must_be_zero() {
    let host = host();
    let (_, img) = created(&host, "m");
    refused(
        &host,
        "m",
        &with_header(&img, |h| h.kernel_data = 1),
        Errno::EINVAL,
    );
    assert_eq!(
        last_log(&host),
        "init_module: mod->kernel_data must be zero."
    );
    let short = with_header(&img, |h| {
        h.size_of_struct = 176;
        h.kernel_data = 1;
    });
    host.init(&root(), "m", &short).unwrap();
}

#[test]
fn row20_name_is_reread_from_the_callers_buffer() {
    let host = host();
    let (addr, img) = created(&host, "mod");
    let size = img.len() as u64;
    let before = snap(&host);
    // The name pointer names the last 3 bytes of the image, "mod" without NUL;
    // the caller's buffer ends right there, so the re-read faults.
    let mut tail = img.clone();
    tail[size as usize - 3..].copy_from_slice(b"mod");
    let tail = with_header(&tail, |h| h.name = addr + size - 3);
    let mut mem = ScratchSpace::new();
    let name = mem.put_cstr(b"mod");
    let image = mem.put_at_page_end(&tail);
    assert_eq!(
        host.init_module(&root(), &mem, name, image),
        Err(Errno::EFAULT)
    );
    assert_eq!(snap(&host), before);
    assert_eq!(last_log(&host), "init_module: get_mod_name failure.");

    // The name pointer names an empty string: EINVAL from the copy-in.
    let mut empty = img.clone();
    empty[600..603].copy_from_slice(b"\0od");
    refused(
        &host,
        "mod",
        &with_header(&empty, |h| h.name = addr + 600),
        Errno::EINVAL,
    );
}

#[test]
fn row20_reread_name_too_long() {
    let host = host();
    let addr = host.create(&root(), "m", 3 * PAGE_SIZE).unwrap();
    let mut b = ImageBuilder::new("m");
    let at = b.append(&[b'm'; 4200], 1);
    let img = with_header(&b.build(addr), |h| h.name = addr + at);
    refused(&host, "m", &img, Errno::ENAMETOOLONG);
}

#[test]
fn row21_name_must_not_change() {
    let host = host();
    let (addr, img) = created(&host, "hello");
    let mut other = img.clone();
    other[600..606].copy_from_slice(b"hellp\0");
    refused(
        &host,
        "hello",
        &with_header(&other, |h| h.name = addr + 600),
        Errno::EINVAL,
    );
    assert_eq!(
        last_log(&host),
        "init_module: changed module name to `hellp' from `hello'"
    );
    let mut longer = img.clone();
    longer[600..607].copy_from_slice(b"hello2\0");
    refused(
        &host,
        "hello",
        &with_header(&longer, |h| h.name = addr + 600),
        Errno::EINVAL,
    );
}

#[test]
fn row22_efault_copying_the_body() {
    let host = host();
    let (_, img) = created(&host, "m");
    let before = snap(&host);
    let mut mem = ScratchSpace::new();
    let name = mem.put_cstr(b"m");
    let image = mem.put_at_page_end(&img[..img.len() - 1]);
    assert_eq!(
        host.init_module(&root(), &mem, name, image),
        Err(Errno::EFAULT)
    );
    assert_eq!(snap(&host), before);
}

// Row 23 is the architecture hook, a no-op on x86_64.

#[test]
fn row24_deps_must_be_other_modules() {
    let host = host();
    let kernel = host.lookup_kernel_symbol("printk").unwrap().unwrap();
    let other = plain(&host, "other");
    let addr = host.create(&root(), "m", RESERVED).unwrap();
    let with_dep = |dep: u64| {
        let mut b = ImageBuilder::new("m");
        b.depend_on(other).depend_on(dep);
        b.build(addr)
    };
    refused(&host, "m", &with_dep(addr), Errno::EINVAL);
    assert_eq!(
        last_log(&host),
        "init_module: self-referential dependency in mod->deps."
    );
    for dep in [0, addr + PAGE_SIZE, other + 8, kernel] {
        refused(&host, "m", &with_dep(dep), Errno::EINVAL);
    }
    assert_eq!(
        last_log(&host),
        "init_module: found dependency that is (no longer?) a module."
    );
    // An uninitialized entry counts as a module.
    let uninit = host.create(&root(), "uninit", RESERVED).unwrap();
    host.init(&root(), "m", &with_dep(uninit)).unwrap();
    let s = snap(&host);
    let m = s.modules.iter().find(|m| m.name == b"m").unwrap();
    assert_eq!(m.deps, vec![b"other".to_vec(), b"uninit".to_vec()]);
}

#[test]
fn deps_become_refs_newest_first_with_used_once() {
    let host = host();
    let lower = plain(&host, "lower");
    assert_eq!(snap(&host).modules[0].flags & MOD_USED_ONCE, 0);
    user_of(&host, "upper1", &[lower]);
    user_of(&host, "upper2", &[lower]);
    assert_eq!(
        host.query(Some("lower"), QM_REFS).unwrap(),
        QueryAnswer::Names(vec![b"upper2".to_vec(), b"upper1".to_vec()])
    );
    let s = snap(&host);
    let lower_snap = s.modules.iter().find(|m| m.name == b"lower").unwrap();
    assert_ne!(lower_snap.flags & MOD_USED_ONCE, 0);
    // The window image is linked as 2.4 would: lower.refs -> upper2's deps[0] -> upper1's.
    let h = ModuleHeader::decode(&lower_snap.header);
    let upper2 = s.modules.iter().find(|m| m.name == b"upper2").unwrap();
    let up2 = ModuleHeader::decode(&upper2.header);
    assert_eq!(h.refs, up2.deps);
    let r = host.read_memory(up2.deps, 24).unwrap().unwrap();
    let r = umod_abi::ModuleRef::decode(r[..].try_into().unwrap());
    assert_eq!((r.dep, r.r#ref), (lower, upper2.addr));
    assert_ne!(r.next_ref, 0);
    // The new module itself does not get USED_ONCE.
    assert_eq!(upper2.flags & MOD_USED_ONCE, 0);
}

#[test]
fn init_runs_with_usecount_one_and_initializing() {
    let host = host();
    let addr = install(&host, "probe", |base| {
        let mut b = ImageBuilder::new("probe");
        let slot = b.append(&[0u8; 16], 8);
        let mut code = asm::copy_u64(base + 32, base + slot);
        code.extend(asm::copy_u64(base + 40, base + slot + 8));
        code.extend(asm::return_value(0));
        let c = b.append(&code, 16);
        b.init(c);
        b
    })
    .unwrap();
    let m = &snap(&host).modules[0];
    // The slot: right after the name ("probe\0" at 184..190, aligned to 8 = 192).
    let slot = host.read_memory(addr + 192, 16).unwrap().unwrap();
    assert_eq!(
        u32::from_le_bytes(slot[..4].try_into().unwrap()),
        1,
        "usecount during init"
    );
    assert_eq!(
        u64::from_le_bytes(slot[8..].try_into().unwrap()),
        MOD_INITIALIZING
    );
    assert_eq!((m.usecount, m.flags), (0, MOD_RUNNING));
}

#[test]
fn init_failure_keeps_the_entry_and_its_refs() {
    let host = host();
    let lower = plain(&host, "lower");
    let size = {
        let mut b = ImageBuilder::new("bad");
        b.append(&asm::return_value(-5), 16);
        b.depend_on(lower);
        b.build(0).len() as u64
    };
    let addr = host.create(&root(), "bad", size).unwrap();
    let mut b = ImageBuilder::new("bad");
    let c = b.append(&asm::return_value(-5), 16);
    b.init(c).depend_on(lower).flags(MOD_AUTOCLEAN);
    assert_eq!(host.init(&root(), "bad", &b.build(addr)), Err(Errno::EIO));
    let s = snap(&host);
    assert_eq!(s.modules[0].name, b"bad");
    assert_eq!(
        (s.modules[0].usecount, s.modules[0].flags),
        (0, MOD_AUTOCLEAN)
    );
    assert_eq!(
        s.modules[1].refs,
        vec![b"bad".to_vec()],
        "the dependency stays pinned"
    );
    assert_eq!(host.delete(&root(), Some("lower")), Err(Errno::EBUSY));
    let modules = String::from_utf8(host.proc_modules().unwrap()).unwrap();
    assert!(
        modules.starts_with(&format!("{:<20}{:8} (uninitialized)\n", "bad", size)),
        "{modules}"
    );
    // The caller deletes it; that unlinks the refs and runs no cleanup.
    host.delete(&root(), Some("bad")).unwrap();
    host.delete(&root(), Some("lower")).unwrap();
    assert_eq!(host.window_usage().in_use, 0);
}

#[test]
fn positive_init_result_is_ebusy_negative_is_minus_r() {
    let host = host();
    assert_eq!(
        install(&host, "pos", returning("pos", 1)),
        Err(Errno::EBUSY)
    );
    assert_eq!(
        install(&host, "neg", returning("neg", -19)),
        Err(Errno::ENODEV)
    );
    assert_eq!(
        install(&host, "huge", returning("huge", i32::MIN)),
        Err(Errno::EINVAL)
    );
    for m in snap(&host).modules {
        assert_eq!((m.flags, m.usecount), (0, 0));
    }
}

#[test]
fn init_may_keep_its_own_reference() {
    let host = host();
    held(&host, "held");
    assert_eq!(snap(&host).modules[0].usecount, 1);
    assert_eq!(host.delete(&root(), Some("held")), Err(Errno::EBUSY));
    match host.query(Some("held"), QM_INFO).unwrap() {
        QueryAnswer::Info(ModuleInfo { usecount, .. }) => assert_eq!(usecount, 1),
        other => panic!("{other:?}"),
    }
}

#[test]
fn reinit_of_a_running_module_runs_init_again() {
    let host = host();
    let make = |base: u64| {
        let mut b = ImageBuilder::new("again");
        let counter = b.append(&[0u8; 8], 8);
        let c = b.append(&asm::increment_then_return(base + counter, 0), 16);
        b.init(c);
        b
    };
    let addr = install(&host, "again", make).unwrap();
    let counter = addr + 192;
    assert_eq!(host.read_memory(counter, 4).unwrap().unwrap(), [1, 0, 0, 0]);
    // A second init_module with an image whose counter already reads 5.
    let mut img = make(addr).build(addr);
    img[192] = 5;
    host.init(&root(), "again", &img).unwrap();
    assert_eq!(host.read_memory(counter, 4).unwrap().unwrap(), [6, 0, 0, 0]);
    assert_eq!(snap(&host).modules[0].flags, MOD_RUNNING);
}

#[test]
fn header_next_is_kept_and_refs_start_empty() {
    let host = host();
    let older = plain(&host, "older");
    let addr = host.create(&root(), "newer", RESERVED).unwrap();
    let img = with_header(&ImageBuilder::new("newer").build(addr), |h| {
        h.next = 0xdead_beef;
        h.refs = 0x1234;
        h.usecount = 77;
    });
    host.init(&root(), "newer", &img).unwrap();
    let h = ModuleHeader::decode(&snap(&host).modules[0].header);
    assert_eq!((h.next, h.refs, h.usecount), (older, 0, 0));
}
