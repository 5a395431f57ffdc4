//! The functions and data every host exports to modules from the start.
//!
//! Functions are the C library's where the kernel's had the same contract
//! (`memcpy`, `strlen`, `sprintf`...; `kmalloc(size, flags)` is `malloc`,
//! which ignores the second argument register), and our own where the
//! kernel's differs (`printk`, `simple_strtol`).

use std::ffi::{c_char, c_int, c_long, c_uint, c_ulong, c_void};

extern "C" {
    fn umod_printk(fmt: *const c_char, ...) -> c_int;
    fn umod_simple_strtol(cp: *const c_char, endp: *mut *mut c_char, base: c_uint) -> c_long;
    fn umod_simple_strtoul(cp: *const c_char, endp: *mut *mut c_char, base: c_uint) -> c_ulong;
    fn umod_init_timer(t: *mut c_void);
    fn umod_add_timer(t: *mut c_void);
    fn umod_del_timer(t: *mut c_void) -> c_int;
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
}

/// Exported kernel functions: (name, address of the implementation).
pub fn functions() -> Vec<(&'static str, usize)> {
    vec![
        ("printk", umod_printk as *const () as usize),
        ("kmalloc", libc::malloc as *const () as usize),
        ("kfree", libc::free as *const () as usize),
        ("vmalloc", libc::malloc as *const () as usize),
        ("vfree", libc::free as *const () as usize),
        ("memcpy", libc::memcpy as *const () as usize),
        ("memmove", libc::memmove as *const () as usize),
        ("memset", libc::memset as *const () as usize),
        ("memcmp", libc::memcmp as *const () as usize),
        ("strlen", libc::strlen as *const () as usize),
        ("strnlen", libc::strnlen as *const () as usize),
        ("strcmp", libc::strcmp as *const () as usize),
        ("strncmp", libc::strncmp as *const () as usize),
        ("strcpy", libc::strcpy as *const () as usize),
        ("strncpy", libc::strncpy as *const () as usize),
        ("strcat", libc::strcat as *const () as usize),
        ("strncat", libc::strncat as *const () as usize),
        ("strchr", libc::strchr as *const () as usize),
        ("strrchr", libc::strrchr as *const () as usize),
        ("strstr", libc::strstr as *const () as usize),
        ("sprintf", libc::sprintf as *const () as usize),
        ("snprintf", libc::snprintf as *const () as usize),
        ("simple_strtol", umod_simple_strtol as *const () as usize),
        ("simple_strtoul", umod_simple_strtoul as *const () as usize),
        ("init_timer", umod_init_timer as *const () as usize),
        ("add_timer", umod_add_timer as *const () as usize),
        ("del_timer", umod_del_timer as *const () as usize),
        ("mod_timer", umod_mod_timer as *const () as usize),
        ("timer_pending", umod_timer_pending as *const () as usize),
        (
            "create_proc_read_entry",
            umod_create_proc_read_entry as *const () as usize,
        ),
        (
            "remove_proc_entry",
            umod_remove_proc_entry as *const () as usize,
        ),
    ]
}

/// Name of the exported tick counter, an `unsigned long` in the window.
pub const JIFFIES: &str = "jiffies";
