//! The global allocator: `kmalloc`/`kfree`, so `Box`, `Vec` and `String`
//! work in a module. `kmalloc` gives 16-byte alignment; a larger one is
//! made by allocating more and keeping the real start just before the
//! block handed out.

use core::alloc::{GlobalAlloc, Layout};
use core::ffi::c_void;

use crate::ffi::{kfree, kmalloc, GFP_KERNEL};

/// What `kmalloc` aligns to.
const KMALLOC_ALIGN: usize = 16;

/// The allocator over `kmalloc`.
#[derive(Debug)]
pub struct Kmalloc;

// SAFETY: every block comes from kmalloc with at least the layout's size
// and alignment, and is given back to kfree exactly once, at its start.
unsafe impl GlobalAlloc for Kmalloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.align() <= KMALLOC_ALIGN {
            // SAFETY: kmalloc takes any size; null means no memory.
            return unsafe { kmalloc(layout.size().max(1), GFP_KERNEL) }.cast();
        }
        let Some(size) = layout.size().checked_add(layout.align()) else {
            return core::ptr::null_mut();
        };
        // SAFETY: as above.
        let raw: *mut u8 = unsafe { kmalloc(size, GFP_KERNEL) }.cast();
        if raw.is_null() {
            return raw;
        }
        // At least one pointer's room before the aligned start: the
        // alignment is above 16, and the start advances by 1..=align.
        let offset = layout.align() - (raw as usize) % layout.align();
        // SAFETY: offset <= align, so the result and the word before it
        // lie inside the size + align bytes allocated.
        unsafe {
            let aligned = raw.add(offset);
            aligned.cast::<*mut u8>().sub(1).write_unaligned(raw);
            aligned
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let start = if layout.align() <= KMALLOC_ALIGN {
            ptr
        } else {
            // SAFETY: `alloc` stored the real start just before `ptr`.
            unsafe { ptr.cast::<*mut u8>().sub(1).read_unaligned() }
        };
        // SAFETY: `start` came from kmalloc and is freed once.
        unsafe { kfree(start.cast::<c_void>()) }
    }
}

#[cfg(not(test))]
#[global_allocator]
static ALLOCATOR: Kmalloc = Kmalloc;
