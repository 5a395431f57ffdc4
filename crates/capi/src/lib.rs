//! `libumod.so`: the five 2.4 module calls for C programs, with -1/errno
//! semantics, served by the umod daemon (socket: `$UMOD_SOCKET`, else
//! `/run/umod/umod.sock`). Declarations in `include/umod.h`.
//!
//! Pointer arguments are read and written with `process_vm_readv`/`writev`
//! on the calling process itself, so a bad pointer gives `EFAULT` (exactly
//! where 2.4 gives it) instead of a crash.

use std::cell::RefCell;
use std::ffi::{c_char, c_int, c_void};

use umod_client::forward as raw;
use umod_client::protocol::CallKind;
use umod_client::{socket_path, Client};

thread_local! {
    /// One connection per thread, made on first use, with the pid that
    /// made it: a forked child must not talk over its parent's socket.
    static CLIENT: RefCell<Option<(u32, Client)>> = const { RefCell::new(None) };
}

fn set_errno(e: i32) {
    // SAFETY: __errno_location returns this thread's errno slot.
    unsafe { *libc::__errno_location() = e };
}

/// Runs `call` through the daemon; the raw result (`-errno` on failure).
fn forward(call: CallKind, args: [u64; 6]) -> i64 {
    let pid = std::process::id();
    CLIENT.with(|slot| {
        let mut slot = slot.borrow_mut();
        if slot.as_ref().is_none_or(|(owner, _)| *owner != pid) {
            match Client::connect(&socket_path(None)) {
                Ok(c) => *slot = Some((pid, c)),
                // No daemon: as if the kernel had no such call.
                Err(_) => return umod_abi::Errno::ENOSYS.as_negative(),
            }
        }
        let (_, client) = slot.as_mut().expect("connected");
        // On behalf of ourselves: the daemon takes our credentials as they
        // are now, not as they were when we connected (setuid since).
        let r =
            raw::forward(client, pid, pid, call, args, &mut || true).unwrap_or(-(libc::EIO as i64));
        if r == umod_abi::Errno::EPROTO.as_negative() {
            // The connection may be broken: reconnect next time.
            *slot = None;
        }
        r
    })
}

fn result(r: i64) -> i64 {
    match umod_abi::Errno::from_return(r) {
        Some(e) => {
            set_errno(e.0);
            -1
        }
        None => r,
    }
}

/// `caddr_t create_module(const char *name, size_t size)`.
#[no_mangle]
pub extern "C" fn create_module(name: *const c_char, size: usize) -> *mut c_void {
    result(forward(
        CallKind::Create,
        [name as u64, size as u64, 0, 0, 0, 0],
    )) as *mut c_void
}

/// `int init_module(const char *name, const struct module *image)`.
#[no_mangle]
pub extern "C" fn init_module(name: *const c_char, image: *const c_void) -> c_int {
    result(forward(
        CallKind::Init,
        [name as u64, image as u64, 0, 0, 0, 0],
    )) as c_int
}

/// `int delete_module(const char *name)`; NULL runs the autoclean sweep.
#[no_mangle]
pub extern "C" fn delete_module(name: *const c_char) -> c_int {
    result(forward(CallKind::Delete, [name as u64, 0, 0, 0, 0, 0])) as c_int
}

/// `int query_module(const char *name, int which, void *buf, size_t bufsize, size_t *ret)`.
#[no_mangle]
pub extern "C" fn query_module(
    name: *const c_char,
    which: c_int,
    buf: *mut c_void,
    bufsize: usize,
    ret: *mut usize,
) -> c_int {
    let args = [
        name as u64,
        which as u32 as u64,
        buf as u64,
        bufsize as u64,
        ret as u64,
        0,
    ];
    result(forward(CallKind::Query, args)) as c_int
}

/// `int get_kernel_syms(struct kernel_sym *table)`.
#[no_mangle]
pub extern "C" fn get_kernel_syms(table: *mut c_void) -> c_int {
    result(forward(CallKind::KernelSyms, [table as u64, 0, 0, 0, 0, 0])) as c_int
}
