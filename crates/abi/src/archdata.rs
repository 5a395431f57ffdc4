//! umod's use of `struct module`'s `archdata` range on x86_64 (where 2.4's
//! `module_arch_init` ignored it): a table of the image's segments and the
//! protection each wants, written by umod's loader so that a module loaded
//! the 2.4 way (create, relocate in the tool, init) is mapped W^X like a
//! one-shot load. An image without the table (any unmodified insmod's) is
//! mapped read-write-execute, as 2.4 mapped it.
//!
//! ```text
//!  offset 0   u8  magic[8]  "umodWX\0\1"
//!         8   u32 count     (at most MAX_SEGMENTS)
//!        12   u32 zero
//!        16   count entries of 24 bytes: u64 offset, u64 size, u32 prot, u32 zero
//! ```
//! Offsets are from the module's base; `prot` is [`SegmentProt`].

/// The table's first eight bytes.
pub const MAGIC: [u8; 8] = *b"umodWX\0\x01";

/// Most segments a table lists (the loader's W^X layout makes at most
/// seven: the header, code, constants, data, and init code, constants
/// and data).
pub const MAX_SEGMENTS: usize = 8;

/// Bytes of a table with `count` entries.
pub const fn table_size(count: usize) -> usize {
    16 + 24 * count
}

/// Bytes the loader reserves for a table.
pub const MAX_TABLE_SIZE: usize = table_size(MAX_SEGMENTS);

/// The protection a segment wants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SegmentProt {
    /// Read only (constants).
    Read = 1,
    /// Read and write (data, the header).
    ReadWrite = 2,
    /// Read and execute (code).
    ReadExec = 3,
}

/// One range of the image and its protection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WxSegment {
    /// Offset from the module's base.
    pub offset: u64,
    /// Length in bytes.
    pub size: u64,
    /// Protection.
    pub prot: SegmentProt,
}

/// Encodes a table of `segments` (at most [`MAX_SEGMENTS`]).
pub fn encode(segments: &[WxSegment]) -> Vec<u8> {
    assert!(
        segments.len() <= MAX_SEGMENTS,
        "a W^X layout has few segments"
    );
    let mut out = Vec::with_capacity(table_size(segments.len()));
    out.extend_from_slice(&MAGIC);
    let count = u32::try_from(segments.len()).expect("at most MAX_SEGMENTS");
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    for s in segments {
        out.extend_from_slice(&s.offset.to_le_bytes());
        out.extend_from_slice(&s.size.to_le_bytes());
        out.extend_from_slice(&(s.prot as u32).to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
    }
    out
}

/// Why a range is not a usable table.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TableError {
    /// Not umod's table at all (another archdata, or none): the image is
    /// mapped as 2.4 mapped it.
    #[error("not a umod W^X table")]
    Absent,
    /// umod's magic, but entries that cannot be honoured.
    #[error("W^X table: {0}")]
    Invalid(&'static str),
}

/// Decodes and checks the table in `bytes` for an image of `image_size`
/// bytes: entries in order, page-aligned, not overlapping, inside the
/// image, each with a known protection.
pub fn decode(bytes: &[u8], image_size: u64, page: u64) -> Result<Vec<WxSegment>, TableError> {
    if bytes.len() < 16 || bytes[..8] != MAGIC {
        return Err(TableError::Absent);
    }
    let word = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
    let long = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
    let count = word(8) as usize;
    if count == 0 || count > MAX_SEGMENTS {
        return Err(TableError::Invalid("segment count out of range"));
    }
    if bytes.len() < table_size(count) || word(12) != 0 {
        return Err(TableError::Invalid("truncated or malformed header"));
    }
    let mut out = Vec::with_capacity(count);
    let mut end = 0u64;
    for k in 0..count {
        let at = 16 + 24 * k;
        let (offset, size) = (long(at), long(at + 8));
        let prot = match (word(at + 16), word(at + 20)) {
            (1, 0) => SegmentProt::Read,
            (2, 0) => SegmentProt::ReadWrite,
            (3, 0) => SegmentProt::ReadExec,
            _ => return Err(TableError::Invalid("unknown protection")),
        };
        if size == 0 || offset % page != 0 || offset < end {
            return Err(TableError::Invalid("segments out of order or unaligned"));
        }
        end = offset
            .checked_add(size)
            .filter(|&e| e <= image_size)
            .ok_or(TableError::Invalid("a segment leaves the image"))?;
        out.push(WxSegment { offset, size, prot });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_round_trip_and_bad_ones_are_named() {
        let segs = [
            WxSegment {
                offset: 0,
                size: 300,
                prot: SegmentProt::ReadWrite,
            },
            WxSegment {
                offset: 4096,
                size: 10,
                prot: SegmentProt::ReadExec,
            },
        ];
        let t = encode(&segs);
        assert_eq!(t.len(), table_size(2));
        assert_eq!(decode(&t, 8192, 4096).unwrap(), segs);
        assert_eq!(
            decode(b"anything else here", 8192, 4096),
            Err(TableError::Absent)
        );
        assert!(decode(&t, 4100, 4096).is_err(), "leaves the image");
        let mut unaligned = segs;
        unaligned[1].offset = 4000;
        assert!(decode(&encode(&unaligned), 8192, 4096).is_err());
        let mut bad = t.clone();
        bad[16 + 24 + 16] = 7;
        assert_eq!(
            decode(&bad, 8192, 4096),
            Err(TableError::Invalid("unknown protection"))
        );
        assert!(decode(&t[..20], 8192, 4096).is_err(), "truncated");
    }
}
