//! The `/proc/modules` and `/proc/ksyms` text views (spec §7).

use umod_abi::{
    MOD_AUTOCLEAN, MOD_DELETED, MOD_INITIALIZING, MOD_RUNNING, MOD_USED_ONCE, PAGE_SIZE,
};

use umod_abi::Errno;

use crate::caller::{FileCreds, MAY_READ};
use crate::calls::query::{header_size, reported_usecount};
use crate::pin::{self, Hold};
use crate::services::proc::{self, ProcPage};
use crate::state::{Module, Shared, State, StateGuard};

/// Where a listing of `/proc/modules` or `/proc/ksyms` goes on, as a
/// seq_file position did: the id of the next entry to list (entries are
/// listed newest first, by falling id) and the line within it. An entry
/// that comes or goes between two chunks is listed whole or not at all;
/// no entry is listed twice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ViewPos {
    /// The next entry's id (0: the kernel's part of /proc/ksyms).
    entry: u64,
    /// The next line of that entry.
    line: u64,
}

impl ViewPos {
    /// The start of a listing.
    pub const START: ViewPos = ViewPos {
        entry: u64::MAX,
        line: 0,
    };

    /// The position a [`ViewPos::raw`] pair names (a client sends back
    /// what it was given; any pair is a valid position).
    pub fn from_raw(entry: u64, line: u64) -> ViewPos {
        ViewPos { entry, line }
    }

    /// The position as two numbers, to send.
    pub fn raw(self) -> (u64, u64) {
        (self.entry, self.line)
    }
}

/// A piece of a listing: whole lines, and where the next piece starts
/// (`None` at the end).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ViewChunk {
    /// Lines of the listing.
    pub text: Vec<u8>,
    /// Where to go on.
    pub next: Option<ViewPos>,
}

/// What a `/proc/modules` line takes, about: the chunk is cut by it
/// before the lines are written (their use counts need module code).
fn line_estimate(st: &State, m: &Module) -> usize {
    let users: usize = m.refs.iter().map(|&(u, _)| st.name_of(u).len() + 1).sum();
    m.name.len().max(20) + 8 + 4 + 28 + users
}

/// The entries of the next `/proc/modules` chunk from `from`, about `max`
/// bytes of lines (one entry at least), and where the chunk after starts.
pub(crate) fn modules_chunk_ids(
    st: &State,
    from: ViewPos,
    max: usize,
) -> (Vec<u64>, Option<ViewPos>) {
    let mut ids = Vec::new();
    let mut bytes = 0;
    let mut entries = st.modules.starting_at(from.entry);
    for (_, m) in entries.by_ref() {
        ids.push(m.id);
        bytes += line_estimate(st, m);
        if bytes >= max {
            break;
        }
    }
    let next = entries.next().map(|(_, m)| ViewPos {
        entry: m.id,
        line: 0,
    });
    (ids, next)
}

/// The `/proc/modules` lines of entries `ids` still listed, in order.
/// Names are bytes (2.4 never checked their charset), so the text is too.
pub(crate) fn modules_lines(sh: &Shared, st: &State, ids: &[u64]) -> Vec<u8> {
    let mut out = Vec::new();
    for i in ids.iter().filter_map(|&id| st.index_of_id(id)) {
        let m = &st.modules[i];
        out.extend_from_slice(&m.name);
        out.extend(std::iter::repeat_n(
            b' ',
            20usize.saturating_sub(m.name.len()),
        ));
        out.extend(format!("{:8}", header_size(sh, st, i)).bytes());
        let f = sh.flags(m);
        if f & MOD_RUNNING != 0 {
            out.extend(format!("{:4}", reported_usecount(sh, st, i, 0)).bytes());
        }
        out.extend_from_slice(status_tag(f).as_bytes());
        if !m.refs.is_empty() {
            out.extend_from_slice(b" [");
            for (k, &(u, _)) in m.refs.iter().enumerate() {
                if k > 0 {
                    out.push(b' ');
                }
                out.extend_from_slice(st.name_of(u));
            }
            out.push(b']');
        }
        out.push(b'\n');
    }
    out
}

/// The status words of a `/proc/modules` line.
fn status_tag(f: u64) -> String {
    if f & MOD_DELETED != 0 {
        " (deleted)".into()
    } else if f & MOD_RUNNING != 0 {
        let mut t = String::new();
        if f & MOD_AUTOCLEAN != 0 {
            t.push_str(" (autoclean)");
        }
        if f & MOD_USED_ONCE == 0 {
            t.push_str(" (unused)");
        }
        t
    } else if f & MOD_INITIALIZING != 0 {
        " (initializing)".into()
    } else {
        " (uninitialized)".into()
    }
}

/// The next `/proc/ksyms` chunk from `from`, about `max` bytes: every
/// queryable entry's symbols (`value name\t[module]`), newest first, then
/// the kernel's (`value name`).
pub(crate) fn ksyms_chunk(sh: &Shared, st: &State, from: ViewPos, max: usize) -> ViewChunk {
    let mut out = Vec::new();
    let full = |out: &Vec<u8>| out.len() >= max;
    if from.entry > 0 {
        for (_, m) in st.modules.starting_at(from.entry) {
            if !sh.can_query(m) {
                continue;
            }
            let first = if m.id == from.entry { from.line } else { 0 };
            let first = u32::try_from(first).unwrap_or(u32::MAX);
            for i in first..m.image.nsyms {
                if full(&out) {
                    let next = ViewPos {
                        entry: m.id,
                        line: u64::from(i),
                    };
                    return ViewChunk {
                        text: out,
                        next: Some(next),
                    };
                }
                let Some((value, name)) = sh.module_symbol(m, i) else {
                    break;
                };
                out.extend(format!("{value:016x} ").bytes());
                out.extend_from_slice(&name);
                out.extend_from_slice(b"\t[");
                out.extend_from_slice(&m.name);
                out.extend_from_slice(b"]\n");
            }
        }
    }
    let first = if from.entry == 0 { from.line } else { 0 };
    let kernel = st.exports.symbols();
    let first = usize::try_from(first).unwrap_or(usize::MAX);
    for (i, s) in kernel.iter().enumerate().skip(first) {
        if full(&out) {
            let next = ViewPos {
                entry: 0,
                line: i as u64,
            };
            return ViewChunk {
                text: out,
                next: Some(next),
            };
        }
        out.extend(format!("{:016x} ", s.value).bytes());
        out.extend_from_slice(&s.name);
        out.push(b'\n');
    }
    ViewChunk {
        text: out,
        next: None,
    }
}

/// Largest text one read of a module's /proc entry returns.
const MAX_PROC_TEXT: usize = 1 << 20;
/// Bytes a read function is asked for at a time (2.4's PROC_BLOCK_SIZE).
const PROC_BLOCK: u64 = 3 * 1024;

/// Reads a module-registered /proc entry the way 2.4's `proc_file_read`
/// drove a `read_proc` function: ask for a block at an offset, follow the
/// `start` convention the function chose, stop at `eof` or a 0 return.
///
/// The entry's mode, uid and gid (which its module may have changed) are
/// checked against `reader` first, as 2.4's open did: `EACCES`. The read
/// functions fill `page`, cleared before the first call so that no byte of
/// another read shows; the big lock is released while they run, the
/// owning module pinned.
pub(crate) fn read_entry(
    sh: &Shared,
    st: &mut StateGuard<'_>,
    reader: &FileCreds,
    name: &[u8],
    page: &ProcPage<'_>,
) -> Result<Vec<u8>, Errno> {
    let entry = sh.kernel.procs().get(name).ok_or(Errno::ENOENT)?;
    let w = sh.window.mapping();
    let word = |addr: u64| {
        let mut b = [0u8; 8];
        w.read(addr, &mut b);
        u64::from_le_bytes(b)
    };
    let half = |addr: u64| word(addr) as u32;
    let (mode, uid, gid) = (
        half(entry.addr + proc::field::MODE),
        half(entry.addr + proc::field::UID),
        half(entry.addr + proc::field::GID),
    );
    if !reader.may(mode, uid, gid, MAY_READ) {
        return Err(Errno::EACCES);
    }
    let read_proc = word(entry.addr + proc::field::READ_PROC);
    let data = word(entry.addr + proc::field::DATA);
    let Some(owner) = st
        .modules
        .slot_containing(read_proc, 1)
        .map(|s| st.modules[s].id)
    else {
        return Err(Errno::EIO);
    };
    let (page_at, start_at, eof_at) = (page.page(), page.start_word(), page.eof_word());
    w.zero(page_at, PAGE_SIZE);
    let mut out = Vec::new();
    let mut pos = 0u64;
    while out.len() < MAX_PROC_TEXT {
        w.zero(start_at, 16);
        let args = [page_at, start_at, pos, PROC_BLOCK, eof_at, data];
        let Ok(n) = pin::run(sh, st, owner, Hold::Pinned, "a /proc read", read_proc, args) else {
            return Err(Errno::EIO);
        };
        if n < 0 {
            return Err(Errno(-n));
        }
        if n == 0 {
            break;
        }
        let n = u64::from(n.unsigned_abs()).min(PAGE_SIZE);
        let start = word(start_at);
        let mut eof = [0u8; 4];
        w.read(eof_at, &mut eof);
        let (from, len, advance) = if start == 0 {
            // The function wrote the whole text from offset 0.
            if n <= pos {
                break;
            }
            let len = (n - pos).min(PROC_BLOCK);
            (page_at + pos, len, len)
        } else if start >= page_at && start < page_at + PAGE_SIZE {
            // It wrote the part at `pos`, at `start`.
            let len = n.min(page_at + PAGE_SIZE - start);
            (start, len, n)
        } else if let Some(slot) = st.modules.slot_containing(start, 1) {
            // It points at the part in module memory (its own buffer, the
            // common idiom): 2.4 told this from a count by `start >= page`,
            // true there because module memory lay above the page; here
            // the page lies above it, so the block decides.
            let block = &st.modules[slot].block;
            let len = n.min(block.addr() + block.size() - start);
            (start, len, n)
        } else if start < page_at {
            // The "start is a count" convention: n bytes at the page start.
            (page_at, n, start)
        } else {
            return Err(Errno::EIO);
        };
        let mut chunk = vec![0u8; len as usize];
        w.read(from, &mut chunk);
        out.extend_from_slice(&chunk);
        pos += advance;
        if u32::from_le_bytes(eof) != 0 {
            break;
        }
    }
    Ok(out)
}
