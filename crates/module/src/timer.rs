//! Kernel timers. A timer's `struct timer_list` must lie in the module's
//! own memory (the host only fires timers found there), so a [`Timer`]
//! is a `static` of the module:
//!
//! ```ignore
//! static TICK: Timer = Timer::new();
//! fn tick() -> Option<u64> { pr_info!("tick"); Some(HZ) } // again in a second
//! let running = TICK.start(HZ, tick); // stops when `running` is dropped
//! ```

use core::cell::UnsafeCell;
use core::ffi::c_ulong;
use core::sync::atomic::{AtomicUsize, Ordering};

use crate::ffi::{self, ListHead, TimerList};
use crate::time::jiffies;

/// What a timer runs: `Some(ticks)` runs it again that many ticks later.
pub type Callback = fn() -> Option<u64>;

/// A timer, to be declared `static`.
#[derive(Debug)]
pub struct Timer {
    list: UnsafeCell<TimerList>,
    callback: AtomicUsize,
}

// SAFETY: the struct is handed to the host's timer calls, which serialize
// on the host's timer lock; the callback is an atomic.
unsafe impl Sync for Timer {}

impl Timer {
    /// A timer that is not running.
    pub const fn new() -> Timer {
        Timer {
            list: UnsafeCell::new(TimerList {
                list: ListHead {
                    next: core::ptr::null_mut(),
                    prev: core::ptr::null_mut(),
                },
                expires: 0,
                data: 0,
                function: None,
            }),
            callback: AtomicUsize::new(0),
        }
    }

    /// Runs `callback` `delay` ticks from now (again as long as it says
    /// so), until the returned guard is dropped. Starting a running timer
    /// moves it, as `mod_timer` did.
    pub fn start(&'static self, delay: u64, callback: Callback) -> Running {
        self.callback.store(callback as usize, Ordering::SeqCst);
        let list = self.list.get();
        // SAFETY: the struct lives in this static for the module's life;
        // the host's timer calls are the only other users, and they take
        // the host's timer lock.
        unsafe {
            (*list).data = self as *const Timer as c_ulong;
            (*list).function = Some(fire);
            ffi::mod_timer(list, jiffies().wrapping_add(delay) as c_ulong);
        }
        Running(self)
    }
}

impl Default for Timer {
    fn default() -> Self {
        Timer::new()
    }
}

/// A started timer; dropping it stops the timer and waits for its
/// function if it is running (`del_timer_sync`).
#[derive(Debug)]
pub struct Running(&'static Timer);

impl Drop for Running {
    fn drop(&mut self) {
        // SAFETY: the static's struct, as in `start`.
        unsafe {
            ffi::del_timer_sync(self.0.list.get());
        }
    }
}

/// The function every timer of this crate runs: its callback, then
/// `mod_timer` if it asks to run again.
unsafe extern "C" fn fire(data: c_ulong) {
    // SAFETY: `data` is the address of the static Timer `start` gave.
    let timer = unsafe { &*(data as *const Timer) };
    let raw = timer.callback.load(Ordering::SeqCst);
    if raw == 0 {
        return;
    }
    // SAFETY: only `start` stores it, from a `Callback`.
    let callback: Callback = unsafe { core::mem::transmute::<usize, Callback>(raw) };
    if let Some(delay) = callback() {
        // SAFETY: the static's struct, as in `start`.
        unsafe {
            ffi::mod_timer(timer.list.get(), jiffies().wrapping_add(delay) as c_ulong);
        }
    }
}
