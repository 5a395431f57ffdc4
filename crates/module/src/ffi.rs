//! The host's exports, as the kit's C headers declare them. Everything
//! here is `unsafe` to call; the rest of the crate wraps it.

use core::ffi::{c_char, c_int, c_uint, c_ulong, c_void};

/// `struct list_head`.
#[repr(C)]
#[derive(Debug)]
pub struct ListHead {
    /// Next entry.
    pub next: *mut ListHead,
    /// Previous entry.
    pub prev: *mut ListHead,
}

/// `struct timer_list`.
#[repr(C)]
#[derive(Debug)]
pub struct TimerList {
    /// Owned by the host while the timer is pending.
    pub list: ListHead,
    /// When it fires, in jiffies.
    pub expires: c_ulong,
    /// Passed to `function`.
    pub data: c_ulong,
    /// What runs when it fires.
    pub function: Option<unsafe extern "C" fn(c_ulong)>,
}

/// `read_proc_t`.
pub type ReadProc = unsafe extern "C" fn(
    page: *mut c_char,
    start: *mut *mut c_char,
    off: c_ulong,
    count: c_int,
    eof: *mut c_int,
    data: *mut c_void,
) -> c_int;

/// `struct proc_dir_entry` (2.4.22's 144-byte x86_64 layout).
#[repr(C)]
#[derive(Debug)]
pub struct ProcDirEntry {
    /// Inode number.
    pub low_ino: u16,
    /// Length of `name`.
    pub namelen: u16,
    /// The entry's name.
    pub name: *const c_char,
    /// Mode bits.
    pub mode: c_uint,
    /// Links.
    pub nlink: c_ulong,
    /// Owner.
    pub uid: c_uint,
    /// Group.
    pub gid: c_uint,
    /// Size shown.
    pub size: c_ulong,
    /// Inode operations (unused by umod).
    pub proc_iops: *mut c_void,
    /// File operations replacing the generic /proc ones.
    pub proc_fops: *mut c_void,
    /// The old net-style reader.
    pub get_info: *mut c_void,
    /// The owning module (its use count is held during reads).
    pub owner: *mut c_void,
    /// Next entry in the directory.
    pub next: *mut ProcDirEntry,
    /// Parent directory.
    pub parent: *mut ProcDirEntry,
    /// First child (directories).
    pub subdir: *mut ProcDirEntry,
    /// Passed to `read_proc` and `write_proc`.
    pub data: *mut c_void,
    /// The read function.
    pub read_proc: Option<ReadProc>,
    /// The write function.
    pub write_proc: Option<WriteProc>,
    /// Inodes referring to it.
    pub count: c_int,
    /// Set when removed while in use.
    pub deleted: c_int,
    /// Device number (proc_mknod).
    pub rdev: u16,
}

const _: () = assert!(core::mem::size_of::<ProcDirEntry>() == 144);

/// `write_proc_t`: `(file, user buffer, count, data)`.
pub type WriteProc = unsafe extern "C" fn(
    file: *mut c_void,
    buffer: *const c_char,
    count: c_ulong,
    data: *mut c_void,
) -> c_int;

/// `GFP_KERNEL`.
pub const GFP_KERNEL: c_uint = 0xf0;

extern "C" {
    /// `printk(fmt, ...)`.
    pub fn printk(fmt: *const c_char, ...) -> c_int;
    /// `kmalloc(size, flags)`: at least 16-byte aligned.
    pub fn kmalloc(size: usize, flags: c_uint) -> *mut c_void;
    /// `kfree(p)`.
    pub fn kfree(p: *const c_void);
    /// `init_timer(t)`.
    pub fn init_timer(t: *mut TimerList);
    /// `add_timer(t)`.
    pub fn add_timer(t: *mut TimerList);
    /// `del_timer(t)`: 1 if it was pending.
    pub fn del_timer(t: *mut TimerList) -> c_int;
    /// `del_timer_sync(t)`: `del_timer`, then waits for its function if
    /// it runs elsewhere.
    pub fn del_timer_sync(t: *mut TimerList) -> c_int;
    /// `mod_timer(t, expires)`.
    pub fn mod_timer(t: *mut TimerList, expires: c_ulong) -> c_int;
    /// `create_proc_read_entry(name, mode, base, read_proc, data)`.
    pub fn create_proc_read_entry(
        name: *const c_char,
        mode: c_uint,
        base: *mut ProcDirEntry,
        read_proc: ReadProc,
        data: *mut c_void,
    ) -> *mut ProcDirEntry;
    /// `remove_proc_entry(name, parent)`.
    pub fn remove_proc_entry(name: *const c_char, parent: *mut ProcDirEntry);
    /// The tick counter, `HZ` a second.
    pub static jiffies: c_ulong;
}
