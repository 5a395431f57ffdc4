//! Oracle for relocation bytes: for the fixture objects under every code
//! model, the sections the loader relocates equal, byte for byte, what GNU
//! ld writes when it links the same object with each section (and the
//! GOT) at the same address and the kernel's symbols at the same values.
//!
//! One thing is not comparable byte for byte: which GOT slot a symbol
//! gets. ld orders slots by its symbol hash table and may rewrite a
//! GOT load it can resolve statically (an undefined weak symbol becomes
//! `mov $0`) even with --no-relax. So at GOT-relative sites both sides are
//! checked for meaning instead: the field must reach a slot holding the
//! symbol's address (or, on ld's side, the instruction was rewritten).
//! Every other byte must match.

mod common;
use common::*;

use std::collections::HashSet;
use std::fmt::Write;
use std::process::Command;

use object::{Object, ObjectSection};
use umod_loader::{LinkOptions, ModuleObject, SymbolSource};

const BASE: u64 = 0x4000_0000;

/// Kernel symbols at made-up addresses below 2 GiB.
fn kernel() -> SymbolSource {
    let mut s = SymbolSource::new();
    let names = [
        "printk", "snprintf", "strlen", "memset", "memcpy", "kmalloc", "kfree",
    ];
    s.add_kernel(
        names
            .iter()
            .enumerate()
            .map(|(i, n)| (0x7ff0_0000 + 0x10 * i as u64, n.as_bytes().to_vec())),
    );
    s
}

fn check(source: &str, model: &Model) {
    let bytes = compile(source, model, &[]);
    let module = ModuleObject::parse("oracle", &bytes).unwrap();
    let symbols = kernel();
    let plan = module.plan(&symbols, &[], &LinkOptions::default()).unwrap();
    let image = plan.relocate(BASE).unwrap();
    let map = plan.load_map(BASE);

    let names: HashSet<&str> = map.sections.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names.len(),
        map.sections.len(),
        "section names must be unique for the script"
    );
    let mut script = String::from("SECTIONS {\n");
    for (i, s) in map.sections.iter().enumerate() {
        writeln!(script, "  .u{i} {:#x} : {{ *({}) }}", s.addr, s.name).unwrap();
    }
    let layout = plan.layout();
    if let Some(got) = layout.got {
        writeln!(script, "  .got {:#x} : {{ *(.got) }}", BASE + got).unwrap();
        writeln!(
            script,
            "  .got.plt {:#x} : {{ *(.got.plt) }}",
            BASE + layout.got_base().unwrap()
        )
        .unwrap();
    }
    script.push_str("  /DISCARD/ : { *(*) }\n}\n");
    let tag = format!("{}-{}", source.replace('.', "_"), model.name);
    let (obj, lds, out) = (
        tmp(&format!("{tag}.o")),
        tmp(&format!("{tag}.ld")),
        tmp(&format!("{tag}.elf")),
    );
    std::fs::write(&obj, &bytes).unwrap();
    std::fs::write(&lds, &script).unwrap();
    let mut ld = Command::new("ld");
    ld.args([
        "-static",
        "-nostdlib",
        "--no-relax",
        "-e",
        "0",
        "--build-id=none",
        "--no-warn-rwx-segments",
    ])
    .arg(format!("--defsym=__this_module={BASE:#x}"));
    for (value, name) in [
        "printk", "snprintf", "strlen", "memset", "memcpy", "kmalloc", "kfree",
    ]
    .iter()
    .map(|n| (symbols.lookup(n.as_bytes()).unwrap().0.value, n))
    {
        ld.arg(format!("--defsym={name}={value:#x}"));
    }
    let output = ld
        .arg("-T")
        .arg(&lds)
        .arg(&obj)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "ld failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );

    let linked = std::fs::read(&out).unwrap();
    let elf = object::File::parse(&*linked).unwrap();
    let read_ld = |addr: u64| -> Option<u64> {
        elf.sections().find_map(|sec| {
            let data = sec.uncompressed_data().ok()?;
            let off = addr.checked_sub(sec.address())? as usize;
            data.get(off..off + 8)
                .map(|b| u64::from_le_bytes(b.try_into().unwrap()))
        })
    };
    let read_ours = |addr: u64| {
        u64::from_le_bytes(
            image.bytes[(addr - BASE) as usize..][..8]
                .try_into()
                .unwrap(),
        )
    };
    let got_base = BASE + layout.got_base().unwrap_or(0);
    for (i, s) in map.sections.iter().enumerate() {
        let mut ours =
            image.bytes[(s.addr - BASE) as usize..(s.addr - BASE + s.size) as usize].to_vec();
        let Some(theirs) = elf.section_by_name(&format!(".u{i}")) else {
            assert!(
                ours.iter().all(|&b| b == 0) || s.size == 0,
                "{tag}: ld dropped {}",
                s.name
            );
            continue;
        };
        assert_eq!(
            theirs.address(),
            s.addr,
            "{tag}: {} placed elsewhere",
            s.name
        );
        let mut theirs = theirs.uncompressed_data().unwrap().to_vec();
        if theirs.is_empty() {
            assert!(
                ours.iter().all(|&b| b == 0),
                "{tag}: {} (.bss) not zero",
                s.name
            );
            continue;
        }
        let index = module.object.section_index(&s.name).unwrap();
        let relocs = module
            .object
            .relocations
            .iter()
            .filter(|r| r.target == index)
            .flat_map(|r| r.entries());
        for r in relocs {
            let kind = umod_loader::x86_64::classify(r.r_type).unwrap();
            if !kind.needs_got_slot() {
                continue;
            }
            let (at, width) = (r.offset as usize, kind.field.width() as usize);
            let field = |bytes: &[u8]| -> i64 {
                let mut b = [0u8; 8];
                b[..width].copy_from_slice(&bytes[at..at + width]);
                if width == 4 {
                    i64::from(i32::from_le_bytes(b[..4].try_into().unwrap()))
                } else {
                    i64::from_le_bytes(b)
                }
            };
            let place = s.addr + r.offset;
            let pc_relative = kind.formula == umod_loader::x86_64::Formula::GotPcRelative;
            let slot_of = |v: i64| -> u64 {
                let rel = v.wrapping_sub(r.addend);
                if pc_relative {
                    place.wrapping_add(rel as u64)
                } else {
                    got_base.wrapping_add(rel as u64)
                }
            };
            let want = plan.symbol_address(r.sym as usize, BASE).unwrap();
            assert_eq!(
                read_ours(slot_of(field(&ours))),
                want,
                "{tag}: our GOT slot for {} at {:#x}",
                s.name,
                r.offset
            );
            let relaxable = matches!(kind.name, "R_X86_64_GOTPCRELX" | "R_X86_64_REX_GOTPCRELX");
            let lo = if relaxable { at.saturating_sub(3) } else { at };
            let rewritten = ours[lo..at] != theirs[lo..at];
            if !rewritten {
                assert_eq!(
                    read_ld(slot_of(field(&theirs))),
                    Some(want),
                    "{tag}: ld's GOT slot for {} at {:#x}",
                    s.name,
                    r.offset
                );
            }
            ours[lo..at + width].fill(0);
            theirs[lo..at + width].fill(0);
        }
        assert_eq!(ours, theirs, "{tag}: section {} differs from ld's", s.name);
    }
}

#[test]
fn shapes_match_ld_in_every_code_model() {
    for model in &MODELS {
        check("shapes.c", model);
    }
}
