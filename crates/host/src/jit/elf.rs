//! The in-memory object file that describes a loaded module to a
//! debugger: an x86_64 ELF relocatable object whose loaded sections carry
//! their load addresses (`sh_addr`) and the bytes the module runs, a
//! symbol table of its functions (values relative to their sections, as
//! in any relocatable object, so at their load addresses once placed),
//! and, when the object was built with `-g`, its `.debug_*` sections with
//! their relocations already applied for those addresses. Nothing in it
//! needs relocating, so a debugger takes every address as it stands (as
//! LLVM's JIT registers its objects).
//!
//! Written by hand: a header, the section bytes, the tables, then the
//! section headers.

/// A section to describe.
pub(crate) struct Section<'a> {
    pub name: &'a str,
    /// Load address (0 for a debug section).
    pub addr: u64,
    pub size: u64,
    /// `sh_flags`.
    pub flags: u64,
    /// Its bytes; `None` for a section without file bytes (`.bss`).
    pub data: Option<&'a [u8]>,
}

/// A function: start, size, name.
pub(crate) type Function<'a> = (u64, u64, &'a str);

const SHT_PROGBITS: u32 = 1;
const SHT_SYMTAB: u32 = 2;
const SHT_STRTAB: u32 = 3;
const SHT_NOBITS: u32 = 8;
const STB_GLOBAL: u8 = 1;
const STT_FUNC: u8 = 2;
const EHDR: usize = 64;
const SHDR: usize = 64;
const SYM: usize = 24;

/// A growing string table.
#[derive(Default)]
struct Strings(Vec<u8>);

impl Strings {
    fn new() -> Strings {
        Strings(vec![0])
    }
    fn add(&mut self, s: &str) -> u32 {
        let at = u32::try_from(self.0.len()).expect("tables under 4 GiB");
        self.0.extend_from_slice(s.as_bytes());
        self.0.push(0);
        at
    }
}

struct Header {
    name: u32,
    kind: u32,
    flags: u64,
    addr: u64,
    offset: u64,
    size: u64,
    link: u32,
    info: u32,
    align: u64,
    entsize: u64,
}

fn pad(out: &mut Vec<u8>, align: usize) {
    out.resize(out.len().div_ceil(align) * align, 0);
}

/// The object file for `sections` (loaded ones first, then debug ones)
/// and `functions`.
pub(crate) fn build(sections: &[Section<'_>], functions: &[Function<'_>]) -> Vec<u8> {
    let mut out = vec![0u8; EHDR];
    let mut names = Strings::new();
    let mut headers = vec![Header {
        name: 0,
        kind: 0,
        flags: 0,
        addr: 0,
        offset: 0,
        size: 0,
        link: 0,
        info: 0,
        align: 0,
        entsize: 0,
    }];
    for s in sections {
        pad(&mut out, 16);
        let offset = out.len() as u64;
        if let Some(data) = s.data {
            out.extend_from_slice(data);
        }
        headers.push(Header {
            name: names.add(s.name),
            kind: if s.data.is_some() {
                SHT_PROGBITS
            } else {
                SHT_NOBITS
            },
            flags: s.flags,
            addr: s.addr,
            offset,
            size: s.data.map_or(s.size, |d| d.len() as u64),
            link: 0,
            info: 0,
            align: if s.addr == 0 { 1 } else { 16 },
            entsize: 0,
        });
    }

    // The symbol table: the null symbol, then every function, global.
    let mut strtab = Strings::new();
    let mut symtab = vec![0u8; SYM];
    for &(start, size, name) in functions {
        let Some(k) = sections
            .iter()
            .position(|s| s.addr != 0 && start >= s.addr && start - s.addr < s.size.max(1))
        else {
            continue;
        };
        let shndx = u16::try_from(k + 1).unwrap_or(0xffff);
        symtab.extend_from_slice(&strtab.add(name).to_le_bytes());
        symtab.push((STB_GLOBAL << 4) | STT_FUNC);
        symtab.push(0);
        symtab.extend_from_slice(&shndx.to_le_bytes());
        symtab.extend_from_slice(&(start - sections[k].addr).to_le_bytes());
        symtab.extend_from_slice(&size.to_le_bytes());
    }
    pad(&mut out, 8);
    let symtab_index = u32::try_from(headers.len()).expect("few sections");
    headers.push(Header {
        name: names.add(".symtab"),
        kind: SHT_SYMTAB,
        flags: 0,
        addr: 0,
        offset: out.len() as u64,
        size: symtab.len() as u64,
        link: symtab_index + 1,
        info: 1,
        align: 8,
        entsize: SYM as u64,
    });
    out.extend_from_slice(&symtab);
    headers.push(Header {
        name: names.add(".strtab"),
        kind: SHT_STRTAB,
        flags: 0,
        addr: 0,
        offset: out.len() as u64,
        size: strtab.0.len() as u64,
        link: 0,
        info: 0,
        align: 1,
        entsize: 0,
    });
    out.extend_from_slice(&strtab.0);
    let shstrndx = u16::try_from(headers.len()).expect("few sections");
    let shstrtab_name = names.add(".shstrtab");
    headers.push(Header {
        name: shstrtab_name,
        kind: SHT_STRTAB,
        flags: 0,
        addr: 0,
        offset: out.len() as u64,
        size: names.0.len() as u64,
        link: 0,
        info: 0,
        align: 1,
        entsize: 0,
    });
    out.extend_from_slice(&names.0);

    pad(&mut out, 8);
    let shoff = out.len() as u64;
    for h in &headers {
        out.extend_from_slice(&h.name.to_le_bytes());
        out.extend_from_slice(&h.kind.to_le_bytes());
        out.extend_from_slice(&h.flags.to_le_bytes());
        out.extend_from_slice(&h.addr.to_le_bytes());
        out.extend_from_slice(&h.offset.to_le_bytes());
        out.extend_from_slice(&h.size.to_le_bytes());
        out.extend_from_slice(&h.link.to_le_bytes());
        out.extend_from_slice(&h.info.to_le_bytes());
        out.extend_from_slice(&h.align.to_le_bytes());
        out.extend_from_slice(&h.entsize.to_le_bytes());
    }

    // The ELF header: ELF64, little endian, ET_REL, EM_X86_64.
    let shnum = u16::try_from(headers.len()).expect("few sections");
    let mut eh = Vec::with_capacity(EHDR);
    eh.extend_from_slice(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0");
    eh.extend_from_slice(&1u16.to_le_bytes()); // e_type: ET_REL
    eh.extend_from_slice(&62u16.to_le_bytes()); // e_machine: EM_X86_64
    eh.extend_from_slice(&1u32.to_le_bytes()); // e_version
    eh.extend_from_slice(&0u64.to_le_bytes()); // e_entry
    eh.extend_from_slice(&0u64.to_le_bytes()); // e_phoff
    eh.extend_from_slice(&shoff.to_le_bytes()); // e_shoff
    eh.extend_from_slice(&0u32.to_le_bytes()); // e_flags
    eh.extend_from_slice(&(EHDR as u16).to_le_bytes()); // e_ehsize
    eh.extend_from_slice(&0u16.to_le_bytes()); // e_phentsize
    eh.extend_from_slice(&0u16.to_le_bytes()); // e_phnum
    eh.extend_from_slice(&(SHDR as u16).to_le_bytes()); // e_shentsize
    eh.extend_from_slice(&shnum.to_le_bytes());
    eh.extend_from_slice(&shstrndx.to_le_bytes());
    out[..EHDR].copy_from_slice(&eh);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_readable_object_with_sections_at_their_addresses() {
        let code = [0xc3u8; 32];
        let sections = [
            Section {
                name: ".text",
                addr: 0x1000_1000,
                size: 32,
                flags: 6,
                data: Some(&code),
            },
            Section {
                name: ".bss",
                addr: 0x1000_3000,
                size: 64,
                flags: 3,
                data: None,
            },
        ];
        let elf = build(
            &sections,
            &[(0x1000_1010, 16, "second"), (0x1000_1000, 16, "first")],
        );
        let u16_at = |o: usize| u16::from_le_bytes(elf[o..o + 2].try_into().unwrap());
        let u64_at = |o: usize| u64::from_le_bytes(elf[o..o + 8].try_into().unwrap());
        assert_eq!(&elf[..4], b"\x7fELF");
        assert_eq!((u16_at(16), u16_at(18)), (1, 62));
        let shoff = u64_at(0x28) as usize;
        assert_eq!(
            u16_at(0x3c),
            6,
            "null, .text, .bss, .symtab, .strtab, .shstrtab"
        );
        assert_eq!(elf.len(), shoff + 6 * SHDR);
        let text = shoff + SHDR;
        assert_eq!(u64_at(text + 0x10), 0x1000_1000, "sh_addr");
        let at = u64_at(text + 0x18) as usize;
        assert_eq!(&elf[at..at + 32], &code);
        let symtab = shoff + 3 * SHDR;
        let syms = u64_at(symtab + 0x18) as usize;
        assert_eq!(u64_at(symtab + 0x20), 3 * SYM as u64);
        // "second": section 1, value relative to it.
        let s = syms + SYM;
        assert_eq!(u16_at(s + 6), 1);
        assert_eq!(u64_at(s + 8), 0x10);
        assert_eq!(u64_at(s + 16), 16);
    }
}
