//! `struct module`: the 2.1+ "new" module header, 184 bytes on x86_64.
//!
//! The header sits at offset 0 of every module image and at the address
//! `create_module` returns. An image may carry a shorter (older insmod) or
//! longer (newer insmod) header: its `size_of_struct` says how many bytes
//! are header, and a member counts as present only when it lies wholly
//! inside that many bytes ([`ModuleHeader::member_present`]).

use zerocopy::{FromBytes, FromZeros, Immutable, IntoBytes, KnownLayout};

#[cfg(not(target_endian = "little"))]
compile_error!("the 2.4 module ABI here is x86_64's: little endian");

/// Byte offsets of the members of `struct module` on x86_64 (spec §1.1),
/// taken from [`ModuleHeader`], the one definition.
pub mod offsets {
    use super::ModuleHeader;
    use core::mem::offset_of;

    /// `unsigned long size_of_struct`
    pub const SIZE_OF_STRUCT: usize = offset_of!(ModuleHeader, size_of_struct);
    /// `struct module *next`
    pub const NEXT: usize = offset_of!(ModuleHeader, next);
    /// `const char *name`
    pub const NAME: usize = offset_of!(ModuleHeader, name);
    /// `unsigned long size`
    pub const SIZE: usize = offset_of!(ModuleHeader, size);
    /// `atomic_t uc.usecount` (4 bytes, padded to 8)
    pub const USECOUNT: usize = offset_of!(ModuleHeader, usecount);
    /// `unsigned long flags`
    pub const FLAGS: usize = offset_of!(ModuleHeader, flags);
    /// `unsigned nsyms`
    pub const NSYMS: usize = offset_of!(ModuleHeader, nsyms);
    /// `unsigned ndeps`
    pub const NDEPS: usize = offset_of!(ModuleHeader, ndeps);
    /// `struct module_symbol *syms`
    pub const SYMS: usize = offset_of!(ModuleHeader, syms);
    /// `struct module_ref *deps`
    pub const DEPS: usize = offset_of!(ModuleHeader, deps);
    /// `struct module_ref *refs`
    pub const REFS: usize = offset_of!(ModuleHeader, refs);
    /// `int (*init)(void)`
    pub const INIT: usize = offset_of!(ModuleHeader, init);
    /// `void (*cleanup)(void)`
    pub const CLEANUP: usize = offset_of!(ModuleHeader, cleanup);
    /// `const struct exception_table_entry *ex_table_start`
    pub const EX_TABLE_START: usize = offset_of!(ModuleHeader, ex_table_start);
    /// `ex_table_end`
    pub const EX_TABLE_END: usize = offset_of!(ModuleHeader, ex_table_end);
    /// `persist_start`: the first optional member
    pub const PERSIST_START: usize = offset_of!(ModuleHeader, persist_start);
    /// `persist_end`
    pub const PERSIST_END: usize = offset_of!(ModuleHeader, persist_end);
    /// `int (*can_unload)(void)`
    pub const CAN_UNLOAD: usize = offset_of!(ModuleHeader, can_unload);
    /// `int runsize` (4 bytes, padded to 8)
    pub const RUNSIZE: usize = offset_of!(ModuleHeader, runsize);
    /// `kallsyms_start`
    pub const KALLSYMS_START: usize = offset_of!(ModuleHeader, kallsyms_start);
    /// `kallsyms_end`
    pub const KALLSYMS_END: usize = offset_of!(ModuleHeader, kallsyms_end);
    /// `archdata_start`
    pub const ARCHDATA_START: usize = offset_of!(ModuleHeader, archdata_start);
    /// `archdata_end`
    pub const ARCHDATA_END: usize = offset_of!(ModuleHeader, archdata_end);
    /// `kernel_data`
    pub const KERNEL_DATA: usize = offset_of!(ModuleHeader, kernel_data);
}

/// `sizeof(struct module)` on x86_64.
pub const MODULE_HEADER_SIZE: usize = core::mem::size_of::<ModuleHeader>();

const _: () = assert!(
    MODULE_HEADER_SIZE == 184,
    "struct module is 184 bytes on x86_64"
);

/// Smallest `size_of_struct` `init_module` accepts: `offsetof(persist_start)`.
pub const MIN_SIZE_OF_STRUCT: u64 = offsets::PERSIST_START as u64;

/// Largest `size_of_struct` `init_module` accepts: `184 + 16 * sizeof(void *)`.
pub const MAX_SIZE_OF_STRUCT: u64 = MODULE_HEADER_SIZE as u64 + 16 * 8;

/// `struct module` (x86_64 layout): the one definition, read and written
/// as plain bytes; the C headers (the kit's `<linux/module.h>`, `umod.h`)
/// are checked against it member by member (`tests/c_headers.rs`).
///
/// Pointers are plain `u64` addresses in the module host's address space.
#[repr(C)]
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct ModuleHeader {
    /// Header size the image uses.
    pub size_of_struct: u64,
    /// Next module in the kernel's list (kept by the host).
    pub next: u64,
    /// Address of the NUL-terminated module name.
    pub name: u64,
    /// Size of the module image in bytes.
    pub size: u64,
    /// `uc.usecount`, a 4-byte atomic.
    pub usecount: i32,
    /// The rest of the `uc` union (`long pad`): zero.
    pub uc_pad: u32,
    /// `MOD_*` bits.
    pub flags: u64,
    /// Number of `module_symbol` entries at `syms`.
    pub nsyms: u32,
    /// Number of `module_ref` entries at `deps`.
    pub ndeps: u32,
    /// Address of the exported-symbol table.
    pub syms: u64,
    /// Address of the dependency table.
    pub deps: u64,
    /// Head of the list of modules that use this one.
    pub refs: u64,
    /// `int init(void)`, or 0.
    pub init: u64,
    /// `void cleanup(void)`, or 0.
    pub cleanup: u64,
    /// Start of the exception table.
    pub ex_table_start: u64,
    /// End of the exception table.
    pub ex_table_end: u64,
    /// Optional: persistent data start (never checked).
    pub persist_start: u64,
    /// Optional: persistent data end (never checked).
    pub persist_end: u64,
    /// Optional: `int can_unload(void)`, or 0.
    pub can_unload: u64,
    /// Optional, informational: offset of the first init section.
    pub runsize: i32,
    /// Padding after `runsize`: zero.
    pub runsize_pad: u32,
    /// Optional: kallsyms data start.
    pub kallsyms_start: u64,
    /// Optional: kallsyms data end.
    pub kallsyms_end: u64,
    /// Optional: architecture data start.
    pub archdata_start: u64,
    /// Optional: architecture data end.
    pub archdata_end: u64,
    /// Optional: must be 0.
    pub kernel_data: u64,
}

impl ModuleHeader {
    /// Decodes a header from the first bytes of an image. Bytes missing
    /// from a short slice read as zero; the padding keeps what the image
    /// held there.
    pub fn decode(bytes: &[u8]) -> ModuleHeader {
        let mut h = ModuleHeader::new_zeroed();
        let n = bytes.len().min(MODULE_HEADER_SIZE);
        h.as_mut_bytes()[..n].copy_from_slice(&bytes[..n]);
        h
    }

    /// Encodes all 184 bytes.
    pub fn encode(&self) -> [u8; MODULE_HEADER_SIZE] {
        let mut b = [0u8; MODULE_HEADER_SIZE];
        b.copy_from_slice(self.as_bytes());
        b
    }

    /// `mod_member_present`: a member at `offset` of `size` bytes counts only
    /// when it lies wholly inside the image's `size_of_struct`.
    pub fn member_present(&self, offset: usize, size: usize) -> bool {
        (offset + size) as u64 <= self.size_of_struct
    }

    /// Whether the optional `can_unload` member is present.
    pub fn has_can_unload(&self) -> bool {
        self.member_present(offsets::CAN_UNLOAD, 8)
    }

    /// Whether the optional `kallsyms_start/end` members are present.
    pub fn has_kallsyms(&self) -> bool {
        self.member_present(offsets::KALLSYMS_END, 8)
    }

    /// Whether the optional `archdata_start/end` members are present.
    pub fn has_archdata(&self) -> bool {
        self.member_present(offsets::ARCHDATA_END, 8)
    }

    /// Whether the optional `kernel_data` member is present.
    pub fn has_kernel_data(&self) -> bool {
        self.member_present(offsets::KERNEL_DATA, 8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A header whose every member holds a distinct value, encoded by hand.
    #[test]
    fn encode_matches_hand_computed_bytes() {
        let h = ModuleHeader {
            size_of_struct: 184,
            next: 0x1111,
            name: 0x4000_00b8,
            size: 0x2345,
            usecount: -1,
            uc_pad: 0,
            flags: 0x45,
            nsyms: 3,
            ndeps: 2,
            syms: 0x4000_0100,
            deps: 0x4000_0200,
            refs: 0x4000_0300,
            init: 0x4000_0400,
            cleanup: 0x4000_0500,
            ex_table_start: 0x4000_0600,
            ex_table_end: 0x4000_0610,
            persist_start: 0x11,
            persist_end: 0x12,
            can_unload: 0x4000_0700,
            runsize: 0x1234,
            runsize_pad: 0,
            kallsyms_start: 0x13,
            kallsyms_end: 0x14,
            archdata_start: 0x15,
            archdata_end: 0x16,
            kernel_data: 0x17,
        };
        let b = h.encode();
        assert_eq!(b.len(), 184);
        assert_eq!(&b[0..8], &[184, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&b[8..16], &[0x11, 0x11, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&b[16..24], &[0xb8, 0, 0, 0x40, 0, 0, 0, 0]);
        assert_eq!(&b[24..32], &[0x45, 0x23, 0, 0, 0, 0, 0, 0]);
        // usecount: 4 bytes of -1 then 4 padding bytes
        assert_eq!(&b[32..40], &[0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
        assert_eq!(&b[40..48], &[0x45, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&b[48..56], &[3, 0, 0, 0, 2, 0, 0, 0]);
        assert_eq!(&b[56..64], &[0, 1, 0, 0x40, 0, 0, 0, 0]);
        assert_eq!(&b[80..88], &[0, 4, 0, 0x40, 0, 0, 0, 0]);
        assert_eq!(&b[128..136], &[0, 7, 0, 0x40, 0, 0, 0, 0]);
        assert_eq!(&b[136..144], &[0x34, 0x12, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&b[176..184], &[0x17, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(ModuleHeader::decode(&b), h);
    }

    #[test]
    fn short_slices_decode_with_zero_fill() {
        let full = ModuleHeader {
            size_of_struct: 112,
            name: 5,
            can_unload: 9,
            ..Default::default()
        }
        .encode();
        let h = ModuleHeader::decode(&full[..112]);
        assert_eq!(h.size_of_struct, 112);
        assert_eq!(h.name, 5);
        assert_eq!(h.can_unload, 0);
    }

    #[test]
    fn member_presence_follows_size_of_struct() {
        let mut h = ModuleHeader {
            size_of_struct: 135,
            ..Default::default()
        };
        assert!(!h.has_can_unload());
        h.size_of_struct = 136;
        assert!(h.has_can_unload());
        assert!(!h.has_kallsyms());
        h.size_of_struct = 160;
        assert!(h.has_kallsyms());
        assert!(!h.has_archdata());
        h.size_of_struct = 176;
        assert!(h.has_archdata());
        assert!(!h.has_kernel_data());
        h.size_of_struct = 184;
        assert!(h.has_kernel_data());
        assert_eq!(MIN_SIZE_OF_STRUCT, 112);
        assert_eq!(MAX_SIZE_OF_STRUCT, 312);
    }
}
