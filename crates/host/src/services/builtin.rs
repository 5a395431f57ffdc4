//! The functions and data every host exports to modules from the start.
//!
//! Functions are the C library's where the kernel's had the same contract
//! (`memcpy`, `strlen`, `sprintf`...; `kmalloc(size, flags)` is `malloc`),
//! and our own where the kernel's differs (`printk`, `simple_strtol`);
//! every one is a C entry point in `services.c`.

/// The C entry points, declared with no signature: only their addresses
/// are taken.
macro_rules! entry_points {
    ($($name:ident),* $(,)?) => {
        extern "C" {
            $(fn $name();)*
        }
    };
}

entry_points!(
    umod_kmalloc,
    umod_kfree,
    umod_vmalloc,
    umod_vfree,
    umod_memcpy,
    umod_memmove,
    umod_memset,
    umod_memcmp,
    umod_strlen,
    umod_strnlen,
    umod_strcmp,
    umod_strncmp,
    umod_strcpy,
    umod_strncpy,
    umod_strcat,
    umod_strncat,
    umod_strchr,
    umod_strrchr,
    umod_strstr,
    umod_sprintf,
    umod_snprintf,
);

use std::ffi::{c_char, c_int, c_long, c_uint, c_ulong, c_void};

extern "C" {
    fn umod_printk(fmt: *const c_char, ...) -> c_int;
    fn umod_simple_strtol(cp: *const c_char, endp: *mut *mut c_char, base: c_uint) -> c_long;
    fn umod_simple_strtoul(cp: *const c_char, endp: *mut *mut c_char, base: c_uint) -> c_ulong;
    fn umod_init_timer(t: *mut c_void);
    fn umod_add_timer(t: *mut c_void);
    fn umod_del_timer(t: *mut c_void) -> c_int;
    fn umod_del_timer_sync(t: *mut c_void) -> c_int;
    fn umod_mod_timer(t: *mut c_void, expires: c_ulong) -> c_int;
    fn umod_timer_pending(t: *const c_void) -> c_int;
    fn umod_create_proc_read_entry(
        name: *const c_char,
        mode: c_uint,
        base: *mut c_void,
        read_proc: *mut c_void,
        data: *mut c_void,
    ) -> *mut c_void;
    fn umod_remove_proc_entry(name: *const c_char, parent: *mut c_void);
    fn umod_create_proc_entry(
        name: *const c_char,
        mode: c_uint,
        parent: *mut c_void,
    ) -> *mut c_void;
}

// The compiler's run-time routines for 128-bit integers and their float
// conversions: code built by gcc or rustc calls them by these names (as
// 2.4's x86 modules called libgcc's `__udivdi3`, which 2.4 linked into
// the kernel). The host's own copies, from the compiler's runtime.
entry_points!(
    __udivti3,
    __umodti3,
    __divti3,
    __modti3,
    __muloti4,
    __floattidf,
    __floattisf,
    __floatuntidf,
    __floatuntisf,
    __fixdfti,
    __fixsfti,
    __fixunsdfti,
    __fixunssfti,
);

/// Exported kernel functions: (name, address of the implementation).
/// Each service is a C entry point that starts with a preemption point
/// (see `exec/guard.c`), so the watchdog can stop module code that spends
/// its time in them; the compiler's routines end there, being short.
pub fn functions() -> Vec<(&'static str, usize)> {
    let mut all = builtin_functions();
    all.extend(super::irqflags::functions());
    all.extend(super::softirq::functions());
    all.extend(super::tqueue::functions());
    all.extend(super::irq::functions());
    all
}

fn builtin_functions() -> Vec<(&'static str, usize)> {
    vec![
        ("printk", umod_printk as *const () as usize),
        ("kmalloc", umod_kmalloc as *const () as usize),
        ("kfree", umod_kfree as *const () as usize),
        ("vmalloc", umod_vmalloc as *const () as usize),
        ("vfree", umod_vfree as *const () as usize),
        ("memcpy", umod_memcpy as *const () as usize),
        ("memmove", umod_memmove as *const () as usize),
        ("memset", umod_memset as *const () as usize),
        ("memcmp", umod_memcmp as *const () as usize),
        // What rustc calls to compare bytes for equality; memcmp answers it.
        ("bcmp", umod_memcmp as *const () as usize),
        ("strlen", umod_strlen as *const () as usize),
        ("strnlen", umod_strnlen as *const () as usize),
        ("strcmp", umod_strcmp as *const () as usize),
        ("strncmp", umod_strncmp as *const () as usize),
        ("strcpy", umod_strcpy as *const () as usize),
        ("strncpy", umod_strncpy as *const () as usize),
        ("strcat", umod_strcat as *const () as usize),
        ("strncat", umod_strncat as *const () as usize),
        ("strchr", umod_strchr as *const () as usize),
        ("strrchr", umod_strrchr as *const () as usize),
        ("strstr", umod_strstr as *const () as usize),
        ("sprintf", umod_sprintf as *const () as usize),
        ("snprintf", umod_snprintf as *const () as usize),
        ("simple_strtol", umod_simple_strtol as *const () as usize),
        ("simple_strtoul", umod_simple_strtoul as *const () as usize),
        ("init_timer", umod_init_timer as *const () as usize),
        ("add_timer", umod_add_timer as *const () as usize),
        ("del_timer", umod_del_timer as *const () as usize),
        ("del_timer_sync", umod_del_timer_sync as *const () as usize),
        ("mod_timer", umod_mod_timer as *const () as usize),
        ("timer_pending", umod_timer_pending as *const () as usize),
        (
            "create_proc_read_entry",
            umod_create_proc_read_entry as *const () as usize,
        ),
        (
            "create_proc_entry",
            umod_create_proc_entry as *const () as usize,
        ),
        (
            "remove_proc_entry",
            umod_remove_proc_entry as *const () as usize,
        ),
        // The 2.4 API's services, each subsystem in its own file.
    ]
    .into_iter()
    .chain(super::memory::functions())
    .chain(super::time::functions())
    .chain(super::resource::functions())
    .chain(super::io::functions())
    .chain(super::spinlock::functions())
    .chain(super::strings::functions())
    .chain([
        // Pure computation, short: no preemption point needed.
        ("__udivti3", __udivti3 as *const () as usize),
        ("__umodti3", __umodti3 as *const () as usize),
        ("__divti3", __divti3 as *const () as usize),
        ("__modti3", __modti3 as *const () as usize),
        ("__muloti4", __muloti4 as *const () as usize),
        ("__floattidf", __floattidf as *const () as usize),
        ("__floattisf", __floattisf as *const () as usize),
        ("__floatuntidf", __floatuntidf as *const () as usize),
        ("__floatuntisf", __floatuntisf as *const () as usize),
        ("__fixdfti", __fixdfti as *const () as usize),
        ("__fixsfti", __fixsfti as *const () as usize),
        ("__fixunsdfti", __fixunsdfti as *const () as usize),
        ("__fixunssfti", __fixunssfti as *const () as usize),
    ])
    .chain(super::sched::functions())
    .chain(super::uaccess::functions())
    .chain(super::chrdev::functions())
    .collect()
}

/// Name of the exported tick counter, an `unsigned long` in the window.
pub const JIFFIES: &str = "jiffies";
