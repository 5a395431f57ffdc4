//! Module symbol tables: the host reads the `__kallsyms` table of each
//! image at `init_module`, on both load paths, into its own memory; a
//! table with bad offsets, counts, names or addresses is refused with
//! EINVAL and a message naming what is wrong, after bounded work, and the
//! host is left as it was.

mod common;
use common::*;

use std::time::{Duration, Instant};

use umod_abi::kallsyms::{self, Header, SectionEntry, HEADER_SIZE};
use umod_abi::{Errno, ModuleHeader};
use umod_examples::{COUNTER, HELLO};
use umod_host::{Host, LoadOptions, LocalCalls, OneShotError};
use umod_loader::{LinkOptions, ModuleObject};

/// A created entry `victim` for HELLO and its relocated image; the
/// offset of its kallsyms table in the image.
fn staged_hello(host: &Host) -> (u64, Vec<u8>, usize) {
    let m = ModuleObject::parse("victim", HELLO.object).unwrap();
    let symbols = umod_loader::insmod::gather_symbols(&mut LocalCalls::new(host, root())).unwrap();
    let plan = m.plan(&symbols, &[], &LinkOptions::default()).unwrap();
    let addr = host.create(&root(), "victim", plan.size()).unwrap();
    let image = plan.relocate(addr).unwrap();
    let at = (image.header.kallsyms_start - addr) as usize;
    (addr, image.bytes, at)
}

fn header_of(img: &[u8], at: usize) -> Header {
    Header::decode(&img[at..at + HEADER_SIZE]).unwrap()
}

/// init_module refuses `img` with EINVAL and a log line containing
/// `what`, and changes nothing.
fn refused(host: &Host, img: &[u8], what: &str) {
    let before = snap(host);
    let started = Instant::now();
    assert_eq!(host.init(&root(), "victim", img), Err(Errno::EINVAL));
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "bounded work: {:?}",
        started.elapsed()
    );
    let line = last_log(host);
    assert!(
        line.starts_with("init_module: kallsyms: ") && line.contains(what),
        "wanted {what:?}: {line}"
    );
    assert_eq!(snap(host), before, "a refused image changed the host");
}

fn put(img: &mut [u8], at: usize, bytes: &[u8]) {
    img[at..at + bytes.len()].copy_from_slice(bytes);
}

#[test]
fn both_paths_keep_the_same_table_in_host_memory() {
    let host = host();
    let (addr, img, _) = staged_hello(&host);
    host.init(&root(), "victim", &img).unwrap();
    let legacy = host.module_functions("victim").unwrap();
    host.delete(&root(), Some("victim")).unwrap();
    let loaded = host
        .load_object(&root(), "victim", HELLO.object, &LoadOptions::default())
        .unwrap();
    let oneshot = host.module_functions("victim").unwrap();
    assert!(!legacy.is_empty());
    // The same functions, at the same offsets from each base.
    let rebase = |fs: &[umod_host::ModuleFunction], base: u64| -> Vec<(u64, u64, String)> {
        fs.iter()
            .map(|f| (f.start - base, f.size, f.name.clone()))
            .collect()
    };
    assert_eq!(rebase(&legacy, addr), rebase(&oneshot, loaded.addr));
    assert_eq!(host.module_functions("nosuch"), Err(Errno::ENOENT));
}

#[test]
fn aliases_name_one_function_and_sizes_reach_the_next_symbol() {
    let host = host();
    host.load_object(&root(), "counter", COUNTER.object, &LoadOptions::default())
        .unwrap();
    let functions = host.module_functions("counter").unwrap();
    for w in functions.windows(2) {
        assert!(w[0].start + w[0].size <= w[1].start, "{functions:?}");
    }
    let mut names: Vec<&str> = functions.iter().map(|f| f.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), functions.len(), "one name per function");
    assert!(functions.iter().all(|f| f.size > 0));
}

#[test]
fn hostile_tables_are_refused_with_a_message() {
    let host = host();
    let (addr, img, at) = staged_hello(&host);
    let h = header_of(&img, at);
    let sym0 = at + h.symbol_off as usize;
    let sec0 = at + h.section_off as usize;
    let cases: Vec<(&str, usize, Vec<u8>)> = vec![
        ("header size", at, 8i32.to_le_bytes().to_vec()),
        ("total_size", at + 4, u32::MAX.to_le_bytes().to_vec()),
        ("sections (at most", at + 8, i32::MAX.to_le_bytes().to_vec()),
        ("-1 symbols", at + 28, (-1i32).to_le_bytes().to_vec()),
        ("run past", at + 28, 100_000i32.to_le_bytes().to_vec()),
        ("run past", at + 16, u64::MAX.to_le_bytes().to_vec()),
        (
            "section entries of 4 bytes",
            at + 24,
            4i32.to_le_bytes().to_vec(),
        ),
        ("string_off", at + 48, (1u64 << 40).to_le_bytes().to_vec()),
        (
            "outside the",
            sym0 + 16,
            (1u64 << 32).to_le_bytes().to_vec(),
        ),
        ("names no section", sym0, 7u64.to_le_bytes().to_vec()),
        (
            "outside its section",
            sym0 + 8,
            0x7ff0_0000_0000u64.to_le_bytes().to_vec(),
        ),
        // A section claimed past the module, or from below it (its
        // symbols inside it).
        (
            "outside the module",
            sec0 + 8,
            u32::MAX.to_le_bytes().to_vec(),
        ),
        ("outside the module", sec0, {
            let mut v = (addr - 4096).to_le_bytes().to_vec();
            v.extend_from_slice(&0x10_0000u32.to_le_bytes());
            v
        }),
    ];
    for (what, offset, bytes) in cases {
        let mut bad = img.clone();
        put(&mut bad, offset, &bytes);
        refused(&host, &bad, what);
    }
    // A name without its NUL: the last byte of the table.
    let mut bad = img.clone();
    put(&mut bad, at + h.total_size as usize - 1, b"x");
    refused(&host, &bad, "no NUL");
    // The good image still loads.
    host.init(&root(), "victim", &img).unwrap();
}

#[test]
fn huge_tables_are_refused_after_bounded_work() {
    // A table as large as the image allows: 60 000 symbols, each naming
    // the same 4 000-byte name, which would copy 240 MB of names.
    let host = host();
    let name = vec![b'n'; 4000];
    let nsym = 60_000usize;
    let shape = kallsyms::Shape {
        sections: 1,
        symbols: nsym,
        strings: name.len() + 1,
    };
    let size = (4096 + shape.size()) as u64;
    let addr = host.create(&root(), "victim", size).unwrap();
    let table_at = 4096usize;
    let mut img = vec![0u8; size as usize];
    let mut h = ModuleHeader {
        size_of_struct: umod_abi::module::MODULE_HEADER_SIZE as u64,
        name: addr + 200,
        size,
        kallsyms_start: addr + table_at as u64,
        kallsyms_end: addr + size,
        ..Default::default()
    };
    h.runsize = size as i32;
    put(&mut img, 0, &h.encode());
    put(&mut img, 200, b"victim\0");
    let kh = shape.header(addr, addr + 4096).unwrap();
    put(&mut img, table_at, &kh.encode());
    let sec = SectionEntry {
        start: addr + 1024,
        size: 1024,
        name_off: 0,
        flags: kallsyms::SHF_EXECINSTR,
        ..Default::default()
    };
    put(&mut img, table_at + shape.section_off(), &sec.encode());
    for k in 0..nsym {
        let e = kallsyms::SymbolEntry {
            section_off: 0,
            symbol_addr: addr + 1024 + (k % 1024) as u64,
            name_off: 0,
        };
        put(
            &mut img,
            table_at + shape.symbol_off() + 24 * k,
            &e.encode(),
        );
    }
    put(&mut img, table_at + shape.string_off(), &name);
    refused(&host, &img, "more than 16777216 bytes");
    // Counts past the bounds are refused before any entry is read.
    let mut many = img.clone();
    put(&mut many, table_at + 28, &(2_000_000i32).to_le_bytes());
    refused(&host, &many, "2000000 symbols (at most 1048576)");
}

#[test]
fn an_object_with_a_bad_table_of_its_own_is_refused_one_shot() {
    let host = host();
    let src = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("own_table.c");
    std::fs::write(
        &src,
        "#include <linux/module.h>\n\
         MODULE_LICENSE(\"GPL\");\n\
         const int table[32] __attribute__((section(\"__kallsyms\"))) = { 72, 1 << 30 };\n\
         int init_module(void) { return 0; }\n",
    )
    .unwrap();
    let out = src.with_extension("o");
    umod_loader::kit::compile(&src, &out).unwrap();
    let object = std::fs::read(&out).unwrap();
    let before = snap(&host);
    let e = host
        .load_object(&root(), "own", &object, &LoadOptions::default())
        .unwrap_err();
    assert_eq!(
        e,
        OneShotError::Call {
            call: "init_module",
            errno: Errno::EINVAL
        }
    );
    assert!(last_log(&host).starts_with("init_module: kallsyms: total_size"));
    assert_eq!(snap(&host), before);
}
