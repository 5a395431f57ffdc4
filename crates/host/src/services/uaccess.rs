//! Where a module's "user pointers" lead (`uaccess.c` does the copying).
//!
//! While the host serves a program's request, module code on this thread
//! sees a [`UserSpace`]: the request's own buffers at the addresses the
//! module was handed (a read's destination, a write's data, an ioctl
//! argument's bytes at the program's own address), and behind them the
//! calling program's memory, reached with `process_vm_readv`/`writev`.
//! Outside any request there is no user memory: every copy faults, as a
//! kernel thread's would.

use std::cell::RefCell;

/// The user memory module code on this thread may reach.
#[derive(Clone, Debug, Default)]
pub struct UserSpace {
    /// (user address, length, host address) of the request's buffers.
    ranges: Vec<(u64, u64, u64)>,
    /// The program whose memory lies behind them.
    pid: Option<i32>,
}

impl UserSpace {
    /// No user memory, or the memory of process `pid`.
    pub fn of_process(pid: Option<i32>) -> UserSpace {
        UserSpace {
            ranges: Vec::new(),
            pid,
        }
    }

    /// Adds a buffer of the request: module code reaching user addresses
    /// `user..user + len` reaches `buf` instead.
    pub fn with_buffer(mut self, user: u64, buf: &mut [u8]) -> UserSpace {
        self.ranges
            .push((user, buf.len() as u64, buf.as_mut_ptr() as u64));
        self
    }
}

thread_local! {
    static SPACES: RefCell<Vec<UserSpace>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with `space` as the user memory of module code on this
/// thread. The buffers it names must outlive the call (they are borrowed
/// by the caller for its duration).
pub(crate) fn with_user<R>(space: UserSpace, f: impl FnOnce() -> R) -> R {
    struct Pop;
    impl Drop for Pop {
        fn drop(&mut self) {
            SPACES.with(|s| s.borrow_mut().pop());
        }
    }
    SPACES.with(|s| s.borrow_mut().push(space));
    let _pop = Pop;
    f()
}

/// How many bytes from `uaddr` on lie in one of the request's buffers;
/// `*host` gets their host address.
///
/// # Safety
/// `host` is writable.
#[no_mangle]
pub unsafe extern "C" fn umod_user_range(uaddr: u64, n: u64, host: *mut u64) -> u64 {
    SPACES.with(|s| {
        let s = s.borrow();
        let Some(space) = s.last() else { return 0 };
        for &(start, len, at) in &space.ranges {
            if uaddr >= start && uaddr - start < len {
                let off = uaddr - start;
                // SAFETY: guaranteed by the caller (uaccess.c's local).
                unsafe { *host = at + off };
                return n.min(len - off);
            }
        }
        0
    })
}

/// Copies `n` bytes between `kbuf` and the calling program's memory at
/// `uaddr`; returns how many were copied (0 without a program).
///
/// # Safety
/// `kbuf` is `n` bytes of the module's memory (a bad one makes the
/// system call fail, not the host).
#[no_mangle]
pub unsafe extern "C" fn umod_user_process_copy(
    to_user: i32,
    uaddr: u64,
    kbuf: *mut u8,
    n: u64,
) -> u64 {
    let Some(pid) = SPACES.with(|s| s.borrow().last().and_then(|s| s.pid)) else {
        return 0;
    };
    let local = libc::iovec {
        iov_base: kbuf.cast(),
        iov_len: n as usize,
    };
    let remote = libc::iovec {
        iov_base: uaddr as *mut libc::c_void,
        iov_len: n as usize,
    };
    // SAFETY: both vectors describe the ranges given; the kernel checks
    // them and reports a fault as a short count or an error.
    let done = unsafe {
        match to_user {
            0 => libc::process_vm_readv(pid, &local, 1, &remote, 1, 0),
            _ => libc::process_vm_writev(pid, &local, 1, &remote, 1, 0),
        }
    };
    done.max(0) as u64
}

/// Exported functions of `uaccess.c`.
pub fn functions() -> Vec<(&'static str, usize)> {
    extern "C" {
        fn umod_copy_to_user();
        fn umod_copy_from_user();
        fn umod_get_user();
        fn umod_put_user();
        fn umod_strncpy_from_user();
        fn umod_strnlen_user();
        fn umod_clear_user();
    }
    vec![
        ("copy_to_user", umod_copy_to_user as *const () as usize),
        ("copy_from_user", umod_copy_from_user as *const () as usize),
        ("__umod_get_user", umod_get_user as *const () as usize),
        ("__umod_put_user", umod_put_user as *const () as usize),
        (
            "strncpy_from_user",
            umod_strncpy_from_user as *const () as usize,
        ),
        ("strnlen_user", umod_strnlen_user as *const () as usize),
        ("clear_user", umod_clear_user as *const () as usize),
    ]
}
