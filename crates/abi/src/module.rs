//! `struct module`: the 2.1+ "new" module header, 184 bytes on x86_64.
//!
//! The header sits at offset 0 of every module image and at the address
//! `create_module` returns. An image may carry a shorter (older insmod) or
//! longer (newer insmod) header: its `size_of_struct` says how many bytes
//! are header, and a member counts as present only when it lies wholly
//! inside that many bytes ([`ModuleHeader::member_present`]).

/// Byte offsets of the members of `struct module` on x86_64 (spec §1.1).
pub mod offsets {
    /// `unsigned long size_of_struct`
    pub const SIZE_OF_STRUCT: usize = 0;
    /// `struct module *next`
    pub const NEXT: usize = 8;
    /// `const char *name`
    pub const NAME: usize = 16;
    /// `unsigned long size`
    pub const SIZE: usize = 24;
    /// `atomic_t uc.usecount` (4 bytes, padded to 8)
    pub const USECOUNT: usize = 32;
    /// `unsigned long flags`
    pub const FLAGS: usize = 40;
    /// `unsigned nsyms`
    pub const NSYMS: usize = 48;
    /// `unsigned ndeps`
    pub const NDEPS: usize = 52;
    /// `struct module_symbol *syms`
    pub const SYMS: usize = 56;
    /// `struct module_ref *deps`
    pub const DEPS: usize = 64;
    /// `struct module_ref *refs`
    pub const REFS: usize = 72;
    /// `int (*init)(void)`
    pub const INIT: usize = 80;
    /// `void (*cleanup)(void)`
    pub const CLEANUP: usize = 88;
    /// `const struct exception_table_entry *ex_table_start`
    pub const EX_TABLE_START: usize = 96;
    /// `ex_table_end`
    pub const EX_TABLE_END: usize = 104;
    /// `persist_start`: the first optional member
    pub const PERSIST_START: usize = 112;
    /// `persist_end`
    pub const PERSIST_END: usize = 120;
    /// `int (*can_unload)(void)`
    pub const CAN_UNLOAD: usize = 128;
    /// `int runsize` (4 bytes, padded to 8)
    pub const RUNSIZE: usize = 136;
    /// `kallsyms_start`
    pub const KALLSYMS_START: usize = 144;
    /// `kallsyms_end`
    pub const KALLSYMS_END: usize = 152;
    /// `archdata_start`
    pub const ARCHDATA_START: usize = 160;
    /// `archdata_end`
    pub const ARCHDATA_END: usize = 168;
    /// `kernel_data`
    pub const KERNEL_DATA: usize = 176;
}

/// `sizeof(struct module)` on x86_64.
pub const MODULE_HEADER_SIZE: usize = 184;

/// Smallest `size_of_struct` `init_module` accepts: `offsetof(persist_start)`.
pub const MIN_SIZE_OF_STRUCT: u64 = offsets::PERSIST_START as u64;

/// Largest `size_of_struct` `init_module` accepts: `184 + 16 * sizeof(void *)`.
pub const MAX_SIZE_OF_STRUCT: u64 = MODULE_HEADER_SIZE as u64 + 16 * 8;

/// The decoded members of a `struct module` (x86_64 layout).
///
/// Pointers are plain `u64` addresses in the module host's address space.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ModuleHeader {
    /// Header size the image uses.
    pub size_of_struct: u64,
    /// Next module in the kernel's list (kept by the host).
    pub next: u64,
    /// Address of the NUL-terminated module name.
    pub name: u64,
    /// Size of the module image in bytes.
    pub size: u64,
    /// `uc.usecount`, a 4-byte atomic (the 4 padding bytes are dropped).
    pub usecount: i32,
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

fn u64_at(bytes: &[u8; MODULE_HEADER_SIZE], off: usize) -> u64 {
    u64::from_le_bytes(bytes[off..off + 8].try_into().expect("8 bytes"))
}

fn u32_at(bytes: &[u8; MODULE_HEADER_SIZE], off: usize) -> u32 {
    u32::from_le_bytes(bytes[off..off + 4].try_into().expect("4 bytes"))
}

impl ModuleHeader {
    /// Decodes a header from the first bytes of an image. Bytes missing
    /// from a short slice read as zero.
    pub fn decode(bytes: &[u8]) -> ModuleHeader {
        let mut b = [0u8; MODULE_HEADER_SIZE];
        let n = bytes.len().min(MODULE_HEADER_SIZE);
        b[..n].copy_from_slice(&bytes[..n]);
        use offsets::*;
        ModuleHeader {
            size_of_struct: u64_at(&b, SIZE_OF_STRUCT),
            next: u64_at(&b, NEXT),
            name: u64_at(&b, NAME),
            size: u64_at(&b, SIZE),
            usecount: u32_at(&b, USECOUNT) as i32,
            flags: u64_at(&b, FLAGS),
            nsyms: u32_at(&b, NSYMS),
            ndeps: u32_at(&b, NDEPS),
            syms: u64_at(&b, SYMS),
            deps: u64_at(&b, DEPS),
            refs: u64_at(&b, REFS),
            init: u64_at(&b, INIT),
            cleanup: u64_at(&b, CLEANUP),
            ex_table_start: u64_at(&b, EX_TABLE_START),
            ex_table_end: u64_at(&b, EX_TABLE_END),
            persist_start: u64_at(&b, PERSIST_START),
            persist_end: u64_at(&b, PERSIST_END),
            can_unload: u64_at(&b, CAN_UNLOAD),
            runsize: u32_at(&b, RUNSIZE) as i32,
            kallsyms_start: u64_at(&b, KALLSYMS_START),
            kallsyms_end: u64_at(&b, KALLSYMS_END),
            archdata_start: u64_at(&b, ARCHDATA_START),
            archdata_end: u64_at(&b, ARCHDATA_END),
            kernel_data: u64_at(&b, KERNEL_DATA),
        }
    }

    /// Encodes all 184 bytes; padding bytes are zero.
    pub fn encode(&self) -> [u8; MODULE_HEADER_SIZE] {
        let mut b = [0u8; MODULE_HEADER_SIZE];
        let mut put64 = |off: usize, v: u64| b[off..off + 8].copy_from_slice(&v.to_le_bytes());
        use offsets::*;
        put64(SIZE_OF_STRUCT, self.size_of_struct);
        put64(NEXT, self.next);
        put64(NAME, self.name);
        put64(SIZE, self.size);
        put64(FLAGS, self.flags);
        put64(SYMS, self.syms);
        put64(DEPS, self.deps);
        put64(REFS, self.refs);
        put64(INIT, self.init);
        put64(CLEANUP, self.cleanup);
        put64(EX_TABLE_START, self.ex_table_start);
        put64(EX_TABLE_END, self.ex_table_end);
        put64(PERSIST_START, self.persist_start);
        put64(PERSIST_END, self.persist_end);
        put64(CAN_UNLOAD, self.can_unload);
        put64(KALLSYMS_START, self.kallsyms_start);
        put64(KALLSYMS_END, self.kallsyms_end);
        put64(ARCHDATA_START, self.archdata_start);
        put64(ARCHDATA_END, self.archdata_end);
        put64(KERNEL_DATA, self.kernel_data);
        b[USECOUNT..USECOUNT + 4].copy_from_slice(&self.usecount.to_le_bytes());
        b[NSYMS..NSYMS + 4].copy_from_slice(&self.nsyms.to_le_bytes());
        b[NDEPS..NDEPS + 4].copy_from_slice(&self.ndeps.to_le_bytes());
        b[RUNSIZE..RUNSIZE + 4].copy_from_slice(&self.runsize.to_le_bytes());
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
