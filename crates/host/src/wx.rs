//! W^X for module images: the protection each segment of an image gets in
//! the module view. A one-shot load takes the segments from the loader's
//! layout; a 2.4-path image from the table umod's loader leaves in its
//! `archdata` range (`umod_abi::archdata`). An image without the table
//! (an unmodified insmod's) is mapped read-write-execute, as 2.4 mapped it.

use umod_abi::archdata::{self, SegmentProt, TableError, WxSegment};
use umod_abi::{Errno, ModuleHeader, ModuleRef, PAGE_SIZE};

use crate::state::{Shared, State};
use crate::window::Protection;

/// What an image asks for.
pub(crate) enum Mapping {
    /// Each segment its own protection.
    Segments(Vec<WxSegment>),
    /// No table: the whole block read-write-execute.
    Flat,
}

/// Reads the table of a 2.4-path image (`img` is the image, `h` its
/// checked header, `base` where it goes). A table with umod's magic that
/// cannot be honoured is refused: `Err` names why. So is one that would
/// make the header or the dependency table read-only or executable: the
/// host writes both (`next`, `refs`, the use count, each `module_ref`).
pub(crate) fn mapping_of(img: &[u8], h: &ModuleHeader, base: u64) -> Result<Mapping, String> {
    if !h.has_archdata() || h.archdata_end == 0 {
        return Ok(Mapping::Flat);
    }
    let (start, end) = (h.archdata_start - base, h.archdata_end - base);
    let Some(bytes) = img.get(start as usize..end as usize) else {
        return Ok(Mapping::Flat);
    };
    let segments = match archdata::decode(bytes, h.size, PAGE_SIZE) {
        Ok(s) => s,
        Err(TableError::Absent) => return Ok(Mapping::Flat),
        Err(e) => return Err(e.to_string()),
    };
    let written = [
        (0, h.size_of_struct),
        (
            h.deps.saturating_sub(base),
            ModuleRef::SIZE as u64 * u64::from(h.ndeps),
        ),
    ];
    for (offset, len) in written {
        if len > 0 && !read_write(&segments, offset, len) {
            return Err("W^X table: the header or the dependency table is not read-write".into());
        }
    }
    Ok(Mapping::Segments(segments))
}

/// Whether `[offset, offset + len)` lies in a read-write segment.
fn read_write(segments: &[WxSegment], offset: u64, len: u64) -> bool {
    segments.iter().any(|s| {
        s.prot == SegmentProt::ReadWrite
            && offset >= s.offset
            && offset.saturating_add(len) <= s.offset + s.size
    })
}

/// Gives each segment its protection in the module view, in whole pages
/// (pages already right cost nothing). Fails only when the system has no
/// memory left for the mapping records (ENOMEM).
pub(crate) fn protect(
    sh: &Shared,
    st: &mut State,
    idx: usize,
    segments: &[WxSegment],
) -> Result<(), Errno> {
    let block = &st.modules[idx].block;
    let addr = block.addr();
    for seg in segments {
        let start = addr + seg.offset / PAGE_SIZE * PAGE_SIZE;
        let stop = addr + (seg.offset + seg.size).div_ceil(PAGE_SIZE) * PAGE_SIZE;
        let prot = match seg.prot {
            SegmentProt::ReadExec => Protection::ReadExec,
            SegmentProt::Read => Protection::Read,
            SegmentProt::ReadWrite => Protection::ReadWrite,
        };
        sh.window
            .protect(block, start, stop - start, prot)
            .map_err(|_| Errno::ENOMEM)?;
    }
    st.modules[idx].wx = true;
    Ok(())
}
