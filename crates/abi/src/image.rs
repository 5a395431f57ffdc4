//! Hand-built 2.4 module images.
//!
//! [`ImageBuilder`] lays out what a 2.4 insmod hands to `init_module`: the
//! header at offset 0, the module name, caller-supplied blobs (machine code,
//! data), the `__ksymtab` and the dependency table, with every pointer
//! relocated for a given base address. Tests, examples and small embedders
//! use it to drive the host without an ELF loader.

use crate::module::{ModuleHeader, MODULE_HEADER_SIZE};
use crate::structs::{ModuleRef, ModuleSymbol};

/// Builds a module image for the address `create_module` returned.
#[derive(Clone, Debug)]
pub struct ImageBuilder {
    name: Vec<u8>,
    header: ModuleHeader,
    body: Vec<u8>,
    name_offset: u64,
    init: Option<u64>,
    cleanup: Option<u64>,
    can_unload: Option<u64>,
    symbols: Vec<(SymbolValue, Vec<u8>)>,
    deps: Vec<u64>,
    min_size: usize,
}

/// Where an exported symbol points.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SymbolValue {
    /// An offset inside the image (relocated by the base address).
    Offset(u64),
    /// An absolute address.
    Absolute(u64),
}

impl ImageBuilder {
    /// Starts an image for module `name` with a 184-byte header; the name
    /// string is placed right after the header.
    pub fn new(name: &str) -> ImageBuilder {
        let mut body = vec![0u8; MODULE_HEADER_SIZE];
        let name_offset = body.len() as u64;
        body.extend_from_slice(name.as_bytes());
        body.push(0);
        ImageBuilder {
            name: name.as_bytes().to_vec(),
            header: ModuleHeader {
                size_of_struct: MODULE_HEADER_SIZE as u64,
                ..Default::default()
            },
            body,
            name_offset,
            init: None,
            cleanup: None,
            can_unload: None,
            symbols: Vec::new(),
            deps: Vec::new(),
            min_size: 0,
        }
    }

    /// The module name.
    pub fn name(&self) -> &[u8] {
        &self.name
    }

    /// Appends `bytes` at the next multiple of `align` and returns the
    /// offset they start at.
    pub fn append(&mut self, bytes: &[u8], align: usize) -> u64 {
        let align = align.max(1);
        let start = self.body.len().div_ceil(align) * align;
        self.body.resize(start, 0);
        self.body.extend_from_slice(bytes);
        start as u64
    }

    /// Sets the `init` function to the code at `offset`.
    pub fn init(&mut self, offset: u64) -> &mut Self {
        self.init = Some(offset);
        self
    }

    /// Sets the `cleanup` function to the code at `offset`.
    pub fn cleanup(&mut self, offset: u64) -> &mut Self {
        self.cleanup = Some(offset);
        self
    }

    /// Sets the `can_unload` function to the code at `offset`.
    pub fn can_unload(&mut self, offset: u64) -> &mut Self {
        self.can_unload = Some(offset);
        self
    }

    /// Exports `name` with `value` in the image's `__ksymtab`.
    pub fn export(&mut self, name: &str, value: SymbolValue) -> &mut Self {
        self.symbols.push((value, name.as_bytes().to_vec()));
        self
    }

    /// Records a dependency on the module whose header is at `addr`.
    pub fn depend_on(&mut self, addr: u64) -> &mut Self {
        self.deps.push(addr);
        self
    }

    /// Sets the header flags (only `MOD_AUTOCLEAN` is legal).
    pub fn flags(&mut self, flags: u64) -> &mut Self {
        self.header.flags = flags;
        self
    }

    /// Pads the image to at least `size` bytes.
    pub fn min_size(&mut self, size: usize) -> &mut Self {
        self.min_size = size;
        self
    }

    /// Gives mutable access to the header for members the builder does not
    /// manage (`size_of_struct`, exception table, kallsyms...). Pointer
    /// members set here are taken as they are.
    pub fn header_mut(&mut self) -> &mut ModuleHeader {
        &mut self.header
    }

    /// Lays the image out for `base` and returns its bytes; the header's
    /// `size` is the total length.
    pub fn build(&self, base: u64) -> Vec<u8> {
        let mut body = self.body.clone();
        let mut header = self.header;
        header.name = base + self.name_offset;
        header.init = self.init.map_or(0, |o| base + o);
        header.cleanup = self.cleanup.map_or(0, |o| base + o);
        if let Some(o) = self.can_unload {
            header.can_unload = base + o;
        }

        if !self.symbols.is_empty() {
            let mut names_at = Vec::new();
            for (_, name) in &self.symbols {
                names_at.push(body.len() as u64);
                body.extend_from_slice(name);
                body.push(0);
            }
            body.resize(body.len().div_ceil(8) * 8, 0);
            header.syms = base + body.len() as u64;
            header.nsyms = u32::try_from(self.symbols.len()).expect("a test image's few symbols");
            for ((value, _), name_at) in self.symbols.iter().zip(names_at) {
                let value = match *value {
                    SymbolValue::Offset(o) => base + o,
                    SymbolValue::Absolute(a) => a,
                };
                let entry = ModuleSymbol {
                    value,
                    name: base + name_at,
                };
                body.extend_from_slice(&entry.encode());
            }
        }
        if !self.deps.is_empty() {
            body.resize(body.len().div_ceil(8) * 8, 0);
            header.deps = base + body.len() as u64;
            header.ndeps = u32::try_from(self.deps.len()).expect("a test image's few dependencies");
            for &dep in &self.deps {
                let r = ModuleRef {
                    dep,
                    ..Default::default()
                };
                body.extend_from_slice(&r.encode());
            }
        }
        if body.len() < self.min_size {
            body.resize(self.min_size, 0);
        }
        header.size = body.len() as u64;
        body[..MODULE_HEADER_SIZE].copy_from_slice(&header.encode());
        body
    }
}

/// Tiny x86_64 machine-code snippets for hand-built images.
pub mod asm {
    /// `mov eax, value; ret`: a function returning `value`.
    pub fn return_value(value: i32) -> Vec<u8> {
        let mut code = vec![0xb8];
        code.extend_from_slice(&value.to_le_bytes());
        code.push(0xc3);
        code
    }

    /// `movabs rax, addr; mov dword [rax], value; mov eax, ret; ret`:
    /// stores `value` at `addr`, then returns `ret`.
    pub fn store_then_return(addr: u64, value: u32, ret: i32) -> Vec<u8> {
        let mut code = vec![0x48, 0xb8];
        code.extend_from_slice(&addr.to_le_bytes());
        code.extend_from_slice(&[0xc7, 0x00]);
        code.extend_from_slice(&value.to_le_bytes());
        code.extend(return_value(ret));
        code
    }

    /// `movabs rax, addr; lock inc dword [rax]; mov eax, ret; ret`:
    /// increments the 32-bit counter at `addr` (e.g. a module's own use
    /// count, as `MOD_INC_USE_COUNT` does), then returns `ret`.
    pub fn increment_then_return(addr: u64, ret: i32) -> Vec<u8> {
        let mut code = vec![0x48, 0xb8];
        code.extend_from_slice(&addr.to_le_bytes());
        code.extend_from_slice(&[0xf0, 0xff, 0x00]);
        code.extend(return_value(ret));
        code
    }

    /// `movabs rax, addr; or qword [rax], bits; mov eax, ret; ret`: sets
    /// bits in a 64-bit word (e.g. a module's own `flags`), then returns `ret`.
    pub fn or_then_return(addr: u64, bits: u8, ret: i32) -> Vec<u8> {
        let mut code = vec![0x48, 0xb8];
        code.extend_from_slice(&addr.to_le_bytes());
        code.extend_from_slice(&[0x48, 0x83, 0x08, bits]);
        code.extend(return_value(ret));
        code
    }

    /// `movabs rax, from; mov rax, [rax]; movabs rcx, to; mov [rcx], rax`:
    /// copies 8 bytes (prefix it to a `return_value` to make a function).
    pub fn copy_u64(from: u64, to: u64) -> Vec<u8> {
        let mut code = vec![0x48, 0xb8];
        code.extend_from_slice(&from.to_le_bytes());
        code.extend_from_slice(&[0x48, 0x8b, 0x00, 0x48, 0xb9]);
        code.extend_from_slice(&to.to_le_bytes());
        code.extend_from_slice(&[0x48, 0x89, 0x01]);
        code
    }

    /// `sub rsp, 8; movabs rdi, arg; movabs rax, func; call rax;
    /// add rsp, 8; ret`: calls `func(arg)` with an aligned stack and
    /// returns what it returned.
    pub fn call_with_arg(func: u64, arg: u64) -> Vec<u8> {
        let mut code = vec![0x48, 0x83, 0xec, 0x08, 0x48, 0xbf];
        code.extend_from_slice(&arg.to_le_bytes());
        code.extend_from_slice(&[0x48, 0xb8]);
        code.extend_from_slice(&func.to_le_bytes());
        code.extend_from_slice(&[0xff, 0xd0, 0x48, 0x83, 0xc4, 0x08, 0xc3]);
        code
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_and_relocated_pointers() {
        let mut b = ImageBuilder::new("demo");
        let code = b.append(&asm::return_value(0), 16);
        b.init(code)
            .export("demo_fn", SymbolValue::Offset(code))
            .depend_on(0x5000_0000);
        let base = 0x4000_0000;
        let img = b.build(base);
        let h = ModuleHeader::decode(&img);
        assert_eq!(h.size_of_struct, 184);
        assert_eq!(h.size, img.len() as u64);
        assert_eq!(h.name, base + 184);
        assert_eq!(&img[184..189], b"demo\0");
        assert_eq!(h.init, base + code);
        assert_eq!(code % 16, 0);
        assert_eq!(
            &img[code as usize..code as usize + 6],
            &[0xb8, 0, 0, 0, 0, 0xc3]
        );
        assert_eq!(h.nsyms, 1);
        let so = (h.syms - base) as usize;
        let sym = ModuleSymbol::decode(img[so..so + 16].try_into().unwrap());
        assert_eq!(sym.value, base + code);
        let no = (sym.name - base) as usize;
        assert_eq!(&img[no..no + 8], b"demo_fn\0");
        assert_eq!(h.ndeps, 1);
        let d = (h.deps - base) as usize;
        assert_eq!(
            ModuleRef::decode(img[d..d + 24].try_into().unwrap()).dep,
            0x5000_0000
        );
    }

    #[test]
    fn snippets_encode_as_expected() {
        assert_eq!(
            asm::return_value(-5),
            vec![0xb8, 0xfb, 0xff, 0xff, 0xff, 0xc3]
        );
        let s = asm::store_then_return(0x1000, 7, 1);
        assert_eq!(&s[..2], &[0x48, 0xb8]);
        assert_eq!(&s[10..12], &[0xc7, 0x00]);
        assert_eq!(s.len(), 2 + 8 + 2 + 4 + 6);
    }
}
