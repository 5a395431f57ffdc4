//! Spec §5: query_module; LTP query_module01-03.

mod common;
use common::*;

use umod_abi::image::{asm, ImageBuilder, SymbolValue};
use umod_abi::structs::{decode_name_list, decode_qm_symbols};
use umod_abi::{
    Errno, ModuleInfo, ModuleSymbol, MOD_RUNNING, QM_DEPS, QM_INFO, QM_MODULES, QM_PROBE, QM_REFS,
    QM_SYMBOLS,
};
use umod_host::{Host, QueryAnswer, ScratchSpace};

const SENTINEL: u64 = 0x5555_5555_5555_5555;

/// One query_module call in a fresh scratch space.
struct Call {
    mem: ScratchSpace,
    buf: u64,
    ret: u64,
    result: Result<(), Errno>,
}

impl Call {
    fn ret(&self) -> u64 {
        self.mem.peek_u64(self.ret).unwrap()
    }
    fn buf(&self, n: usize) -> Vec<u8> {
        self.mem.peek(self.buf, n).unwrap()
    }
}

fn query(host: &Host, name: Option<&[u8]>, which: i32, bufsize: u64) -> Call {
    let mut mem = ScratchSpace::new();
    let name = name.map_or(0, |n| mem.put_cstr(n));
    let buf = mem.put(&vec![0xee; bufsize.max(1) as usize]);
    let ret = mem.put(&SENTINEL.to_le_bytes());
    let result = host.query_module(&nobody(), &mut mem, name, which, buf, bufsize, ret);
    Call {
        mem,
        buf,
        ret,
        result,
    }
}

#[test]
fn name_is_resolved_before_which() {
    let host = host();
    assert_eq!(
        query(&host, Some(b"nosuch"), 999, 16).result,
        Err(Errno::ENOENT)
    );
    assert_eq!(query(&host, Some(b""), 999, 16).result, Err(Errno::EINVAL));
    assert_eq!(
        query(&host, Some(&long_name()), QM_PROBE, 16).result,
        Err(Errno::ENAMETOOLONG)
    );
    let mut mem = ScratchSpace::new();
    assert_eq!(
        host.query_module(&nobody(), &mut mem, u64::MAX, QM_PROBE, 0, 0, 0),
        Err(Errno::EFAULT)
    );
}

#[test]
fn probe_touches_nothing() {
    let host = host();
    host.create(&root(), "uninit", 4000).unwrap();
    for name in [None, Some(&b"uninit"[..])] {
        let c = query(&host, name, QM_PROBE, 8);
        assert_eq!(c.result, Ok(()));
        assert_eq!(c.ret(), SENTINEL);
        assert_eq!(c.buf(8), vec![0xee; 8]);
    }
    let mut mem = ScratchSpace::new();
    assert_eq!(
        host.query_module(&nobody(), &mut mem, 0, 0, 0, 0, 0),
        Ok(()),
        "(NULL, 0, NULL, 0, NULL)"
    );
}

#[test]
fn unknown_which_is_einval_for_any_target() {
    let host = host();
    plain(&host, "m");
    for name in [None, Some(&b"m"[..])] {
        for which in [6, -1, 105] {
            let c = query(&host, name, which, 64);
            assert_eq!(c.result, Err(Errno::EINVAL));
            assert_eq!(c.ret(), SENTINEL);
        }
    }
}

#[test]
fn qm_modules_lists_every_entry_newest_first() {
    let host = host();
    let c = query(&host, None, QM_MODULES, 0);
    assert_eq!(
        (c.result, c.ret()),
        (Ok(()), 0),
        "no modules: success, count 0"
    );
    plain(&host, "alpha");
    host.create(&root(), "beta", 4000).unwrap();
    // Any resolvable name works as the target.
    for name in [None, Some(&b"alpha"[..]), Some(&b"beta"[..])] {
        let c = query(&host, name, QM_MODULES, 64);
        assert_eq!((c.result, c.ret()), (Ok(()), 2));
        assert_eq!(&c.buf(11), b"beta\0alpha\0");
    }
}

#[test]
fn qm_modules_enospc_reports_the_total_and_keeps_what_fitted() {
    let host = host();
    plain(&host, "alpha");
    plain(&host, "beta");
    let c = query(&host, None, QM_MODULES, 0);
    assert_eq!((c.result, c.ret()), (Err(Errno::ENOSPC), 11));
    let c = query(&host, None, QM_MODULES, 7);
    assert_eq!((c.result, c.ret()), (Err(Errno::ENOSPC), 11));
    assert_eq!(c.buf(7), b"beta\0\xee\xee", "the first name was written");
    // buf NULL and size 0 (BusyBox lsmod's sizing call).
    let mut mem = ScratchSpace::new();
    let ret = mem.alloc(8);
    assert_eq!(
        host.query_module(&nobody(), &mut mem, 0, QM_MODULES, 0, 0, ret),
        Err(Errno::ENOSPC)
    );
    assert_eq!(mem.peek_u64(ret), Some(11));
}

#[test]
fn qm_deps_and_refs() {
    let host = host();
    let a = plain(&host, "a");
    let b = plain(&host, "b");
    user_of(&host, "user1", &[b, a]);
    user_of(&host, "user2", &[a]);
    let c = query(&host, Some(b"user1"), QM_DEPS, 64);
    assert_eq!((c.result, c.ret()), (Ok(()), 2));
    assert_eq!(
        decode_name_list(&c.buf(64), 2).unwrap(),
        vec![b"b".to_vec(), b"a".to_vec()]
    );
    let c = query(&host, Some(b"a"), QM_REFS, 64);
    assert_eq!((c.result, c.ret()), (Ok(()), 2));
    assert_eq!(
        decode_name_list(&c.buf(64), 2).unwrap(),
        vec![b"user2".to_vec(), b"user1".to_vec()]
    );
    let c = query(&host, Some(b"a"), QM_REFS, 8);
    assert_eq!((c.result, c.ret()), (Err(Errno::ENOSPC), 12));
    assert_eq!(&c.buf(6), b"user2\0");
    let c = query(&host, Some(b"user1"), QM_DEPS, 3);
    assert_eq!((c.result, c.ret()), (Err(Errno::ENOSPC), 4));
}

#[test]
fn qm_deps_and_refs_of_the_kernel_are_einval_without_touching_ret() {
    let host = host();
    for which in [QM_DEPS, QM_REFS, QM_INFO] {
        let c = query(&host, None, which, 64);
        assert_eq!((c.result, c.ret()), (Err(Errno::EINVAL), SENTINEL));
    }
    let mut mem = ScratchSpace::new();
    assert_eq!(
        host.query_module(&nobody(), &mut mem, 0, QM_REFS, 0, 0, u64::MAX),
        Err(Errno::EINVAL),
        "ret is never touched"
    );
}

#[test]
fn non_queryable_modules_answer_zero_entries() {
    let host = host();
    let lower = plain(&host, "lower");
    host.create(&root(), "uninit", 4000).unwrap();
    let failed = |_| {
        let mut b = ImageBuilder::new("failed");
        let c = b.append(&asm::return_value(-1), 16);
        let f = b.append(&asm::return_value(0), 16);
        b.init(c)
            .depend_on(lower)
            .export("f", SymbolValue::Offset(f));
        b
    };
    assert_eq!(install(&host, "failed", failed), Err(Errno::EPERM));
    for name in [&b"uninit"[..], b"failed"] {
        for which in [QM_DEPS, QM_REFS, QM_SYMBOLS] {
            let c = query(&host, Some(name), which, 64);
            assert_eq!((c.result, c.ret()), (Ok(()), 0));
            assert_eq!(c.buf(4), vec![0xee; 4]);
        }
    }
}

#[test]
fn qm_symbols_layout() {
    let host = host();
    let base = exporter(&host, "exp", &["first", "second_symbol"]);
    let c = query(&host, Some(b"exp"), QM_SYMBOLS, 256);
    assert_eq!((c.result, c.ret()), (Ok(()), 2));
    let buf = c.buf(256);
    let e0 = ModuleSymbol::decode(buf[0..16].try_into().unwrap());
    let e1 = ModuleSymbol::decode(buf[16..32].try_into().unwrap());
    assert_eq!(
        (e0.name, e1.name),
        (32, 38),
        "offsets from the start of buf"
    );
    assert_eq!(&buf[32..52], b"first\0second_symbol\0");
    assert!(e0.value > base && e1.value > e0.value);
    assert_eq!(
        host.query(Some("exp"), QM_SYMBOLS).unwrap(),
        QueryAnswer::Symbols(vec![
            (e0.value, b"first".to_vec()),
            (e1.value, b"second_symbol".to_vec())
        ])
    );
}

#[test]
fn qm_symbols_enospc() {
    let host = host();
    exporter(&host, "exp", &["first", "second_symbol"]);
    let total = 32 + 6 + 14;
    // The table itself does not fit: nothing is written.
    let c = query(&host, Some(b"exp"), QM_SYMBOLS, 31);
    assert_eq!((c.result, c.ret()), (Err(Errno::ENOSPC), total));
    assert_eq!(c.buf(31), vec![0xee; 31]);
    // The second string does not fit: the first entry and string are in.
    let c = query(&host, Some(b"exp"), QM_SYMBOLS, 40);
    assert_eq!((c.result, c.ret()), (Err(Errno::ENOSPC), total));
    let buf = c.buf(40);
    assert_eq!(&buf[32..38], b"first\0");
    assert_eq!(
        ModuleSymbol::decode(buf[0..16].try_into().unwrap()).name,
        32
    );
    assert_eq!(
        &buf[16..32],
        &[0xee; 16],
        "the second entry was not written"
    );
}

#[test]
fn qm_symbols_buffer_range_check() {
    let host = host();
    exporter(&host, "exp", &["f"]);
    let mut mem = ScratchSpace::new();
    let name = mem.put_cstr(b"exp");
    let ret = mem.alloc(8);
    assert_eq!(
        host.query_module(&nobody(), &mut mem, name, QM_SYMBOLS, u64::MAX, 4096, ret),
        Err(Errno::EFAULT)
    );
    // A module with no symbols still range-checks an empty table at (void*)-1.
    plain(&host, "none");
    let none = mem.put_cstr(b"none");
    assert_eq!(
        host.query_module(&nobody(), &mut mem, none, QM_SYMBOLS, u64::MAX, 4096, ret),
        Err(Errno::EFAULT)
    );
}

#[test]
fn qm_symbols_of_the_kernel() {
    let host = host();
    let Ok(QueryAnswer::Symbols(syms)) = host.query(None, QM_SYMBOLS) else {
        panic!("kernel symbols");
    };
    let printk = syms
        .iter()
        .find(|(_, n)| n == b"printk")
        .expect("printk is exported");
    let usage = host.window_usage();
    assert!(
        printk.0 >= usage.base + usage.capacity && printk.0 < 0x8000_0000,
        "in the window"
    );
    assert!(syms.iter().any(|(_, n)| n == b"jiffies"));
}

#[test]
fn qm_info() {
    let host = host();
    let addr = plain(&host, "m");
    let c = query(&host, Some(b"m"), QM_INFO, 32);
    assert_eq!((c.result, c.ret()), (Ok(()), 32));
    let info = ModuleInfo::decode(c.buf(32)[..].try_into().unwrap());
    // size: the image's, header and "m\0".
    assert_eq!(
        info,
        ModuleInfo {
            addr,
            size: 186,
            flags: MOD_RUNNING,
            usecount: 0
        }
    );
    let c = query(&host, Some(b"m"), QM_INFO, 31);
    assert_eq!((c.result, c.ret()), (Err(Errno::ENOSPC), 32));
    assert_eq!(c.buf(31), vec![0xee; 31]);
}

#[test]
fn qm_info_usecount_with_can_unload() {
    let host = host();
    for (name, busy) in [("busy", 1), ("idle", 0)] {
        install(&host, name, |_| {
            let mut b = ImageBuilder::new(name);
            let c = b.append(&asm::return_value(busy), 16);
            b.can_unload(c);
            b
        })
        .unwrap();
    }
    let usecount = |n| match host.query(Some(n), QM_INFO).unwrap() {
        QueryAnswer::Info(i) => i.usecount,
        other => panic!("{other:?}"),
    };
    assert_eq!(usecount("busy"), -1);
    assert_eq!(
        usecount("idle"),
        0,
        "2.4.32: -1 only when the callback says busy"
    );
}

#[test]
fn efault_writing_ret_even_on_success_or_enospc() {
    let host = host();
    plain(&host, "m");
    let mut mem = ScratchSpace::new();
    let name = mem.put_cstr(b"m");
    let buf = mem.alloc(4096);
    let ro = mem.put_read_only(&[0; 8]);
    for (which, size) in [
        (QM_MODULES, 4096),
        (QM_MODULES, 0),
        (QM_INFO, 4096),
        (QM_INFO, 0),
        (QM_SYMBOLS, 0),
    ] {
        for ret in [u64::MAX, 0, ro] {
            assert_eq!(
                host.query_module(&nobody(), &mut mem, name, which, buf, size, ret),
                Err(Errno::EFAULT),
                "which {which} size {size}"
            );
        }
    }
}

#[test]
fn a_bad_buf_is_not_touched_when_nothing_fits() {
    let host = host();
    plain(&host, "m");
    let mut mem = ScratchSpace::new();
    let ret = mem.alloc(8);
    assert_eq!(
        host.query_module(&nobody(), &mut mem, 0, QM_MODULES, u64::MAX, 1, ret),
        Err(Errno::ENOSPC)
    );
    assert_eq!(mem.peek_u64(ret), Some(2));
    assert_eq!(
        host.query_module(&nobody(), &mut mem, 0, QM_MODULES, u64::MAX, 4096, ret),
        Err(Errno::EFAULT)
    );
}

#[test]
fn query_holds_a_use_for_its_duration() {
    let host = host();
    // can_unload copies the live usecount into the module's data and says "idle".
    let addr = install(&host, "m", |base| {
        let mut b = ImageBuilder::new("m");
        let slot = b.append(&[0u8; 8], 8);
        let mut code = asm::copy_u64(base + 32, base + slot);
        code.extend(asm::return_value(0));
        let c = b.append(&code, 16);
        b.can_unload(c);
        b
    })
    .unwrap();
    host.query(Some("m"), QM_INFO).unwrap();
    assert_eq!(
        host.read_memory(addr + 192, 4).unwrap().unwrap(),
        [1, 0, 0, 0]
    );
    assert_eq!(snap(&host).modules[0].usecount, 0, "dropped afterwards");
}

#[test]
fn ltp_query_module01() {
    let host = host();
    let lower = exporter(&host, "dummy_query_mod", &["dummy_func_test"]);
    user_of(&host, "dummy_query_mod_dep", &[lower]);
    assert_eq!(query(&host, None, QM_PROBE, 0).result, Ok(()));
    let c = query(&host, None, QM_MODULES, 1024);
    assert!(decode_name_list(&c.buf(1024), c.ret() as usize)
        .unwrap()
        .contains(&b"dummy_query_mod".to_vec()));
    let c = query(&host, Some(b"dummy_query_mod_dep"), QM_DEPS, 1024);
    assert_eq!(
        decode_name_list(&c.buf(1024), c.ret() as usize).unwrap(),
        vec![b"dummy_query_mod".to_vec()]
    );
    let c = query(&host, Some(b"dummy_query_mod"), QM_REFS, 1024);
    assert_eq!(
        decode_name_list(&c.buf(1024), c.ret() as usize).unwrap(),
        vec![b"dummy_query_mod_dep".to_vec()]
    );
    let c = query(&host, Some(b"dummy_query_mod"), QM_INFO, 1024);
    let info = ModuleInfo::decode(c.buf(32)[..].try_into().unwrap());
    assert_ne!(info.flags & MOD_RUNNING, 0);
    let c = query(&host, Some(b"dummy_query_mod"), QM_SYMBOLS, 1024);
    let syms = decode_qm_symbols(&c.buf(1024), c.ret() as usize).unwrap();
    assert_eq!(syms[0].1, b"dummy_func_test");
}

#[test]
fn ltp_query_module02() {
    let host = host();
    assert_eq!(
        query(&host, Some(b"nosuch"), QM_REFS, 64).result,
        Err(Errno::ENOENT)
    );
    assert_eq!(
        query(&host, None, QM_INFO + 100, 64).result,
        Err(Errno::EINVAL)
    );
    assert_eq!(query(&host, None, QM_REFS, 64).result, Err(Errno::EINVAL));
    assert_eq!(
        query(&host, Some(b""), QM_PROBE, 64).result,
        Err(Errno::EINVAL)
    );
    assert_eq!(
        query(&host, Some(&long_name()), QM_PROBE, 64).result,
        Err(Errno::ENAMETOOLONG)
    );
}

#[test]
fn ltp_query_module03() {
    let host = host();
    plain(&host, "dummy_query_mod");
    let mut mem = ScratchSpace::new();
    let buf = mem.alloc(4096);
    let ret = mem.alloc(8);
    assert_eq!(
        host.query_module(&nobody(), &mut mem, u64::MAX, QM_PROBE, buf, 4096, ret),
        Err(Errno::EFAULT)
    );
    assert_eq!(
        host.query_module(&nobody(), &mut mem, 0, QM_MODULES, buf, 4096, u64::MAX),
        Err(Errno::EFAULT)
    );
    assert_eq!(
        host.query_module(&nobody(), &mut mem, 0, QM_MODULES, u64::MAX, 4096, ret),
        Err(Errno::EFAULT)
    );
    assert_eq!(
        host.query_module(&nobody(), &mut mem, 0, QM_MODULES, buf, 1, ret),
        Err(Errno::ENOSPC)
    );
}
