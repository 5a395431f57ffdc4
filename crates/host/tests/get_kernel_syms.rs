//! Spec §6: get_kernel_syms.

mod common;
use common::*;

use umod_abi::image::{asm, ImageBuilder, SymbolValue};
use umod_abi::{Errno, KernelSym};
use umod_host::{Host, ScratchSpace};

fn kernel_count(host: &Host) -> i64 {
    host.kernel_symbols().unwrap().len() as i64
}

#[test]
fn null_table_counts_every_entry_plus_a_tag_each() {
    let host = host();
    let mut mem = ScratchSpace::new();
    let k = kernel_count(&host);
    assert_eq!(host.get_kernel_syms(&nobody(), &mut mem, 0), Ok(k + 1));
    exporter(&host, "two", &["a", "b"]);
    host.create(&root(), "uninit", 4000).unwrap();
    // Uninitialized entries count too (0 symbols + 1 tag).
    assert_eq!(
        host.get_kernel_syms(&nobody(), &mut mem, 0),
        Ok(k + 1 + 3 + 1)
    );
}

#[test]
fn failed_entries_count_their_image_symbols() {
    let host = host();
    let failing = |_| {
        let mut b = ImageBuilder::new("failing");
        let c = b.append(&asm::return_value(-5), 16);
        b.init(c)
            .export("x", SymbolValue::Offset(c))
            .export("y", SymbolValue::Offset(c));
        b
    };
    assert_eq!(install(&host, "failing", failing), Err(Errno::EIO));
    let mut mem = ScratchSpace::new();
    let k = kernel_count(&host);
    assert_eq!(
        host.get_kernel_syms(&nobody(), &mut mem, 0),
        Ok(k + 1 + 2 + 1)
    );
    // ...but a dump skips it: the count and the fill disagree.
    let table = mem.alloc(((k + 4) * 72) as usize);
    assert_eq!(host.get_kernel_syms(&nobody(), &mut mem, table), Ok(k + 1));
}

#[test]
fn dump_has_tags_newest_first_and_the_kernel_last() {
    let host = host();
    let a = exporter(&host, "older", &["old_fn"]);
    let b = exporter(&host, "newer", &["new_fn", "new_fn2"]);
    let syms = host.kernel_syms().unwrap();
    let names: Vec<_> = syms
        .iter()
        .map(|s| String::from_utf8_lossy(s.name_bytes()).into_owned())
        .collect();
    assert_eq!(
        &names[..6],
        &["#newer", "new_fn", "new_fn2", "#older", "old_fn", "#"]
    );
    assert_eq!(
        (syms[0].value, syms[3].value),
        (b, a),
        "tags carry the header address"
    );
    let kernel = host.kernel_symbols().unwrap();
    assert_eq!(syms.len(), 6 + kernel.len());
    for (s, k) in syms[6..].iter().zip(&kernel) {
        assert_eq!((s.value, s.name_bytes()), (k.value, &k.name[..]));
    }
}

#[test]
fn names_are_truncated_and_nul_padded() {
    let host = host();
    let long_mod = "m".repeat(70);
    let long_sym = "s".repeat(70);
    exporter(&host, &long_mod, &[&long_sym]);
    let mut mem = ScratchSpace::new();
    let table = mem.alloc(4096 * 4);
    host.get_kernel_syms(&nobody(), &mut mem, table).unwrap();
    let raw = mem.peek(table, 144).unwrap();
    let tag = KernelSym::decode(raw[..72].try_into().unwrap());
    assert_eq!(tag.name_bytes().len(), 59, "# plus 58 characters");
    assert_eq!(tag.name[59], 0);
    let sym = KernelSym::decode(raw[72..].try_into().unwrap());
    assert_eq!(sym.name_bytes(), "s".repeat(59).as_bytes());
    assert_eq!(&raw[68..72], &[0; 4], "tail padding is zero");
    // A short name is NUL-padded through all 60 bytes.
    let k = mem.peek(table + 2 * 72, 72).unwrap();
    assert_eq!(&k[8..10], b"#\0");
    assert!(k[9..72].iter().all(|&c| c == 0));
}

#[test]
fn a_faulting_write_returns_the_partial_count() {
    let host = host();
    exporter(&host, "m", &["a", "b", "c"]);
    let mut mem = ScratchSpace::new();
    // Room for exactly two entries before an unmapped page.
    let table = mem.put_at_page_end(&[0u8; 144]);
    assert_eq!(host.get_kernel_syms(&nobody(), &mut mem, table), Ok(2));
    assert_eq!(host.get_kernel_syms(&nobody(), &mut mem, u64::MAX), Ok(0));
}

#[test]
fn needs_no_privilege() {
    let host = host();
    let mut mem = ScratchSpace::new();
    assert!(host.get_kernel_syms(&nobody(), &mut mem, 0).unwrap() > 0);
}
