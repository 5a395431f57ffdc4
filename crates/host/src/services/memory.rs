//! Kernel memory (2.4's mm/slab.c, page_alloc.c, vmalloc.c): the C entry
//! points are in `memory.c`; this file records every allocation with the
//! host and module that made it, so that `kfree` of a pointer `kmalloc`
//! never returned is caught, and what a module leaves allocated is freed
//! when it goes (2.4 leaked it).

use std::collections::HashMap;
use std::ffi::{c_char, c_ulong, c_void};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use super::{context, Kernel, KERN_WARNING};

/// What an allocation is (the `KIND_*` of `memory.c`): kmalloc (0),
/// pages (1), vmalloc (2) or a slab cache (3).
const KMALLOC: u32 = 0;
const CACHE: u32 = 3;

/// Page size (`PAGE_SIZE`).
const PAGE: u64 = 4096;

#[derive(Clone, Copy, Debug)]
struct Alloc {
    /// The host whose module made it ([`tag`]); 0 outside module code.
    kernel: u64,
    /// The module that made it.
    owner: Option<u64>,
    kind: u32,
    size: u64,
}

/// Every live allocation, by address (addresses are unique in the
/// process, whichever host made them).
fn allocs() -> MutexGuard<'static, HashMap<u64, Alloc>> {
    static ALLOCS: OnceLock<Mutex<HashMap<u64, Alloc>>> = OnceLock::new();
    ALLOCS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner())
}

/// A host's identity in the registry: the address of its kernel state.
fn tag(kernel: &Arc<Kernel>) -> u64 {
    Arc::as_ptr(kernel) as u64
}

/// The calling host's tag, for the C side (0 outside module code).
#[no_mangle]
pub extern "C" fn umod_kernel_tag() -> u64 {
    context::current().map_or(0, |f| tag(&f.kernel))
}

/// Records an allocation made for the module running on this thread.
#[no_mangle]
pub extern "C" fn umod_mem_track(addr: u64, kind: u32, size: u64) {
    let frame = context::current();
    let alloc = Alloc {
        kernel: frame.as_ref().map_or(0, |f| tag(&f.kernel)),
        owner: frame.and_then(|f| f.module),
        kind,
        size,
    };
    allocs().insert(addr, alloc);
}

/// Forgets the allocation at `addr` of kind `kind`: its size, or −1 when
/// there is none (of that kind) there.
#[no_mangle]
pub extern "C" fn umod_mem_untrack(addr: u64, kind: u32) -> i64 {
    let mut map = allocs();
    match map.get(&addr) {
        Some(a) if a.kind == kind => {
            let size = a.size as i64;
            map.remove(&addr);
            size
        }
        _ => -1,
    }
}

/// Pages of memory in the machine (`num_physpages`; vmalloc refuses
/// more).
#[no_mangle]
pub extern "C" fn umod_mem_physpages() -> u64 {
    physpages()
}

/// The machine's memory in pages.
pub(crate) fn physpages() -> u64 {
    // SAFETY: sysconf only reads system configuration.
    let pages = unsafe { libc::sysconf(libc::_SC_PHYS_PAGES) };
    // SAFETY: as above.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    match (u64::try_from(pages), u64::try_from(size)) {
        (Ok(p), Ok(s)) if p > 0 && s > 0 => p * s / PAGE,
        _ => 1 << 18,
    }
}

extern "C" {
    fn umod_kmem_cache_forget(cache: *mut c_void, name: *mut c_char, len: usize) -> c_ulong;
}

impl Kernel {
    /// Frees what module `id` (called `name`) left allocated, and says so.
    pub(crate) fn forget_allocations(&self, id: u64, name: &str) {
        let me = self as *const Kernel as u64;
        let left: Vec<(u64, Alloc)> = {
            let mut map = allocs();
            let addrs: Vec<u64> = map
                .iter()
                .filter(|(_, a)| a.kernel == me && a.owner == Some(id))
                .map(|(&addr, _)| addr)
                .collect();
            addrs
                .into_iter()
                .filter_map(|addr| map.remove(&addr).map(|a| (addr, a)))
                .collect()
        };
        let (mut pages, mut objects, mut bytes) = (0u64, 0u64, 0u64);
        for (addr, a) in left {
            match a.kind {
                CACHE => {
                    let mut buf = [0u8; 64];
                    // SAFETY: `addr` is a cache memory.c made and nobody
                    // can reach any more (its module is gone); the buffer
                    // is ours, of the length passed.
                    let live = unsafe {
                        umod_kmem_cache_forget(
                            addr as *mut c_void,
                            buf.as_mut_ptr().cast(),
                            buf.len(),
                        )
                    };
                    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
                    self.log(
                        KERN_WARNING,
                        &format!(
                            "{name}: destroyed slab cache {} it left behind ({live} object(s) still allocated)",
                            String::from_utf8_lossy(&buf[..end])
                        ),
                    );
                }
                kind => {
                    if kind == KMALLOC {
                        objects += 1;
                        bytes += a.size;
                    } else {
                        pages += a.size.div_ceil(PAGE);
                    }
                    // SAFETY: memory.c allocated `addr` with malloc or
                    // aligned_alloc and it was not freed (it was still
                    // recorded); its module is gone.
                    unsafe { libc::free(addr as *mut c_void) };
                }
            }
        }
        if objects > 0 {
            self.log(
                KERN_WARNING,
                &format!(
                    "{name}: freed {objects} kmalloc object(s), {bytes} bytes, it left allocated"
                ),
            );
        }
        if pages > 0 {
            self.log(
                KERN_WARNING,
                &format!("{name}: freed {pages} pages it left allocated"),
            );
        }
    }
}

macro_rules! entry_points {
    ($($name:ident),* $(,)?) => {
        extern "C" {
            $(fn $name();)*
        }
    };
}

entry_points!(
    umod_get_free_pages,
    umod_get_zeroed_page,
    umod_free_pages,
    umod___vmalloc,
    umod_remap_page_range,
    umod_kmem_cache_create,
    umod_kmem_cache_alloc,
    umod_kmem_cache_free,
    umod_kmem_cache_size,
    umod_kmem_cache_shrink,
    umod_kmem_cache_destroy,
    umod_vmalloc,
);

/// The memory services' exports (kmalloc, kfree, vmalloc and vfree are
/// in the built-in list).
pub fn functions() -> Vec<(&'static str, usize)> {
    vec![
        (
            "__get_free_pages",
            umod_get_free_pages as *const () as usize,
        ),
        (
            "get_zeroed_page",
            umod_get_zeroed_page as *const () as usize,
        ),
        ("free_pages", umod_free_pages as *const () as usize),
        ("vmalloc_32", umod_vmalloc as *const () as usize),
        ("__vmalloc", umod___vmalloc as *const () as usize),
        (
            "remap_page_range",
            umod_remap_page_range as *const () as usize,
        ),
        (
            "kmem_cache_create",
            umod_kmem_cache_create as *const () as usize,
        ),
        (
            "kmem_cache_alloc",
            umod_kmem_cache_alloc as *const () as usize,
        ),
        (
            "kmem_cache_free",
            umod_kmem_cache_free as *const () as usize,
        ),
        (
            "kmem_cache_size",
            umod_kmem_cache_size as *const () as usize,
        ),
        (
            "kmem_cache_shrink",
            umod_kmem_cache_shrink as *const () as usize,
        ),
        (
            "kmem_cache_destroy",
            umod_kmem_cache_destroy as *const () as usize,
        ),
    ]
}

/// Name of the exported page count (`unsigned long num_physpages`).
pub const NUM_PHYSPAGES: &str = "num_physpages";
