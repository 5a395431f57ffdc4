//! Every way the loader refuses an object: a clear error, no panic, and a
//! host exactly as it was, on both load paths. The objects are real
//! example modules with one field broken.

mod common;
use common::*;

use umod_abi::Errno;
use umod_examples::{HELLO, PARAMS};
use umod_host::{Host, LoadOptions, LocalCalls, OneShotError};
use umod_loader::insmod::{self, InsmodError};
use umod_loader::{LinkOptions, LoadError, ModuleObject};

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes(b[at..at + 2].try_into().unwrap())
}
fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}
fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

/// Offsets of ELF64 structures in an object, for surgery.
struct Elf<'a>(&'a [u8]);

impl Elf<'_> {
    fn section_header(&self, i: usize) -> usize {
        u64_at(self.0, 0x28) as usize + 64 * i
    }
    fn section_count(&self) -> usize {
        u16_at(self.0, 0x3c) as usize
    }
    fn section_name(&self, i: usize) -> String {
        let shstr = self.section_header(u16_at(self.0, 0x3e) as usize);
        let strtab = u64_at(self.0, shstr + 0x18) as usize;
        let name = strtab + u32_at(self.0, self.section_header(i)) as usize;
        let end = self.0[name..].iter().position(|&c| c == 0).unwrap();
        String::from_utf8(self.0[name..name + end].to_vec()).unwrap()
    }
    fn section(&self, name: &str) -> usize {
        (0..self.section_count())
            .find(|&i| self.section_name(i) == name)
            .unwrap()
    }
    /// File offset of symbol `i` of .symtab.
    fn symbol(&self, i: usize) -> usize {
        let h = self.section_header(self.section(".symtab"));
        u64_at(self.0, h + 0x18) as usize + 24 * i
    }
    fn symbol_index(&self, name: &str) -> usize {
        let symtab = self.section_header(self.section(".symtab"));
        let strtab = self.section_header(u32_at(self.0, symtab + 0x28) as usize);
        let strs = u64_at(self.0, strtab + 0x18) as usize;
        let count = u64_at(self.0, symtab + 0x20) as usize / 24;
        (0..count)
            .find(|&i| {
                let n = strs + u32_at(self.0, self.symbol(i)) as usize;
                self.0[n..].starts_with(name.as_bytes()) && self.0[n + name.len()] == 0
            })
            .unwrap()
    }
    /// File offset of relocation `k` of `.rela.text`.
    fn rela(&self, k: usize) -> usize {
        let h = self.section_header(self.section(".rela.text"));
        u64_at(self.0, h + 0x18) as usize + 24 * k
    }
}

fn patch(bytes: &mut [u8], at: usize, value: &[u8]) {
    bytes[at..at + value.len()].copy_from_slice(value);
}

/// Loads `object` both ways on one host; both must fail and change nothing.
/// Returns the 2.4 path's error and the one-shot path's.
fn refuse(host: &Host, object: &[u8], args: &[&str]) -> (InsmodError, OneShotError) {
    let before = snap(host);
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let legacy = match ModuleObject::parse("victim", object) {
        Err(e) => InsmodError::Load(e),
        Ok(m) => {
            let mut calls = LocalCalls::new(host, root());
            insmod::insmod(&mut calls, &m, &args, &LinkOptions::default()).unwrap_err()
        }
    };
    let options = LoadOptions {
        args,
        ..Default::default()
    };
    let one_shot = host
        .load_object(&root(), "victim", object, &options)
        .unwrap_err();
    assert_eq!(snap(host), before, "a refused object changed the host");
    assert!(host.proc_entries().is_empty());
    (legacy, one_shot)
}

fn load_error(host: &Host, object: &[u8]) -> LoadError {
    match refuse(host, object, &[]) {
        (InsmodError::Load(a), OneShotError::Load(b)) => {
            assert_eq!(a, b, "both paths give the same reason");
            assert_eq!(
                b.errno(),
                match b {
                    LoadError::Unresolved(_) | LoadError::GplOnly { .. } => Errno::ENOENT,
                    _ => Errno::ENOEXEC,
                }
            );
            b
        }
        other => panic!("not a load error: {other:?}"),
    }
}

#[test]
fn not_elf_or_wrong_class() {
    let host = host();
    assert_eq!(
        load_error(&host, b"hello"),
        LoadError::Malformed("no ELF magic number".into())
    );
    let mut elf32 = HELLO.object.to_vec();
    elf32[4] = 1;
    assert_eq!(
        load_error(&host, &elf32).to_string(),
        "wrong ELF class or byte order: ELF32 (need ELF64, little endian)"
    );
    let mut big = HELLO.object.to_vec();
    big[5] = 2;
    assert!(matches!(load_error(&host, &big), LoadError::WrongClass(_)));
}

#[test]
fn wrong_machine_or_type() {
    let host = host();
    let mut i386 = HELLO.object.to_vec();
    patch(&mut i386, 18, &3u16.to_le_bytes());
    assert_eq!(
        load_error(&host, &i386).to_string(),
        "wrong machine 3 (need EM_X86_64, 62)"
    );
    let mut exec = HELLO.object.to_vec();
    patch(&mut exec, 16, &2u16.to_le_bytes());
    assert_eq!(load_error(&host, &exec), LoadError::WrongType(2));
}

#[test]
fn truncated_objects() {
    let host = host();
    for len in [20, 64, 300, HELLO.object.len() - 1] {
        let e = load_error(&host, &HELLO.object[..len]);
        assert!(
            matches!(e, LoadError::Malformed(_) | LoadError::BadSection { .. }),
            "{len}: {e}"
        );
    }
}

#[test]
fn sections_that_overlap_or_lie() {
    let host = host();
    let elf = Elf(HELLO.object);
    let (text, rodata) = (elf.section(".text"), elf.section(".rodata.str1.1"));
    let mut overlap = HELLO.object.to_vec();
    let rodata_off = u64_at(HELLO.object, elf.section_header(rodata) + 0x18);
    patch(
        &mut overlap,
        elf.section_header(text) + 0x18,
        &rodata_off.to_le_bytes(),
    );
    let e = load_error(&host, &overlap);
    assert!(e.to_string().contains("overlap"), "{e}");

    let mut outside = HELLO.object.to_vec();
    patch(
        &mut outside,
        elf.section_header(text) + 0x20,
        &(1u64 << 20).to_le_bytes(),
    );
    assert!(load_error(&host, &outside)
        .to_string()
        .starts_with("section .text: data lies outside the file"));

    let mut align = HELLO.object.to_vec();
    patch(
        &mut align,
        elf.section_header(text) + 0x30,
        &3u64.to_le_bytes(),
    );
    assert_eq!(
        load_error(&host, &align).to_string(),
        "section .text: alignment 3 is not a power of two"
    );

    let mut huge = HELLO.object.to_vec();
    let bss = elf.section(".bss");
    patch(
        &mut huge,
        elf.section_header(bss) + 0x20,
        &u64::MAX.to_le_bytes(),
    );
    assert!(load_error(&host, &huge)
        .to_string()
        .contains("is too large"));

    let mut target = HELLO.object.to_vec();
    patch(
        &mut target,
        elf.section_header(elf.section(".rela.text")) + 0x2c,
        &999u32.to_le_bytes(),
    );
    assert!(load_error(&host, &target)
        .to_string()
        .contains("which does not exist"));
}

#[test]
fn symbols_out_of_range() {
    let host = host();
    let elf = Elf(HELLO.object);
    let init = elf.symbol_index("init_module");
    let mut shndx = HELLO.object.to_vec();
    patch(&mut shndx, elf.symbol(init) + 6, &0x7000u16.to_le_bytes());
    assert_eq!(
        load_error(&host, &shndx).to_string(),
        "symbol init_module: section index 28672 out of range"
    );
    let mut value = HELLO.object.to_vec();
    patch(
        &mut value,
        elf.symbol(init) + 8,
        &0x10_0000u64.to_le_bytes(),
    );
    assert!(load_error(&host, &value)
        .to_string()
        .starts_with("symbol init_module: value 0x100000 lies outside section .text"));
}

#[test]
fn relocations_out_of_range_or_unknown() {
    let host = host();
    let elf = Elf(HELLO.object);
    let info = |sym: u64, ty: u64| (sym << 32 | ty).to_le_bytes();
    let sym = u64_at(HELLO.object, elf.rela(0) + 8) >> 32;

    let mut index = HELLO.object.to_vec();
    patch(&mut index, elf.rela(0) + 8, &info(9999, 11));
    assert_eq!(
        load_error(&host, &index).to_string(),
        "relocation 0 in .text: symbol index 9999 out of range"
    );

    let mut offset = HELLO.object.to_vec();
    patch(&mut offset, elf.rela(1), &0x10_0000u64.to_le_bytes());
    assert_eq!(
        load_error(&host, &offset).to_string(),
        "relocation 1 in .text: offset 0x100000 lies outside the section"
    );

    let mut edge = HELLO.object.to_vec();
    let text_size = u64_at(
        HELLO.object,
        elf.section_header(elf.section(".text")) + 0x20,
    );
    patch(&mut edge, elf.rela(0), &(text_size - 2).to_le_bytes());
    assert!(load_error(&host, &edge)
        .to_string()
        .contains("runs past the section end"));

    let mut unknown = HELLO.object.to_vec();
    patch(&mut unknown, elf.rela(0) + 8, &info(sym, 200));
    assert_eq!(
        load_error(&host, &unknown).to_string(),
        "relocation type unknown (200) in .text is not supported"
    );

    let mut tls = HELLO.object.to_vec();
    patch(&mut tls, elf.rela(0) + 8, &info(sym, 22));
    assert_eq!(
        load_error(&host, &tls).to_string(),
        "relocation type R_X86_64_GOTTPOFF (22) in .text is not supported: thread-local storage is not supported in modules"
    );
}

#[test]
fn narrowing_relocations_are_checked_for_overflow() {
    let host = host();
    // An absolute symbol above 4 GiB, reached through a 32-bit field. It
    // lives in a second unit combined with `ld -r`, so the assembler cannot
    // resolve it and the relocation stays for the loader.
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let (c, a, b, o) = (
        dir.join("overflow.c"),
        dir.join("overflow_a.o"),
        dir.join("overflow_b.o"),
        dir.join("overflow.o"),
    );
    std::fs::write(
        &c,
        "int init_module(void) { extern char high[]; return (int)(long)high; }\n",
    )
    .unwrap();
    let gcc = |args: &[&std::ffi::OsStr]| {
        let st = std::process::Command::new("gcc")
            .args(umod_loader::kit::cflags())
            .args(args)
            .status()
            .unwrap();
        assert!(st.success());
    };
    gcc(&["-c".as_ref(), c.as_os_str(), "-o".as_ref(), a.as_os_str()]);
    let s = dir.join("overflow_b.s");
    std::fs::write(
        &s,
        ".globl high\n.set high, 0x100000000\n.section .note.GNU-stack,\"\",@progbits\n",
    )
    .unwrap();
    gcc(&["-c".as_ref(), s.as_os_str(), "-o".as_ref(), b.as_os_str()]);
    let st = std::process::Command::new("ld")
        .arg("-r")
        .arg(&a)
        .arg(&b)
        .arg("-o")
        .arg(&o)
        .status()
        .unwrap();
    assert!(st.success());
    let object = std::fs::read(&o).unwrap();
    // Where the refused module's code will be copied before its
    // relocation fails: pages that held hello's code, read-execute.
    let options = LoadOptions {
        map: true,
        ..Default::default()
    };
    let hello = host
        .load_object(&root(), "hello", HELLO.object, &options)
        .unwrap();
    let text = hello
        .map
        .unwrap()
        .sections
        .iter()
        .find(|s| s.name == ".text")
        .unwrap()
        .addr;
    host.delete(&root(), Some("hello")).unwrap();
    let refused = host.load_object(&root(), "victim", &object, &LoadOptions::default());
    assert!(matches!(refused, Err(OneShotError::Load(_))));
    // The failed load wrote its code there; nothing of it runs.
    assert_eq!(page_perms(text), "r-x");
    assert!(all_traps(text), "a refused module's code is left runnable");
    let e = load_error(&host, &object);
    let text = e.to_string();
    assert!(
        text.starts_with("relocation R_X86_64_32S against `high` in .text+0x"),
        "{text}"
    );
    assert!(
        text.ends_with("overflows: value 0x100000000 does not fit"),
        "{text}"
    );
}

#[test]
fn unresolved_and_gpl_only_symbols() {
    let host = host();
    let mut object = HELLO.object.to_vec();
    let elf = Elf(HELLO.object);
    // Rename printk's string to "printx".
    let symtab = elf.section_header(elf.section(".symtab"));
    let strtab = elf.section_header(u32_at(HELLO.object, symtab + 0x28) as usize);
    let name = u64_at(HELLO.object, strtab + 0x18) as usize
        + u32_at(HELLO.object, elf.symbol(elf.symbol_index("printk"))) as usize;
    object[name + 5] = b'x';
    assert_eq!(
        load_error(&host, &object),
        LoadError::Unresolved(vec!["printx".into()])
    );
    // A GPL-only kernel export is refused to a module without a GPL licence.
    extern "C" fn gpl_only() {}
    // SAFETY: a C function without arguments; the module is refused
    // before it could call it.
    unsafe { host.export_gpl("printx", gpl_only as *const () as usize) }.unwrap();
    let mut proprietary = object.clone();
    let license = proprietary
        .windows(11)
        .position(|w| w == b"license=GPL")
        .unwrap();
    proprietary[license + 8..license + 11].copy_from_slice(b"BSD");
    let e = load_error(&host, &proprietary);
    assert_eq!(
        e.to_string(),
        "symbol printx is exported GPL-only and the module's license is Some(\"BSD\")"
    );
    // The GPL original links against it.
    let mut calls = LocalCalls::new(&host, root());
    let m = ModuleObject::parse("victim", &object).unwrap();
    insmod::insmod(&mut calls, &m, &[], &LinkOptions::default()).unwrap();
}

#[test]
fn bad_parameter_errno() {
    let host = host();
    let (legacy, one_shot) = refuse(&host, PARAMS.object, &["irq=x"]);
    assert_eq!(legacy.errno(), Errno::EINVAL);
    assert_eq!(one_shot.errno(), Errno::EINVAL);
}

#[test]
fn random_corruption_never_panics() {
    // Corrupted code may well load and then crash when run (containing that
    // is the oops machinery's job), so this drives the loader alone: parse,
    // resolve, lay out, relocate, without executing anything.
    let host = host();
    let symbols = {
        let mut calls = LocalCalls::new(&host, root());
        insmod::gather_symbols(&mut calls).unwrap()
    };
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let (mut parsed, mut relocated) = (0, 0);
    for _ in 0..3000 {
        let mut object = HELLO.object.to_vec();
        for _ in 0..1 + next() % 4 {
            let at = (next() % object.len() as u64) as usize;
            object[at] = next() as u8;
        }
        let Ok(m) = ModuleObject::parse("fuzzed", &object) else {
            continue;
        };
        parsed += 1;
        if let Ok(plan) = m.plan(&symbols, &[], &LinkOptions::default()) {
            if plan.relocate(0x1000_0000).is_ok() {
                relocated += 1;
            }
        }
    }
    assert!(
        parsed > 0 && relocated > 0,
        "the corruption was too coarse to reach the later stages"
    );
}

/// An object with a section both writable and executable.
fn writable_code_object() -> Vec<u8> {
    let dir = std::env::temp_dir().join(format!("umod-wx-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join("wx.c");
    std::fs::write(
        &src,
        "#include <linux/module.h>\nMODULE_LICENSE(\"GPL\");\n\
         __asm__(\".section .wxcode,\\\"awx\\\",@progbits\\n\\tret\\n\\t.previous\");\n\
         int init_module(void) { return 0; }\nvoid cleanup_module(void) {}\n",
    )
    .unwrap();
    let obj = dir.join("wx.o");
    umod_loader::kit::compile(&src, &obj).unwrap();
    let bytes = std::fs::read(&obj).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    bytes
}

#[test]
fn a_writable_and_executable_section_is_refused_by_name() {
    let host = host();
    let object = writable_code_object();
    let (legacy, one_shot) = refuse(&host, &object, &[]);
    let expected = "section .wxcode is both writable and executable: a W^X module cannot map it";
    assert_eq!(legacy.to_string(), expected);
    assert_eq!(one_shot.to_string(), expected);
    assert_eq!(one_shot.errno(), Errno::ENOEXEC);
    // A flat image (as an unmodified insmod builds it) is mapped the 2.4
    // way, read-write-execute, and may have one.
    let m = ModuleObject::parse("victim", &object).unwrap();
    let flat = LinkOptions {
        wx: false,
        ..LinkOptions::default()
    };
    insmod::insmod(&mut LocalCalls::new(&host, root()), &m, &[], &flat).unwrap();
}

#[test]
fn a_table_of_segments_that_cannot_be_honoured_is_refused() {
    use umod_abi::archdata::{table_size, MAGIC};
    let host = host();
    let m = ModuleObject::parse("hello", HELLO.object).unwrap();
    let symbols = insmod::gather_symbols(&mut LocalCalls::new(&host, root())).unwrap();
    let plan = m.plan(&symbols, &[], &LinkOptions::default()).unwrap();
    let addr = host.create(&root(), "hello", plan.size()).unwrap();
    let image = plan.relocate(addr).unwrap();
    let h = image.header;
    let table = (h.archdata_start - addr) as usize;
    assert_eq!(image.bytes[table..table + 8], MAGIC);
    assert_eq!(
        (h.archdata_end - h.archdata_start) as usize,
        table_size(image.segments.len())
    );
    let before = snap(&host);
    let broken = |at: usize, value: &[u8]| {
        let mut bytes = image.bytes.clone();
        patch(&mut bytes, table + at, value);
        bytes
    };
    let cases = [
        // The header's segment read-only: the host writes the header.
        (
            broken(16 + 16, &1u32.to_le_bytes()),
            "W^X table: the header or the dependency table is not read-write",
        ),
        // A segment that does not start on a page.
        (
            broken(16 + 24, &8u64.to_le_bytes()),
            "W^X table: segments out of order or unaligned",
        ),
        // A segment past the image.
        (
            broken(16 + 8, &(1u64 << 40).to_le_bytes()),
            "W^X table: a segment leaves the image",
        ),
        (
            broken(16 + 16, &9u32.to_le_bytes()),
            "W^X table: unknown protection",
        ),
    ];
    for (bytes, why) in cases {
        assert_eq!(
            host.init(&root(), "hello", &bytes),
            Err(Errno::EINVAL),
            "{why}"
        );
        assert_eq!(last_log(&host), format!("init_module: {why}"));
        assert_eq!(snap(&host), before, "{why}: nothing changed");
    }
    host.init(&root(), "hello", &image.bytes).unwrap();
    assert_eq!(last_log(&host), "Hello, world");
}
