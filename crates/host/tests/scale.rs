//! The host at the sizes a machine-wide daemon may reach: a million
//! exported symbols, thousands of modules. Every answer stays exact.

mod common;
use common::*;

use umod_abi::image::{ImageBuilder, SymbolValue};
use umod_abi::{Errno, KernelSym, ModuleSymbol, QM_SYMBOLS};
use umod_host::{Host, HostConfig, ScratchSpace, ViewPos};

const MODULES: usize = 1000;
const PER_MODULE: usize = 1000;

fn exports(name: &str) -> ImageBuilder {
    let mut b = ImageBuilder::new(name);
    for i in 0..PER_MODULE {
        b.export(
            &format!("{name}_s{i}"),
            SymbolValue::Absolute(0x100_0000 + i as u64),
        );
    }
    b
}

fn million() -> Host {
    let host = Host::with_config(HostConfig {
        window_size: 96 << 20,
        max_modules: 2 * MODULES,
        ..Default::default()
    })
    .unwrap();
    for m in 0..MODULES {
        let name = format!("m{m}");
        install(&host, &name, |_| exports(&name)).unwrap();
    }
    host
}

/// `query_module(name, QM_SYMBOLS)` with a buffer of `size` bytes: the
/// result, `*ret`, and the buffer.
fn qm_symbols(host: &Host, name: &str, size: u64) -> (Result<(), Errno>, u64, Vec<u8>) {
    let mut mem = ScratchSpace::new();
    let n = mem.put_cstr(name.as_bytes());
    let buf = mem.alloc(size as usize);
    let ret = mem.alloc(8);
    let r = host.query_module(&root(), &mut mem, n, QM_SYMBOLS, buf, size, ret);
    let bytes = mem.peek(buf, size as usize).unwrap();
    (r, mem.peek_u64(ret).unwrap(), bytes)
}

#[test]
fn a_million_exports_are_dumped_listed_and_resolved_exactly() {
    let host = million();
    let kernel = host.kernel_symbols().unwrap().len();
    let total = MODULES * (PER_MODULE + 1) + kernel + 1;

    // get_kernel_syms: the count, then the whole table, newest first.
    let syms = host.kernel_syms().unwrap();
    assert_eq!(syms.len(), total);
    let m999 = host.query(Some("m999"), umod_abi::QM_INFO).unwrap();
    let umod_abi::QueryAnswer::Info(info) = m999 else {
        panic!("{m999:?}")
    };
    assert_eq!(syms[0], KernelSym::tag(info.addr, b"m999"));
    assert_eq!(syms[1], KernelSym::symbol(0x100_0000, b"m999_s0"));
    assert_eq!(
        syms[PER_MODULE],
        KernelSym::symbol(0x100_0000 + 999, b"m999_s999")
    );
    assert_eq!(syms[PER_MODULE + 1].name_bytes(), b"#m998");
    let kernel_tag = MODULES * (PER_MODULE + 1);
    assert_eq!(syms[kernel_tag].name_bytes(), b"#");
    assert_eq!(
        syms[total - 1].name_bytes(),
        host.kernel_symbols().unwrap()[kernel - 1].name
    );

    // QM_SYMBOLS of one module: ENOSPC one byte short, with the exact size.
    let needed = 16 * PER_MODULE as u64
        + (0..PER_MODULE)
            .map(|i| format!("m500_s{i}").len() as u64 + 1)
            .sum::<u64>();
    let (r, ret, _) = qm_symbols(&host, "m500", needed - 1);
    assert_eq!((r, ret), (Err(Errno::ENOSPC), needed));
    let (r, ret, buf) = qm_symbols(&host, "m500", needed);
    assert_eq!((r, ret), (Ok(()), PER_MODULE as u64));
    let last = ModuleSymbol::decode(buf[16 * 999..16 * 1000].try_into().unwrap());
    assert_eq!(last.value, 0x100_0000 + 999);
    let name = &buf[last.name as usize..];
    assert_eq!(
        &name[..name.iter().position(|&b| b == 0).unwrap()],
        b"m500_s999"
    );

    // /proc/ksyms, complete, in chunks that add up to the whole.
    let mut lines = 0;
    let mut pos = Some(ViewPos::START);
    let mut first = None;
    while let Some(from) = pos {
        let chunk = host.proc_ksyms_chunk(from, 256 << 10).unwrap();
        assert!(chunk.text.ends_with(b"\n"));
        lines += chunk.text.iter().filter(|&&b| b == b'\n').count();
        first.get_or_insert(chunk.text);
        pos = chunk.next;
    }
    assert_eq!(lines, MODULES * PER_MODULE + kernel);
    assert!(first
        .unwrap()
        .starts_with(b"0000000001000000 m999_s0\t[m999]\n"));

    // Resolution finds any of them.
    let r = host
        .resolve_symbols(&root(), &[b"m0_s0", b"m999_s999", b"m500_s1000", b"printk"])
        .unwrap();
    assert_eq!(r.lookup(b"m0_s0").unwrap().1.name, b"m0");
    assert_eq!(r.lookup(b"m999_s999").unwrap().0.value, 0x100_0000 + 999);
    assert!(r.lookup(b"m500_s1000").is_none());
    assert!(r.lookup(b"printk").unwrap().1.is_kernel());
}
