//! The small fixed-size structures of the module calls, and the buffer
//! formats `query_module` fills (spec §1.2 and §5). Each structure is
//! `#[repr(C)]` plain data, its one definition: encoding is its bytes
//! (little endian, as x86_64), and the C headers are checked against it
//! (`tests/c_headers.rs`).

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// The byte encodings every plain structure shares.
macro_rules! plain_data {
    ($t:ty, $size:expr) => {
        impl $t {
            /// Encoded size in bytes.
            pub const SIZE: usize = $size;

            /// Encodes the bytes.
            pub fn encode(&self) -> [u8; $size] {
                let mut b = [0u8; $size];
                b.copy_from_slice(self.as_bytes());
                b
            }

            /// Decodes the bytes.
            pub fn decode(b: &[u8; $size]) -> $t {
                <$t>::read_from_bytes(b).expect("the size of the type")
            }
        }

        const _: () = assert!(core::mem::size_of::<$t>() == $size);
    };
}

/// `struct module_symbol`: an in-image `__ksymtab` entry, 16 bytes.
///
/// The same shape is the `QM_SYMBOLS` output element, where `name` holds the
/// byte offset of the name from the start of the caller's buffer.
#[repr(C)]
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct ModuleSymbol {
    /// Symbol value (address).
    pub value: u64,
    /// Address of the NUL-terminated name (or, in `QM_SYMBOLS` output, its
    /// offset from the start of the buffer).
    pub name: u64,
}

plain_data!(ModuleSymbol, 16);

/// `struct module_ref`: one dependency edge, 24 bytes.
#[repr(C)]
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct ModuleRef {
    /// The module that is used (its header address).
    pub dep: u64,
    /// The module that uses it (filled by `init_module`).
    pub r#ref: u64,
    /// Next entry of `dep`'s refs list (filled by `init_module`).
    pub next_ref: u64,
}

plain_data!(ModuleRef, 24);

/// `struct module_info`: the `QM_INFO` answer, 32 bytes (all four members
/// are written, though the man page lists three).
#[repr(C)]
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct ModuleInfo {
    /// Header address.
    pub addr: u64,
    /// The header's `size` member.
    pub size: u64,
    /// Raw `MOD_*` flags.
    pub flags: u64,
    /// Use count (-1 when `can_unload` decides).
    pub usecount: i64,
}

plain_data!(ModuleInfo, 32);

/// `struct kernel_sym` as `get_kernel_syms` writes it: 72 bytes on x86_64
/// (value at 0, `char name[60]` at 8, 4 bytes of tail padding).
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct KernelSym {
    /// Symbol value, or a module's header address for a `#name` tag.
    pub value: u64,
    /// NUL-padded name.
    pub name: [u8; 60],
    /// Tail padding: zero when written.
    pub pad: [u8; 4],
}

plain_data!(KernelSym, 72);

impl KernelSym {
    /// Length of the name field.
    pub const NAME_LEN: usize = 60;

    /// A symbol entry: the name truncated to 59 bytes and NUL-padded
    /// (`strncpy` into 60 bytes, then the last byte forced to NUL).
    pub fn symbol(value: u64, name: &[u8]) -> KernelSym {
        let mut field = [0u8; 60];
        let n = name.len().min(59);
        field[..n].copy_from_slice(&name[..n]);
        KernelSym {
            value,
            name: field,
            pad: [0; 4],
        }
    }

    /// A module tag entry: `#` then the module name truncated to 58 bytes.
    /// The kernel pseudo-module's tag is a bare `#`.
    pub fn tag(value: u64, module: &[u8]) -> KernelSym {
        let mut field = [0u8; 60];
        field[0] = b'#';
        let n = module.len().min(58);
        field[1..1 + n].copy_from_slice(&module[..n]);
        KernelSym {
            value,
            name: field,
            pad: [0; 4],
        }
    }

    /// The name up to its first NUL.
    pub fn name_bytes(&self) -> &[u8] {
        let end = self.name.iter().position(|&c| c == 0).unwrap_or(60);
        &self.name[..end]
    }
}

impl std::fmt::Debug for KernelSym {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KernelSym")
            .field("value", &format_args!("{:#x}", self.value))
            .field("name", &String::from_utf8_lossy(self.name_bytes()))
            .finish()
    }
}

/// A decoded `query_module` answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QueryAnswer {
    /// `which = 0`: the interface exists.
    Probe,
    /// `QM_MODULES`, `QM_DEPS`, `QM_REFS`: names in the kernel's order.
    Names(Vec<Vec<u8>>),
    /// `QM_SYMBOLS`: (value, name) pairs.
    Symbols(Vec<(u64, Vec<u8>)>),
    /// `QM_INFO`.
    Info(ModuleInfo),
}

impl QueryAnswer {
    /// Decodes a successful answer: `buf` as filled, `ret` as returned.
    /// `None` when the buffer does not hold what `ret` announces.
    pub fn decode(which: i32, buf: &[u8], ret: u64) -> Option<QueryAnswer> {
        let n = usize::try_from(ret).ok()?;
        Some(match which {
            crate::QM_PROBE => QueryAnswer::Probe,
            crate::QM_MODULES | crate::QM_DEPS | crate::QM_REFS => {
                QueryAnswer::Names(decode_name_list(buf, n)?)
            }
            crate::QM_SYMBOLS => QueryAnswer::Symbols(decode_qm_symbols(buf, n)?),
            crate::QM_INFO => {
                QueryAnswer::Info(ModuleInfo::decode(buf.get(..32)?.try_into().ok()?))
            }
            _ => return None,
        })
    }
}

/// Splits a `QM_MODULES`/`QM_DEPS`/`QM_REFS` buffer into its `count`
/// NUL-terminated names. Returns `None` when the buffer holds fewer.
pub fn decode_name_list(buf: &[u8], count: usize) -> Option<Vec<Vec<u8>>> {
    let mut names = Vec::with_capacity(count);
    let mut rest = buf;
    for _ in 0..count {
        let end = rest.iter().position(|&c| c == 0)?;
        names.push(rest[..end].to_vec());
        rest = &rest[end + 1..];
    }
    Some(names)
}

/// Decodes a `QM_SYMBOLS` buffer of `count` entries into (value, name)
/// pairs, following each entry's name offset from the buffer start.
pub fn decode_qm_symbols(buf: &[u8], count: usize) -> Option<Vec<(u64, Vec<u8>)>> {
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        let raw: &[u8; 16] = buf.get(i * 16..i * 16 + 16)?.try_into().ok()?;
        let sym = ModuleSymbol::decode(raw);
        let start = usize::try_from(sym.name).ok()?;
        let tail = buf.get(start..)?;
        let end = tail.iter().position(|&c| c == 0)?;
        out.push((sym.value, tail[..end].to_vec()));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_symbol_bytes() {
        let s = ModuleSymbol {
            value: 0x0102_0304_0506_0708,
            name: 0x20,
        };
        let b = s.encode();
        assert_eq!(b, [8, 7, 6, 5, 4, 3, 2, 1, 0x20, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(ModuleSymbol::decode(&b), s);
    }

    #[test]
    fn module_ref_bytes() {
        let r = ModuleRef {
            dep: 0x10,
            r#ref: 0x20,
            next_ref: 0x30,
        };
        let b = r.encode();
        assert_eq!(b.len(), 24);
        assert_eq!(b[0], 0x10);
        assert_eq!(b[8], 0x20);
        assert_eq!(b[16], 0x30);
        assert!(b.iter().filter(|&&x| x != 0).count() == 3);
        assert_eq!(ModuleRef::decode(&b), r);
    }

    #[test]
    fn module_info_bytes() {
        let i = ModuleInfo {
            addr: 0x4000_0000,
            size: 10000,
            flags: 1,
            usecount: -1,
        };
        let b = i.encode();
        assert_eq!(&b[0..8], &[0, 0, 0, 0x40, 0, 0, 0, 0]);
        assert_eq!(&b[8..16], &[0x10, 0x27, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&b[16..24], &[1, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&b[24..32], &[0xff; 8]);
        assert_eq!(ModuleInfo::decode(&b), i);
    }

    #[test]
    fn kernel_sym_truncation_and_bytes() {
        let long = [b'x'; 80];
        let s = KernelSym::symbol(0x1234, &long);
        assert_eq!(s.name_bytes().len(), 59);
        let t = KernelSym::tag(0x4000_0000, &long);
        assert_eq!(t.name_bytes().len(), 59);
        assert_eq!(t.name_bytes()[0], b'#');
        assert_eq!(KernelSym::tag(0, b"").name_bytes(), b"#");
        let b = KernelSym::symbol(0x1234, b"printk").encode();
        assert_eq!(b.len(), 72);
        assert_eq!(&b[0..8], &[0x34, 0x12, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&b[8..14], b"printk");
        assert!(b[14..72].iter().all(|&c| c == 0));
        assert_eq!(KernelSym::decode(&b), KernelSym::symbol(0x1234, b"printk"));
    }

    #[test]
    fn name_lists_and_symbol_buffers() {
        let names = decode_name_list(b"abc\0de\0", 2).unwrap();
        assert_eq!(names, vec![b"abc".to_vec(), b"de".to_vec()]);
        assert!(decode_name_list(b"abc\0", 2).is_none());

        let mut buf = Vec::new();
        buf.extend(ModuleSymbol { value: 7, name: 32 }.encode());
        buf.extend(ModuleSymbol { value: 9, name: 36 }.encode());
        buf.extend(b"foo\0quux\0");
        let syms = decode_qm_symbols(&buf, 2).unwrap();
        assert_eq!(syms, vec![(7, b"foo".to_vec()), (9, b"quux".to_vec())]);
        assert!(decode_qm_symbols(&buf[..20], 2).is_none());
    }
}
