//! `init_module(name, image)`: check a relocated image against its entry,
//! copy it in, link its dependencies and run its `init`.
//!
//! 2.4 overlays the caller's header on the entry first and restores the
//! saved header on any failure. We validate a decoded copy and write to the
//! window only after every check has passed, which leaves the entry exactly
//! as it was on failure, with no window to restore from.

use umod_abi::module::{MAX_SIZE_OF_STRUCT, MIN_SIZE_OF_STRUCT, MODULE_HEADER_SIZE};
use umod_abi::{
    Errno, ModuleHeader, ModuleRef, MOD_AUTOCLEAN, MOD_INITIALIZING, MOD_RUNNING, MOD_USED_ONCE,
};

use super::{get_mod_name, mod_bound};
use crate::kallsyms;
use crate::pin::{self, Hold};
use crate::services::{KERN_ERR, KERN_INFO};
use crate::state::{ImageFacts, Shared, State, StateGuard};
use crate::window::Protection;
use crate::wx;
use umod_abi::user::UserMemory;

/// Size of an `exception_table_entry` on x86_64.
const EX_ENTRY: u64 = 16;

fn refuse(sh: &Shared, why: &str) -> Errno {
    sh.printk(KERN_ERR, &format!("init_module: {why}"));
    Errno::EINVAL
}

/// Runs spec §3 rows 2-24 in order (EPERM was checked by the caller), then
/// §3.1 and §3.2.
pub(crate) fn init_module(
    sh: &Shared,
    st: &mut StateGuard<'_>,
    mem: &dyn UserMemory,
    name_addr: u64,
    image: u64,
) -> Result<(), Errno> {
    let id = prepare(sh, st, mem, name_addr, image)?;
    let idx = st.index_of_id(id).expect("prepared entry");
    if !st.modules[idx].wx {
        let name = String::from_utf8_lossy(&st.modules[idx].name).into_owned();
        sh.printk(
            KERN_INFO,
            &format!("{name}: 2.4 image, mapped read-write-execute"),
        );
    }
    run_init(sh, st, id)
}

/// Rows 2-24 and §3.1: checks the image and, when every check passes,
/// copies it in and links its dependencies. Returns the entry's id; its
/// `init` has not run yet.
pub(crate) fn prepare(
    sh: &Shared,
    st: &mut State,
    mem: &dyn UserMemory,
    name_addr: u64,
    image: u64,
) -> Result<u64, Errno> {
    let name = get_mod_name(mem, name_addr)?;
    let idx = st.find(sh, &name).ok_or(Errno::ENOENT)?;
    // 2.4 re-ran init_module over a module whose code was running (its
    // init, or a timer); overwriting code that runs is not safe.
    if st.modules[idx].busy || st.modules[idx].pins > 0 {
        return Err(Errno::EBUSY);
    }
    let (base, reserved, id) = {
        let m = &st.modules[idx];
        (m.addr(), m.reserved, m.id)
    };

    let mut word = [0u8; 8];
    mem.read(image, &mut word).map_err(|_| Errno::EFAULT)?;
    let sos = u64::from_le_bytes(word);
    if !(MIN_SIZE_OF_STRUCT..=MAX_SIZE_OF_STRUCT).contains(&sos) {
        sh.printk(KERN_ERR, "init_module: Invalid module header size.");
        sh.printk(KERN_ERR, "A new version of the modutils is likely needed.");
        return Err(Errno::EINVAL);
    }
    let mut img = vec![0u8; sos as usize];
    mem.read(image, &mut img).map_err(|_| Errno::EFAULT)?;
    let mut h = ModuleHeader::decode(&img);
    // 2.4 re-read size_of_struct here; a caller racing that read could make
    // the checks and the copy disagree. We keep the value first read.
    h.size_of_struct = sos;

    check_header(sh, &h, base, reserved, name.len() as u64)?;

    // Row 20-21: the name, re-read from the caller's buffer.
    let image_name = image.wrapping_add(h.name - base);
    let reread = get_mod_name(mem, image_name).inspect_err(|_| {
        sh.printk(KERN_ERR, "init_module: get_mod_name failure.");
    })?;
    if reread != name {
        return Err(refuse(
            sh,
            &format!(
                "changed module name to `{}' from `{}'",
                String::from_utf8_lossy(&reread),
                String::from_utf8_lossy(&name)
            ),
        ));
    }

    // Row 22: the rest of the image.
    img.resize(h.size as usize, 0);
    let rest = image.checked_add(sos).ok_or(Errno::EFAULT)?;
    mem.read(rest, &mut img[sos as usize..])
        .map_err(|_| Errno::EFAULT)?;

    // Row 24: every dependency is another module in the list.
    let dep_ids = resolve_deps(sh, st, base, &h, |at| {
        let at = (at - base) as usize;
        ModuleRef::decode(img[at..at + 24].try_into().expect("24 bytes"))
    })?;

    // umod's loader describes the image's segments (archdata): W^X. An
    // image without the table runs where it lies, read-write-execute, as
    // 2.4 ran it.
    let mapping = wx::mapping_of(&img, &h, base).map_err(|why| refuse(sh, &why))?;

    // Its symbol table (kallsyms), read into host memory now.
    let symbols = kallsyms::of_image(&h, base, |at, len| {
        let at = (at - base) as usize;
        img[at..at + len].to_vec()
    })
    .map_err(|e| refuse(sh, &e.to_string()))?;

    // Every check passed; the system may refuse only for want of memory,
    // and does so before anything changes.
    let flat = |sh: &Shared, st: &mut State| {
        let m = &mut st.modules[idx];
        m.wx = false;
        sh.window
            .protect(&m.block, base, m.block.size(), Protection::ReadWriteExec)
            .map_err(|_| Errno::ENOMEM)
    };
    match mapping {
        wx::Mapping::Flat => {
            flat(sh, st)?;
            commit(sh, st, idx, &h, Some(&img), dep_ids, symbols.clone());
        }
        // The host writes through its own view: protect, then write.
        wx::Mapping::Segments(segments) if sh.window.mapping().has_host_view() => {
            wx::protect(sh, st, idx, &segments)?;
            commit(sh, st, idx, &h, Some(&img), dep_ids, symbols.clone());
        }
        // A window mapped once is written through the module view: write
        // into a writable block, then protect; a block that cannot be
        // protected stays as 2.4 would have it.
        wx::Mapping::Segments(segments) => {
            flat(sh, st)?;
            commit(sh, st, idx, &h, Some(&img), dep_ids, symbols.clone());
            if wx::protect(sh, st, idx, &segments).is_err() {
                st.modules[idx].wx = false;
            }
        }
    }
    crate::debug::loaded(sh, st, idx, &[]);
    Ok(id)
}

/// The one-shot path's `prepare`: the host built the image in the block
/// itself, so the same checks read it there and nothing is copied.
pub(crate) fn prepare_in_place(sh: &Shared, st: &mut State, idx: usize) -> Result<u64, Errno> {
    let m = &st.modules[idx];
    let (base, reserved, id) = (m.addr(), m.reserved, m.id);
    let name = m.name.clone();
    let w = sh.window.mapping();
    let mut raw = [0u8; MODULE_HEADER_SIZE];
    w.read(base, &mut raw);
    let h = ModuleHeader::decode(&raw);
    if !(MIN_SIZE_OF_STRUCT..=MAX_SIZE_OF_STRUCT).contains(&h.size_of_struct) {
        return Err(refuse(sh, "Invalid module header size."));
    }
    check_header(sh, &h, base, reserved, name.len() as u64)?;
    let mut stored = vec![0u8; name.len() + 1];
    if !st.modules[idx].block.contains(h.name, stored.len() as u64) {
        return Err(refuse(sh, "mod->name out of bounds."));
    }
    w.read(h.name, &mut stored);
    if stored[..name.len()] != name[..] || stored[name.len()] != 0 {
        return Err(refuse(sh, "changed module name."));
    }
    let dep_ids = resolve_deps(sh, st, base, &h, |at| {
        let mut r = [0u8; 24];
        w.read(at, &mut r);
        ModuleRef::decode(&r)
    })?;
    let symbols = kallsyms::of_image(&h, base, |at, len| {
        let mut bytes = vec![0u8; len];
        w.read(at, &mut bytes);
        bytes
    })
    .map_err(|e| refuse(sh, &e.to_string()))?;
    commit(sh, st, idx, &h, None, dep_ids, symbols);
    Ok(id)
}

/// Row 24: each `deps[i].dep` must be another module of the list; their ids.
fn resolve_deps(
    sh: &Shared,
    st: &State,
    base: u64,
    h: &ModuleHeader,
    read_ref: impl Fn(u64) -> ModuleRef,
) -> Result<Vec<u64>, Errno> {
    let mut ids = Vec::with_capacity(h.ndeps as usize);
    for i in 0..u64::from(h.ndeps) {
        let r = read_ref(h.deps + 24 * i);
        if r.dep == base {
            return Err(refuse(sh, "self-referential dependency in mod->deps."));
        }
        let Some(j) = st.index_of_addr(r.dep) else {
            return Err(refuse(
                sh,
                "found dependency that is (no longer?) a module.",
            ));
        };
        ids.push(st.modules[j].id);
    }
    Ok(ids)
}

/// Rows 8-19: bounds and sanity of the caller's header.
fn check_header(
    sh: &Shared,
    h: &ModuleHeader,
    base: u64,
    reserved: u64,
    namelen: u64,
) -> Result<(), Errno> {
    let sos = h.size_of_struct;
    if h.size > reserved {
        return Err(refuse(
            sh,
            "Size of initialized module exceeds size of created module.",
        ));
    }
    let bound = |p: u64, n: u64| mod_bound(p, n, base, sos, h.size);
    if !bound(h.name, namelen) {
        return Err(refuse(sh, "mod->name out of bounds."));
    }
    if h.nsyms != 0 && !bound(h.syms, 16 * u64::from(h.nsyms)) {
        return Err(refuse(sh, "mod->syms out of bounds."));
    }
    if h.ndeps != 0 && !bound(h.deps, 24 * u64::from(h.ndeps)) {
        return Err(refuse(sh, "mod->deps out of bounds."));
    }
    if h.init != 0 && !bound(h.init, 0) {
        return Err(refuse(sh, "mod->init out of bounds."));
    }
    if h.cleanup != 0 && !bound(h.cleanup, 0) {
        return Err(refuse(sh, "mod->cleanup out of bounds."));
    }
    let (start, end) = (h.ex_table_start, h.ex_table_end);
    if start > end
        || (start != 0 && !(start >= base + sos && end < base + h.size))
        || start.wrapping_sub(end) % EX_ENTRY != 0
    {
        return Err(refuse(sh, "mod->ex_table_* invalid."));
    }
    if h.flags & !MOD_AUTOCLEAN != 0 {
        return Err(refuse(sh, "mod->flags invalid."));
    }
    if h.has_can_unload() && h.can_unload != 0 && !bound(h.can_unload, 0) {
        return Err(refuse(sh, "mod->can_unload out of bounds."));
    }
    let ranges = [
        (
            h.has_kallsyms(),
            h.kallsyms_start,
            h.kallsyms_end,
            "kallsyms",
        ),
        (
            h.has_archdata(),
            h.archdata_start,
            h.archdata_end,
            "archdata",
        ),
    ];
    for (present, start, end, what) in ranges {
        if !present {
            continue;
        }
        if end != 0 && (!bound(start, 0) || !bound(end, 0)) {
            return Err(refuse(sh, &format!("mod->{what} out of bounds.")));
        }
        if start > end {
            return Err(refuse(sh, &format!("mod->{what} invalid.")));
        }
    }
    if h.has_kernel_data() && h.kernel_data != 0 {
        return Err(refuse(sh, "mod->kernel_data must be zero."));
    }
    Ok(())
}

/// Copies the image in (unless it is already there) and links its
/// dependencies (§3.1).
fn commit(
    sh: &Shared,
    st: &mut State,
    idx: usize,
    h: &ModuleHeader,
    img: Option<&[u8]>,
    dep_ids: Vec<u64>,
    symbols: Option<std::sync::Arc<kallsyms::Symbols>>,
) {
    // Re-initialising an entry: 2.4 left its old module_refs linked into
    // other modules' lists while overwriting them. We unlink them first.
    super::delete::unlink_deps(sh, st, idx, false);

    let m = &mut st.modules[idx];
    if let Some(img) = img {
        sh.window.mapping().write(m.addr(), img);
    }
    m.image = ImageFacts {
        sos: h.size_of_struct,
        size: h.size,
        nsyms: h.nsyms,
        syms: h.syms,
        ndeps: h.ndeps,
        deps: h.deps,
        init: h.init,
        cleanup: h.cleanup,
    };
    m.kallsyms = symbols;
    // 2.4 also reset this entry's own refs to NULL, which unpinned it while
    // its users still called into it. Its users keep it pinned here.
    let id = m.id;
    m.deps = dep_ids.clone();
    for (i, dep) in dep_ids.iter().enumerate() {
        let j = st.index_of_id(*dep).expect("checked above");
        st.modules[j].refs.insert(0, (id, i as u32));
        sh.or_flags(&st.modules[j], MOD_USED_ONCE);
        sh.sync_refs(st, j);
    }
    // The image's own `next` and `refs` are overwritten with the list's.
    sh.sync_refs(st, idx);
    sh.write_next(st, idx);
    index_exports(sh, st, idx);
}

/// Indexes the entry's exports by name (after forgetting what an earlier
/// image of the same entry exported).
fn index_exports(sh: &Shared, st: &mut State, idx: usize) {
    let old = std::mem::take(&mut st.modules[idx].sym_keys);
    let slot = u32::try_from(idx).expect("fewer modules than 2^32");
    st.symbols.remove(slot, &old);
    let m = &st.modules[idx];
    let table: Vec<(u32, Vec<u8>, u64)> = (0..m.image.nsyms)
        .filter_map(|i| sh.module_symbol(m, i).map(|(value, name)| (i, name, value)))
        .collect();
    let keys = st
        .symbols
        .add(slot, table.iter().map(|(i, n, v)| (*i, n.as_slice(), *v)));
    st.modules[idx].sym_keys = keys;
}

/// §3.2: runs `init` with usecount 1 and INITIALIZING, the big lock
/// released meanwhile (the entry is busy).
pub(crate) fn run_init(sh: &Shared, st: &mut StateGuard<'_>, id: u64) -> Result<(), Errno> {
    let idx = st.index_of_id(id).expect("entry is locked in place");
    let m = &st.modules[idx];
    let init = m.image.init;
    sh.set_usecount(m, 1);
    sh.or_flags(m, MOD_INITIALIZING);
    if init != 0 {
        // An init that faults, or that the watchdog stops, fails like one
        // that returns an error: the entry stays, uninitialized, and can be
        // deleted.
        let r = match pin::run(sh, st, id, Hold::Busy, "init", init, [0; 6]) {
            Ok(r) => r,
            Err(f) if f.is_lockup() => Errno::ETIME.as_negative() as i32,
            Err(_) => Errno::EFAULT.as_negative() as i32,
        };
        let idx = st.index_of_id(id).expect("a busy entry stays listed");
        let m = &st.modules[idx];
        if r != 0 {
            sh.set_usecount(m, 0);
            sh.clear_flags(m, MOD_INITIALIZING);
            // What the failed init registered goes with it.
            sh.kernel
                .forget_module(m.id, &m.name, m.addr(), m.addr() + m.block.size());
            return Err(init_errno(r));
        }
    }
    let m = &st.modules[st.index_of_id(id).expect("a busy entry stays listed")];
    sh.add_usecount(m, -1);
    sh.or_flags(m, MOD_RUNNING);
    sh.clear_flags(m, MOD_INITIALIZING);
    Ok(())
}

/// The errno for a failed `init`: `-r` for a negative result, `EBUSY` for
/// a positive one ("buggy module"). A negative result outside the errno
/// band (below -4095) would not even read as an error in user space; we
/// report it as `EINVAL`.
fn init_errno(r: i32) -> Errno {
    if r > 0 {
        Errno::EBUSY
    } else if r >= -4095 {
        Errno(-r)
    } else {
        Errno::EINVAL
    }
}
