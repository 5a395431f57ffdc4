//! gdb's JIT interface: the two symbols gdb looks for in the program
//! (`__jit_debug_descriptor`, `__jit_debug_register_code`, with these
//! exact names and layout), and the list of in-memory object files they
//! describe. gdb sets a breakpoint in `__jit_debug_register_code`; the
//! program links or unlinks an entry, says which in the descriptor and
//! calls the function; gdb then reads the entry's object file out of the
//! process. A gdb that attaches later walks the list from
//! `first_entry`. (GDB manual, "JIT Compilation Interface".)
//!
//! The descriptor is process-global, shared by every host of the process;
//! one lock orders all changes to it. This is the one place that touches
//! it, hence the `unsafe` here.

use std::ptr::null_mut;
use std::sync::Mutex;

const JIT_NOACTION: u32 = 0;
const JIT_REGISTER_FN: u32 = 1;
const JIT_UNREGISTER_FN: u32 = 2;

/// `struct jit_code_entry`.
#[repr(C)]
struct CodeEntry {
    next: *mut CodeEntry,
    prev: *mut CodeEntry,
    symfile_addr: *const u8,
    symfile_size: u64,
}

/// `struct jit_descriptor`.
#[repr(C)]
pub struct JitDescriptor {
    version: u32,
    action_flag: u32,
    relevant_entry: *mut CodeEntry,
    first_entry: *mut CodeEntry,
}

/// What gdb reads. Only changed under [`LOCK`].
#[no_mangle]
#[allow(non_upper_case_globals)]
pub static mut __jit_debug_descriptor: JitDescriptor = JitDescriptor {
    version: 1,
    action_flag: JIT_NOACTION,
    relevant_entry: null_mut(),
    first_entry: null_mut(),
};

/// Where gdb's breakpoint is: called after each change. Never inlined,
/// and opaque to the optimizer, so the call stays.
#[no_mangle]
#[inline(never)]
pub extern "C" fn __jit_debug_register_code() {
    std::hint::black_box(());
}

static LOCK: Mutex<()> = Mutex::new(());

/// An object file registered with the debugger; dropping it unregisters
/// it.
pub(crate) struct Registration {
    entry: *mut CodeEntry,
    /// The object file the entry points to.
    image: Box<[u8]>,
}

// SAFETY: the entry is owned by this registration (allocated in
// `register`, freed in `drop`), and the list it is linked into is only
// changed under LOCK; nothing else dereferences it in this process.
unsafe impl Send for Registration {}
// SAFETY: as for Send; `&Registration` gives no access to the entry.
unsafe impl Sync for Registration {}

impl std::fmt::Debug for Registration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Registration({} bytes)", self.image.len())
    }
}

impl Registration {
    /// Registers the object file `image` with the debugger.
    pub(crate) fn register(image: Vec<u8>) -> Registration {
        let image = image.into_boxed_slice();
        let entry = Box::into_raw(Box::new(CodeEntry {
            next: null_mut(),
            prev: null_mut(),
            symfile_addr: image.as_ptr(),
            symfile_size: image.len() as u64,
        }));
        let _held = LOCK.lock().unwrap_or_else(|e| e.into_inner());
        // SAFETY: the descriptor and every entry linked into it are only
        // changed under LOCK, held here; `entry` is a live allocation
        // this registration owns, and the linked entries are owned by
        // live registrations (each unlinks itself before it is freed).
        unsafe {
            let d = &raw mut __jit_debug_descriptor;
            let first = (*d).first_entry;
            (*entry).next = first;
            if !first.is_null() {
                (*first).prev = entry;
            }
            (*d).first_entry = entry;
            (*d).relevant_entry = entry;
            (*d).action_flag = JIT_REGISTER_FN;
        }
        __jit_debug_register_code();
        Registration { entry, image }
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let _held = LOCK.lock().unwrap_or_else(|e| e.into_inner());
        // SAFETY: as in `register`: under LOCK, `self.entry` is linked
        // and live, and so are its neighbours; after unlinking it nothing
        // points to it, and it is freed once, here.
        unsafe {
            let d = &raw mut __jit_debug_descriptor;
            let e = self.entry;
            if (*e).prev.is_null() {
                (*d).first_entry = (*e).next;
            } else {
                (*(*e).prev).next = (*e).next;
            }
            if !(*e).next.is_null() {
                (*(*e).next).prev = (*e).prev;
            }
            (*d).relevant_entry = e;
            (*d).action_flag = JIT_UNREGISTER_FN;
            __jit_debug_register_code();
            (*d).relevant_entry = null_mut();
            (*d).action_flag = JIT_NOACTION;
            drop(Box::from_raw(e));
        }
    }
}
