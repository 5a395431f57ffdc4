//! The `__kallsyms` table the loader writes into every image: it decodes
//! with the reader the host uses, lists every loaded section and every
//! symbol defined in one (local ones too) at its load address, sorted,
//! and lies in a read-only part of the image.

mod common;
use common::*;

use object::{Object as _, ObjectSection as _, ObjectSymbol as _, SymbolKind};
use umod_abi::kallsyms;
use umod_loader::layout::Prot;
use umod_loader::{LinkOptions, ModuleObject, SymbolSource};

const BASE: u64 = 0x4000_0000;

fn kernel() -> SymbolSource {
    let mut s = SymbolSource::new();
    let names = ["printk", "snprintf", "strlen", "memset", "memcpy"];
    s.add_kernel(
        names
            .iter()
            .enumerate()
            .map(|(i, n)| (0x7ff0_0000 + 0x10 * i as u64, n.as_bytes().to_vec())),
    );
    s
}

#[test]
fn every_section_and_symbol_at_its_load_address() {
    for model in &MODELS {
        for wx in [true, false] {
            let bytes = compile("shapes.c", model, &[]);
            let module = ModuleObject::parse("shapes", &bytes).unwrap();
            let options = LinkOptions {
                wx,
                ..LinkOptions::default()
            };
            let plan = module.plan(&kernel(), &[], &options).unwrap();
            let image = plan.relocate(BASE).unwrap();
            let h = image.header;
            assert!(h.kallsyms_start > BASE && h.kallsyms_end > h.kallsyms_start);
            let (start, end) = (
                (h.kallsyms_start - BASE) as usize,
                (h.kallsyms_end - BASE) as usize,
            );
            if wx {
                let seg = image
                    .segments
                    .iter()
                    .find(|s| s.offset <= start as u64 && end as u64 <= s.offset + s.size)
                    .expect("the table lies in one segment");
                assert_eq!(seg.prot, Prot::Read, "{}", model.name);
            }
            let table = kallsyms::decode(&image.bytes[start..end]).unwrap();

            // Sections: exactly the load map's.
            let map = plan.load_map(BASE);
            let mut listed: Vec<(String, u64, u64)> = table
                .sections
                .iter()
                .map(|s| {
                    let name = String::from_utf8(table.name(s.name).to_vec()).unwrap();
                    (name, s.start, s.size)
                })
                .collect();
            listed.sort_by_key(|s| s.1);
            let expected: Vec<(String, u64, u64)> = map
                .sections
                .iter()
                .map(|s| (s.name.clone(), s.addr, s.size))
                .collect();
            assert_eq!(listed, expected, "{}", model.name);

            // Symbols: every function and object of a loaded section.
            let elf = object::File::parse(&*bytes).unwrap();
            let mut want = 0;
            for sym in elf.symbols() {
                if !matches!(sym.kind(), SymbolKind::Text | SymbolKind::Data) {
                    continue;
                }
                let Some(index) = sym.section_index() else {
                    continue;
                };
                let section = elf.section_by_index(index).unwrap();
                let Some(at) = map
                    .sections
                    .iter()
                    .find(|s| s.name == section.name().unwrap())
                else {
                    continue;
                };
                want += 1;
                let addr = at.addr + sym.address();
                let name = sym.name_bytes().unwrap();
                assert!(
                    table
                        .symbols
                        .iter()
                        .any(|s| s.addr == addr && table.name(s.name) == name),
                    "{}: {} at {addr:#x} missing",
                    model.name,
                    sym.name().unwrap()
                );
            }
            assert!(
                want >= 10,
                "shapes has functions and data, local and global"
            );
            assert!(table
                .symbols
                .iter()
                .any(|s| table.name(s.name) == b"classify"));
            assert!(
                table.symbols.windows(2).all(|w| w[0].addr <= w[1].addr),
                "sorted by address"
            );
        }
    }
}

#[test]
fn an_object_with_its_own_table_keeps_it() {
    let src = tmp("own_kallsyms.c");
    std::fs::write(
        &src,
        "#include <linux/module.h>\n\
         MODULE_LICENSE(\"GPL\");\n\
         const char table[64] __attribute__((section(\"__kallsyms\"))) = \"mine\";\n\
         int init_module(void) { return 0; }\n",
    )
    .unwrap();
    let out = tmp("own_kallsyms.o");
    umod_loader::kit::compile(&src, &out).unwrap();
    let bytes = std::fs::read(&out).unwrap();
    let module = ModuleObject::parse("own", &bytes).unwrap();
    let plan = module
        .plan(&kernel(), &[], &LinkOptions::default())
        .unwrap();
    let image = plan.relocate(BASE).unwrap();
    let h = image.header;
    let own = plan
        .load_map(BASE)
        .sections
        .into_iter()
        .find(|s| s.name == "__kallsyms")
        .unwrap();
    assert_eq!(
        (h.kallsyms_start, h.kallsyms_end),
        (own.addr, own.addr + 64)
    );
    let at = (own.addr - BASE) as usize;
    assert_eq!(&image.bytes[at..at + 4], b"mine");
}
