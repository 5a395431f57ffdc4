//! A malformed-input corpus generated here, case by case: objects with
//! every ELF header, section, symbol and relocation field pushed to its
//! edges, and images with every `size_of_struct` and every header pointer
//! just outside the reserved block. Every case ends in a clear error or a
//! module that loads and unloads cleanly; never a panic, never a changed
//! host. Nothing a case loads runs (the object has no init or cleanup).

mod common;
use common::*;

use std::path::PathBuf;

use umod_abi::image::ImageBuilder;
use umod_abi::module::offsets;
use umod_abi::{Errno, ModuleHeader};
use umod_host::{Host, LoadOptions};

fn inert() -> Vec<u8> {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../loader/tests/fixtures/inert.c");
    let out =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("inert-{}.o", std::process::id()));
    umod_loader::kit::compile(&src, &out).unwrap();
    std::fs::read(out).unwrap()
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes(b[at..at + 2].try_into().unwrap())
}
fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

/// Loads `object` one-shot; on success unloads it. The host must look the
/// same afterwards whatever happened (dmesg aside). Returns whether the
/// object was refused.
fn try_case(host: &Host, object: &[u8], what: &str) -> bool {
    let before = snap(host);
    let refused = match host.load_object(&root(), "inert", object, &LoadOptions::default()) {
        Ok(_) => {
            host.delete(&root(), Some("inert")).unwrap();
            false
        }
        Err(e) => {
            assert!(
                !e.to_string().is_empty(),
                "{what}: an error that says nothing"
            );
            true
        }
    };
    assert_eq!(snap(host), before, "{what}: the host changed");
    refused
}

#[test]
fn generated_object_corpus() {
    let host = host();
    let base = inert();
    assert!(
        !try_case(&host, &base, "the unmodified object"),
        "the base object loads"
    );
    let mut cases = 0;
    let mut refused = 0;
    let mut case = |object: Vec<u8>, what: String| {
        cases += 1;
        if try_case(&host, &object, &what) {
            refused += 1;
        }
    };
    // Truncation at every length of the header and around every section.
    for len in (0..=64).chain((64..base.len()).step_by(97)) {
        case(base[..len].to_vec(), format!("truncated to {len}"));
    }
    let shoff = u64_at(&base, 0x28) as usize;
    let shnum = u16_at(&base, 0x3c) as usize;
    let edges = [
        0u64,
        1,
        3,
        0xff,
        0xffff,
        0x7fff_ffff,
        0xffff_ffff,
        1 << 40,
        u64::MAX - 7,
        u64::MAX,
    ];
    // Every section header field at every edge value.
    for i in 0..shnum {
        let h = shoff + 64 * i;
        for (field, at, width) in [
            ("type", 4, 4),
            ("flags", 8, 8),
            ("offset", 0x18, 8),
            ("size", 0x20, 8),
            ("link", 0x28, 4),
            ("info", 0x2c, 4),
            ("align", 0x30, 8),
            ("entsize", 0x38, 8),
        ] {
            for v in edges {
                let mut o = base.clone();
                o[h + at..h + at + width].copy_from_slice(&v.to_le_bytes()[..width]);
                case(o, format!("section {i} {field} = {v:#x}"));
            }
        }
    }
    // ELF header fields.
    for (field, at, width) in [
        ("type", 16, 2),
        ("machine", 18, 2),
        ("shoff", 0x28, 8),
        ("shentsize", 0x3a, 2),
        ("shnum", 0x3c, 2),
        ("shstrndx", 0x3e, 2),
    ] {
        for v in edges {
            let mut o = base.clone();
            o[at..at + width].copy_from_slice(&v.to_le_bytes()[..width]);
            case(o, format!("ELF header {field} = {v:#x}"));
        }
    }
    // Every symbol's section index, value, size and name, and every
    // relocation's offset, symbol and type.
    for i in 0..shnum {
        let h = shoff + 64 * i;
        let (kind, off, size) = (
            u32::from_le_bytes(base[h + 4..h + 8].try_into().unwrap()),
            u64_at(&base, h + 0x18) as usize,
            u64_at(&base, h + 0x20) as usize,
        );
        if kind == 2 {
            for s in (24..size).step_by(24) {
                for (field, at, width) in [
                    ("name", 0, 4),
                    ("shndx", 6, 2),
                    ("value", 8, 8),
                    ("size", 16, 8),
                ] {
                    for v in [0u64, 0xfff1, 0xfff2, 0xff00, 0xffff, 1 << 32, u64::MAX] {
                        let mut o = base.clone();
                        o[off + s + at..off + s + at + width]
                            .copy_from_slice(&v.to_le_bytes()[..width]);
                        case(o, format!("symbol {} {field} = {v:#x}", s / 24));
                    }
                }
            }
        }
        if kind == 4 {
            for r in (0..size).step_by(24) {
                for v in [u64::MAX, 1 << 20, 0] {
                    let mut o = base.clone();
                    o[off + r..off + r + 8].copy_from_slice(&v.to_le_bytes());
                    case(o, format!("rela {} offset = {v:#x}", r / 24));
                }
                let info = u64_at(&base, off + r + 8);
                for (sym, ty) in [
                    (info >> 32, 200u64),
                    (info >> 32, 22),
                    (info >> 32, 37),
                    (0xffff, info & 0xffff_ffff),
                    (u32::MAX as u64, info & 0xffff_ffff),
                ] {
                    let mut o = base.clone();
                    o[off + r + 8..off + r + 16].copy_from_slice(&(sym << 32 | ty).to_le_bytes());
                    case(o, format!("rela {} sym {sym} type {ty}", r / 24));
                }
            }
        }
    }
    // No symbol table at all, and every relocation against symbol 0 (the
    // null symbol, which then exists only implicitly).
    let mut o = base.clone();
    for i in 0..shnum {
        let h = shoff + 64 * i;
        let (off, size) = (
            u64_at(&base, h + 0x18) as usize,
            u64_at(&base, h + 0x20) as usize,
        );
        match u32::from_le_bytes(base[h + 4..h + 8].try_into().unwrap()) {
            2 => o[h + 4..h + 8].copy_from_slice(&0u32.to_le_bytes()),
            4 => {
                for r in (0..size).step_by(24) {
                    let ty = u64_at(&base, off + r + 8) & 0xffff_ffff;
                    o[off + r + 8..off + r + 16].copy_from_slice(&ty.to_le_bytes());
                }
            }
            _ => {}
        }
    }
    case(o, "no symbol table, relocations against symbol 0".into());
    host.clear_dmesg();
    eprintln!(
        "malformed objects: {cases} cases, {refused} refused, {} loaded and unloaded cleanly",
        cases - refused
    );
    assert!(refused > cases / 3, "most of the corpus is malformed");
}

#[test]
fn generated_image_corpus() {
    let host = host();
    let mut cases = 0;
    // Every size_of_struct from 0 to 320.
    for sos in 0..=320u64 {
        let addr = host.create(&root(), "img", 4000).unwrap();
        let mut b = ImageBuilder::new("img");
        b.append(&[0u8; 200], 8);
        let name_at = b.append(b"img\0", 1);
        b.min_size(1024);
        let mut img = b.build(addr);
        let mut h = ModuleHeader::decode(&img);
        h.size_of_struct = sos;
        h.name = addr + name_at;
        img[..184].copy_from_slice(&h.encode());
        let before = snap(&host);
        let r = host.init(&root(), "img", &img);
        if (112..=312).contains(&sos) {
            assert_eq!(r, Ok(()), "sos {sos}");
        } else {
            assert_eq!(r, Err(Errno::EINVAL), "sos {sos}");
            assert_eq!(snap(&host), before);
        }
        host.delete(&root(), Some("img")).unwrap();
        cases += 1;
    }
    // Every pointer member just outside the block, and at the far end.
    let members = [
        offsets::NAME,
        offsets::SYMS,
        offsets::DEPS,
        offsets::INIT,
        offsets::CLEANUP,
        offsets::EX_TABLE_START,
        offsets::EX_TABLE_END,
        offsets::CAN_UNLOAD,
        offsets::KALLSYMS_START,
        offsets::KALLSYMS_END,
        offsets::ARCHDATA_START,
        offsets::ARCHDATA_END,
    ];
    let addr = host.create(&root(), "img", 4000).unwrap();
    let mut b = ImageBuilder::new("img");
    b.min_size(1024);
    let good = b.build(addr);
    for member in members {
        for v in [
            addr - 1,
            addr + 1024 + 1,
            addr + 4096,
            u64::MAX,
            u64::MAX - 15,
        ] {
            let mut img = good.clone();
            img[member..member + 8].copy_from_slice(&v.to_le_bytes());
            // Give counted tables a count so their pointer is looked at.
            img[offsets::NSYMS..offsets::NSYMS + 4].copy_from_slice(&1u32.to_le_bytes());
            img[offsets::NDEPS..offsets::NDEPS + 4].copy_from_slice(&1u32.to_le_bytes());
            let before = snap(&host);
            assert_eq!(
                host.init(&root(), "img", &img),
                Err(Errno::EINVAL),
                "member {member} = {v:#x}"
            );
            assert_eq!(snap(&host), before);
            cases += 1;
        }
    }
    // A name without its NUL at the very end of the caller's buffer.
    let mut img = good.clone();
    let end = img.len() - 3;
    img[end..].copy_from_slice(b"img");
    img[offsets::NAME..offsets::NAME + 8].copy_from_slice(&(addr + end as u64).to_le_bytes());
    let mut mem = umod_host::ScratchSpace::new();
    let name = mem.put_cstr(b"img");
    let image = mem.put_at_page_end(&img);
    let before = snap(&host);
    assert_eq!(
        host.init_module(&root(), &mem, name, image),
        Err(Errno::EFAULT)
    );
    assert_eq!(snap(&host), before);
    cases += 1;
    host.clear_dmesg();
    eprintln!("malformed images: {cases} cases");
}
