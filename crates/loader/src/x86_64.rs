//! x86_64 relocation arithmetic: what each `R_X86_64_*` type computes and
//! how wide, and signed or not, its field is. Every narrowing type is
//! checked for overflow (BusyBox's insmod did not check; we must).
//!
//! Symbols: S symbol value, A addend, P place, G GOT slot offset from the
//! GOT base, GOT the GOT base, L the call target (S, or a stub when S is
//! out of reach), Z the symbol's size.

use object::elf;
use umod_abi::usize_of;

/// What a relocation computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Formula {
    /// Nothing (`R_X86_64_NONE`).
    None,
    /// S + A
    Absolute,
    /// S + A - P
    PcRelative,
    /// L + A - P (a call; may go through a stub)
    PltRelative,
    /// G + GOT + A - P (through a GOT slot)
    GotPcRelative,
    /// G + A (the slot's offset from the GOT base)
    GotOffset,
    /// GOT + A - P
    GotBasePcRelative,
    /// S + A - GOT
    SymbolGotOffset,
    /// L + A - GOT
    PltGotOffset,
    /// Z + A
    Size,
}

/// How the result is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// 64 bits, any value.
    Word64,
    /// 32 bits, the value must be a sign-extended 32-bit number.
    Signed32,
    /// 32 bits, the value must be a zero-extended 32-bit number.
    Unsigned32,
    /// 16 bits, signed or unsigned (bitfield overflow rule).
    Bits16,
    /// 16 bits, signed.
    Signed16,
    /// 8 bits, signed or unsigned.
    Bits8,
    /// 8 bits, signed.
    Signed8,
}

impl Field {
    /// Bytes the field occupies.
    pub fn width(self) -> u64 {
        match self {
            Field::Word64 => 8,
            Field::Signed32 | Field::Unsigned32 => 4,
            Field::Bits16 | Field::Signed16 => 2,
            Field::Bits8 | Field::Signed8 => 1,
        }
    }

    /// Stores `value` little-endian at the start of `out` (which holds at
    /// least [`Field::width`] bytes); false, storing nothing, when it does
    /// not fit.
    #[inline]
    pub fn store(self, value: i128, out: &mut [u8]) -> bool {
        if !self.fits(value) {
            return false;
        }
        // The value's low bytes, two's complement: a 64-bit field wraps as
        // the hardware does; a narrower one was checked above. Fixed-size
        // copies: this runs once per relocation.
        let v = value.to_le_bytes();
        match self.width() {
            8 => out[..8].copy_from_slice(&v[..8]),
            4 => out[..4].copy_from_slice(&v[..4]),
            2 => out[..2].copy_from_slice(&v[..2]),
            _ => out[0] = v[0],
        }
        true
    }

    /// Encodes `value`, or `None` when it does not fit.
    pub fn encode(self, value: i128) -> Option<Vec<u8>> {
        let mut out = vec![0u8; usize_of(self.width())];
        self.store(value, &mut out).then_some(out)
    }

    /// Whether `value` fits the field.
    #[inline]
    pub fn fits(self, value: i128) -> bool {
        let fits = |lo: i128, hi: i128| (lo..=hi).contains(&value);
        match self {
            Field::Word64 => true,
            Field::Signed32 => fits(i32::MIN.into(), i32::MAX.into()),
            Field::Unsigned32 => fits(0, u32::MAX.into()),
            Field::Bits16 => fits(i16::MIN.into(), u16::MAX.into()),
            Field::Signed16 => fits(i16::MIN.into(), i16::MAX.into()),
            Field::Bits8 => fits(i8::MIN.into(), u8::MAX.into()),
            Field::Signed8 => fits(i8::MIN.into(), i8::MAX.into()),
        }
    }
}

/// A relocation type the loader implements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RelocKind {
    /// `R_X86_64_...`
    pub name: &'static str,
    /// What it computes.
    pub formula: Formula,
    /// How it stores the result.
    pub field: Field,
}

impl RelocKind {
    /// Whether the fast loops ([`scan_common`], [`apply_common`]) take it:
    /// a symbol's address, maybe less the place, stored in 64 bits or
    /// checked into 32 (a call takes it only when it needs no stub).
    pub fn is_common(&self) -> bool {
        matches!(
            (self.formula, self.field),
            (
                Formula::Absolute | Formula::PcRelative,
                Field::Word64 | Field::Signed32
            ) | (Formula::Absolute, Field::Unsigned32)
                | (Formula::PltRelative, Field::Signed32)
        )
    }

    /// Whether it needs a GOT slot for its symbol.
    pub fn needs_got_slot(&self) -> bool {
        matches!(self.formula, Formula::GotPcRelative | Formula::GotOffset)
    }

    /// Whether it needs the GOT to exist (a slot, or its base address).
    pub fn needs_got(&self) -> bool {
        self.needs_got_slot()
            || matches!(
                self.formula,
                Formula::GotBasePcRelative | Formula::SymbolGotOffset | Formula::PltGotOffset
            )
    }
}

/// Why a type is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unsupported {
    /// Its name, or "unknown".
    pub name: &'static str,
    /// Explanation appended to the message.
    pub why: &'static str,
}

/// One entry of the table: its number (object's `elf::R_X86_64_*`), its
/// name, what it computes and how it stores the result.
const fn k(
    t: &mut [Option<RelocKind>; TABLE],
    r_type: elf::RelocationType,
    name: &'static str,
    formula: Formula,
    field: Field,
) {
    t[r_type.0 as usize] = Some(RelocKind {
        name,
        formula,
        field,
    });
}

/// Table size: one past the highest implemented `r_type`.
const TABLE: usize = 43;

/// Every type the loader implements, indexed by `r_type`: the one place a
/// type's name, formula and field are spelled (this is on the path of
/// every relocation).
static KINDS: [Option<RelocKind>; TABLE] = {
    use Field::*;
    use Formula::*;
    let mut t: [Option<RelocKind>; TABLE] = [Option::None; TABLE];
    k(&mut t, elf::R_X86_64_NONE, "R_X86_64_NONE", None, Word64);
    k(&mut t, elf::R_X86_64_64, "R_X86_64_64", Absolute, Word64);
    k(
        &mut t,
        elf::R_X86_64_PC32,
        "R_X86_64_PC32",
        PcRelative,
        Signed32,
    );
    k(
        &mut t,
        elf::R_X86_64_GOT32,
        "R_X86_64_GOT32",
        GotOffset,
        Signed32,
    );
    k(
        &mut t,
        elf::R_X86_64_PLT32,
        "R_X86_64_PLT32",
        PltRelative,
        Signed32,
    );
    k(
        &mut t,
        elf::R_X86_64_GOTPCREL,
        "R_X86_64_GOTPCREL",
        GotPcRelative,
        Signed32,
    );
    k(
        &mut t,
        elf::R_X86_64_32,
        "R_X86_64_32",
        Absolute,
        Unsigned32,
    );
    k(
        &mut t,
        elf::R_X86_64_32S,
        "R_X86_64_32S",
        Absolute,
        Signed32,
    );
    k(&mut t, elf::R_X86_64_16, "R_X86_64_16", Absolute, Bits16);
    k(
        &mut t,
        elf::R_X86_64_PC16,
        "R_X86_64_PC16",
        PcRelative,
        Signed16,
    );
    k(&mut t, elf::R_X86_64_8, "R_X86_64_8", Absolute, Bits8);
    k(
        &mut t,
        elf::R_X86_64_PC8,
        "R_X86_64_PC8",
        PcRelative,
        Signed8,
    );
    k(
        &mut t,
        elf::R_X86_64_PC64,
        "R_X86_64_PC64",
        PcRelative,
        Word64,
    );
    k(
        &mut t,
        elf::R_X86_64_GOTOFF64,
        "R_X86_64_GOTOFF64",
        SymbolGotOffset,
        Word64,
    );
    k(
        &mut t,
        elf::R_X86_64_GOTPC32,
        "R_X86_64_GOTPC32",
        GotBasePcRelative,
        Signed32,
    );
    k(
        &mut t,
        elf::R_X86_64_GOT64,
        "R_X86_64_GOT64",
        GotOffset,
        Word64,
    );
    k(
        &mut t,
        elf::R_X86_64_GOTPCREL64,
        "R_X86_64_GOTPCREL64",
        GotPcRelative,
        Word64,
    );
    k(
        &mut t,
        elf::R_X86_64_GOTPC64,
        "R_X86_64_GOTPC64",
        GotBasePcRelative,
        Word64,
    );
    k(
        &mut t,
        elf::R_X86_64_GOTPLT64,
        "R_X86_64_GOTPLT64",
        GotOffset,
        Word64,
    );
    k(
        &mut t,
        elf::R_X86_64_PLTOFF64,
        "R_X86_64_PLTOFF64",
        PltGotOffset,
        Word64,
    );
    k(
        &mut t,
        elf::R_X86_64_SIZE32,
        "R_X86_64_SIZE32",
        Size,
        Unsigned32,
    );
    k(
        &mut t,
        elf::R_X86_64_SIZE64,
        "R_X86_64_SIZE64",
        Size,
        Word64,
    );
    k(
        &mut t,
        elf::R_X86_64_GOTPCRELX,
        "R_X86_64_GOTPCRELX",
        GotPcRelative,
        Signed32,
    );
    k(
        &mut t,
        elf::R_X86_64_REX_GOTPCRELX,
        "R_X86_64_REX_GOTPCRELX",
        GotPcRelative,
        Signed32,
    );
    t
};

/// `ELF64_R_TYPE(info)`, as an index into the table.
#[inline(always)]
fn r_type_of(info: u64) -> usize {
    usize_of(info & 0xffff_ffff)
}

/// Looks an `r_type` up.
pub fn classify(r_type: u32) -> Result<&'static RelocKind, Unsupported> {
    match KINDS.get(r_type as usize) {
        Some(Some(kind)) => Ok(kind),
        _ => Err(unsupported(r_type)),
    }
}

/// Why a type is not in the table.
fn unsupported(r_type: u32) -> Unsupported {
    let tls = |name| Unsupported {
        name,
        why: ": thread-local storage is not supported in modules",
    };
    let dynamic = |name| Unsupported {
        name,
        why: ": a dynamic relocation has no place in a relocatable object",
    };
    match elf::RelocationType(r_type) {
        elf::R_X86_64_DTPMOD64 => tls("R_X86_64_DTPMOD64"),
        elf::R_X86_64_DTPOFF64 => tls("R_X86_64_DTPOFF64"),
        elf::R_X86_64_TPOFF64 => tls("R_X86_64_TPOFF64"),
        elf::R_X86_64_TLSGD => tls("R_X86_64_TLSGD"),
        elf::R_X86_64_TLSLD => tls("R_X86_64_TLSLD"),
        elf::R_X86_64_DTPOFF32 => tls("R_X86_64_DTPOFF32"),
        elf::R_X86_64_GOTTPOFF => tls("R_X86_64_GOTTPOFF"),
        elf::R_X86_64_TPOFF32 => tls("R_X86_64_TPOFF32"),
        elf::R_X86_64_GOTPC32_TLSDESC => tls("R_X86_64_GOTPC32_TLSDESC"),
        elf::R_X86_64_TLSDESC_CALL => tls("R_X86_64_TLSDESC_CALL"),
        elf::R_X86_64_TLSDESC => tls("R_X86_64_TLSDESC"),
        elf::R_X86_64_COPY => dynamic("R_X86_64_COPY"),
        elf::R_X86_64_GLOB_DAT => dynamic("R_X86_64_GLOB_DAT"),
        elf::R_X86_64_JUMP_SLOT => dynamic("R_X86_64_JUMP_SLOT"),
        elf::R_X86_64_RELATIVE => dynamic("R_X86_64_RELATIVE"),
        elf::R_X86_64_IRELATIVE => dynamic("R_X86_64_IRELATIVE"),
        elf::R_X86_64_RELATIVE64 => dynamic("R_X86_64_RELATIVE64"),
        _ => Unsupported {
            name: "unknown",
            why: "",
        },
    }
}

/// Checks `entries` of a section of `size` bytes from the first on while
/// they are of the common kinds ([`RelocKind::is_common`]), name a symbol
/// below `symbols`, fit inside the section, and need neither a GOT slot
/// nor a call stub (a PLT32 to a symbol `external` is true of may); returns
/// how many it passed. The caller looks at the entry it stopped at the
/// general way, then comes back.
#[inline(never)]
pub fn scan_common(
    entries: &[elf::Rela64<object::LittleEndian>],
    symbols: usize,
    size: u64,
    external: impl Fn(usize) -> bool,
) -> usize {
    let e = object::LittleEndian;
    for (k, r) in entries.iter().enumerate() {
        let info = r.r_info.get(e);
        let offset = r.r_offset.get(e);
        let sym = (info >> 32) as usize;
        let width = match KINDS.get(r_type_of(info)) {
            Some(Some(kind)) if kind.is_common() => {
                if kind.formula == Formula::PltRelative && external(sym) {
                    return k;
                }
                kind.field.width()
            }
            _ => return k,
        };
        if sym >= symbols || offset >= size || offset + width > size {
            return k;
        }
    }
    entries.len()
}

/// Where [`apply_common`] applies a run of relocations.
#[derive(Clone, Copy, Debug)]
pub struct Run {
    /// Offset of the section in the image.
    pub section_offset: u64,
    /// Absolute address of the section.
    pub section_address: u64,
}

/// Applies `entries` from the first on while they are of the kinds nearly
/// every object is made of ([`RelocKind::is_common`]: 64, PC32, PLT32
/// within reach, 32, 32S, PC64) and their symbol's address is in `addrs`;
/// returns how many it applied.
/// The caller applies the entry it stopped at the general way, then
/// comes back. Kept apart, with few live values, as the hot loop of a load.
#[inline(never)]
pub fn apply_common(
    img: &mut [u8],
    entries: &[elf::Rela64<object::LittleEndian>],
    addrs: &[u64],
    unknown: u64,
    run: Run,
) -> usize {
    let e = object::LittleEndian;
    for (k, r) in entries.iter().enumerate() {
        let info = r.r_info.get(e);
        let offset = r.r_offset.get(e);
        let a = r.r_addend.get(e);
        // 64-bit arithmetic is exact here: S and P are below 2^62 (any
        // other S takes the general path), so S - P cannot overflow and
        // adding A is checked.
        let s = match addrs.get((info >> 32) as usize) {
            Some(&s) if s != unknown && s < 1 << 62 => s as i64,
            _ => return k,
        };
        let Some(Some(kind)) = KINDS.get(r_type_of(info)) else {
            return k;
        };
        let place = run.section_address.wrapping_add(offset) as i64;
        let at = usize_of(run.section_offset.wrapping_add(offset));
        // The formulas of `compute` and the fields of `Field::fits`, for the
        // common kinds, in 64-bit arithmetic.
        let relative = || (s - place).checked_add(a);
        let stored = match (kind.formula, kind.field) {
            (Formula::Absolute, Field::Word64) => store(img, at, s.wrapping_add(a) as u64, 8),
            (Formula::PcRelative, Field::Word64) => {
                store(img, at, s.wrapping_add(a).wrapping_sub(place) as u64, 8)
            }
            (Formula::PcRelative | Formula::PltRelative, Field::Signed32) => {
                match relative().map(i32::try_from) {
                    Some(Ok(v)) => store(img, at, v as u32 as u64, 4),
                    _ => false,
                }
            }
            (Formula::Absolute, Field::Unsigned32) => match s.checked_add(a).map(u32::try_from) {
                Some(Ok(v)) => store(img, at, u64::from(v), 4),
                _ => false,
            },
            (Formula::Absolute, Field::Signed32) => match s.checked_add(a).map(i32::try_from) {
                Some(Ok(v)) => store(img, at, v as u32 as u64, 4),
                _ => false,
            },
            _ => false,
        };
        if !stored {
            return k;
        }
    }
    entries.len()
}

#[inline(always)]
fn store(img: &mut [u8], at: usize, value: u64, width: usize) -> bool {
    match img.get_mut(at..at.wrapping_add(width)) {
        Some(field) => {
            field.copy_from_slice(&value.to_le_bytes()[..width]);
            true
        }
        None => false,
    }
}

/// The inputs of one relocation, all addresses absolute.
#[derive(Clone, Copy, Debug)]
pub struct Inputs {
    /// S
    pub symbol: u64,
    /// A
    pub addend: i64,
    /// P
    pub place: u64,
    /// GOT base (0 when there is no GOT).
    pub got: u64,
    /// G: the symbol's slot address minus the GOT base.
    pub got_slot: i64,
    /// L: the call target.
    pub call_target: u64,
    /// Z
    pub size: u64,
}

/// Computes the exact value to store; 64-bit fields then wrap like the
/// hardware, narrower ones are range-checked.
pub fn compute(formula: Formula, i: &Inputs) -> i128 {
    let (s, a, p, got, g, l, z) = (
        i128::from(i.symbol),
        i128::from(i.addend),
        i128::from(i.place),
        i128::from(i.got),
        i128::from(i.got_slot),
        i128::from(i.call_target),
        i128::from(i.size),
    );
    match formula {
        Formula::None => 0,
        Formula::Absolute => s + a,
        Formula::PcRelative => s + a - p,
        Formula::PltRelative => l + a - p,
        Formula::GotPcRelative => g + got + a - p,
        Formula::GotOffset => g + a,
        Formula::GotBasePcRelative => got + a - p,
        Formula::SymbolGotOffset => s + a - got,
        Formula::PltGotOffset => l + a - got,
        Formula::Size => z + a,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_overflow_rules() {
        assert_eq!(Field::Signed32.encode(-1), Some(vec![0xff; 4]));
        assert_eq!(Field::Signed32.encode(1 << 31), None);
        assert_eq!(
            Field::Signed32.encode(-(1 << 31)),
            Some(vec![0, 0, 0, 0x80])
        );
        assert_eq!(Field::Unsigned32.encode(-1), None);
        assert_eq!(Field::Unsigned32.encode(0xffff_ffff), Some(vec![0xff; 4]));
        assert_eq!(Field::Unsigned32.encode(1 << 32), None);
        assert_eq!(
            Field::Word64.encode(-2),
            Some(vec![0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])
        );
        assert_eq!(Field::Bits8.encode(255), Some(vec![255]));
        assert_eq!(Field::Signed8.encode(128), None);
    }

    fn rela(offset: u64, sym: u64, r_type: u32, addend: i64) -> elf::Rela64<object::LittleEndian> {
        let e = object::LittleEndian;
        elf::Rela64 {
            r_offset: object::U64::new(e, offset),
            r_info: object::U64::new(e, sym << 32 | u64::from(r_type)),
            r_addend: object::I64::new(e, addend),
        }
    }

    #[test]
    fn the_common_loops_stop_where_the_general_path_takes_over() {
        let run = Run {
            section_offset: 0,
            section_address: 0x1000,
        };
        // Symbol 1 is near, 2 is above 4 GiB, 3 is not loaded.
        let addrs = [0, 0x2000, 0x1_0000_0000, u64::MAX];
        let entries = [
            rela(0, 1, 2, -4),  // PC32 near: 0x2000 - 4 - 0x1000
            rela(4, 1, 1, 8),   // 64
            rela(12, 2, 4, -4), // PLT32 out of reach: needs its stub
            rela(16, 1, 10, 0),
        ];
        let mut img = [0u8; 24];
        assert_eq!(apply_common(&mut img, &entries, &addrs, u64::MAX, run), 2);
        assert_eq!(img[..4], 0xffci32.to_le_bytes());
        assert_eq!(img[4..12], 0x2008u64.to_le_bytes());
        assert_eq!(img[12..], [0u8; 12], "nothing past the stop");
        let unloaded = [rela(0, 3, 1, 0)];
        assert_eq!(apply_common(&mut img, &unloaded, &addrs, u64::MAX, run), 0);
        let overflow = [rela(0, 2, 11, 0)];
        assert_eq!(apply_common(&mut img, &overflow, &addrs, u64::MAX, run), 0);

        // The scan stops at a call to an external, a GOT type, a symbol
        // past the table, and a field past the section end.
        let external = |sym: usize| sym == 2;
        assert_eq!(scan_common(&entries, 4, 24, external), 2);
        assert_eq!(scan_common(&entries[..2], 4, 24, external), 2);
        assert_eq!(scan_common(&[rela(0, 1, 9, 0)], 4, 24, external), 0);
        assert_eq!(scan_common(&[rela(0, 4, 1, 0)], 4, 24, external), 0);
        assert_eq!(scan_common(&[rela(20, 1, 1, 0)], 4, 24, external), 0);
        assert_eq!(scan_common(&[rela(20, 1, 2, 0)], 4, 24, external), 1);
    }

    #[test]
    fn formulas() {
        let i = Inputs {
            symbol: 0x1000,
            addend: -4,
            place: 0x2000,
            got: 0x3000,
            got_slot: 0x10,
            call_target: 0x1000,
            size: 7,
        };
        assert_eq!(compute(Formula::PcRelative, &i), 0x1000 - 4 - 0x2000);
        assert_eq!(compute(Formula::GotPcRelative, &i), 0x3010 - 4 - 0x2000);
        assert_eq!(compute(Formula::SymbolGotOffset, &i), 0x1000 - 4 - 0x3000);
        assert_eq!(compute(Formula::Size, &i), 3);
        assert!(classify(elf::R_X86_64_GOTTPOFF.0)
            .unwrap_err()
            .why
            .contains("thread-local"));
        assert_eq!(classify(200).unwrap_err().name, "unknown");
    }
}
