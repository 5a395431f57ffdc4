//! The host's clock thread: keeps `jiffies` current, HZ times a second,
//! and runs kernel timers that have come due.

use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Weak;
use std::thread::JoinHandle;
use std::time::Duration;

use crate::oops;
use crate::services::timers::{TIMER_DATA, TIMER_FUNCTION, TIMER_SIZE};
use crate::services::{HZ, KERN_WARNING};
use crate::state::Shared;

/// Starts the thread; it ends when the sender is dropped or the host goes.
pub(crate) fn start(shared: Weak<Shared>) -> (mpsc::Sender<()>, JoinHandle<()>) {
    let (stop, stopped) = mpsc::channel::<()>();
    let tick = Duration::from_nanos(1_000_000_000 / HZ);
    let thread = std::thread::Builder::new()
        .name("umod-clock".into())
        .spawn(move || loop {
            let Some(sh) = shared.upgrade() else {
                return;
            };
            let now = sh.kernel.jiffies();
            sh.window
                .mapping()
                .atomic_u64(sh.jiffies_addr)
                .store(now, Ordering::Relaxed);
            sh.kernel.watchdog(std::time::Instant::now(), sh.watchdog);
            if sh.kernel.timers().any_due(now) {
                run_due_timers(&sh, now);
            }
            drop(sh);
            match stopped.recv_timeout(tick) {
                Err(RecvTimeoutError::Timeout) => continue,
                _ => return,
            }
        })
        .expect("spawn the clock thread");
    (stop, thread)
}

/// Calls every due timer's function with its data, under the big lock (so
/// no module can go away meanwhile). A timer whose struct or function is
/// not inside a live module block is dropped with a warning.
fn run_due_timers(sh: &Shared, now: u64) {
    // Busy (module code running, perhaps never returning): next tick.
    let Some(st) = sh.try_lock() else {
        return;
    };
    let due = sh.kernel.timers().take_due(now);
    let w = sh.window.mapping();
    for addr in due {
        let Some(m) = st
            .modules
            .iter()
            .find(|m| m.block.contains(addr, TIMER_SIZE))
        else {
            sh.printk(
                KERN_WARNING,
                &format!("timer at {addr:#x} is not in a module; dropped"),
            );
            continue;
        };
        let mut word = [0u8; 8];
        w.read(addr + TIMER_FUNCTION, &mut word);
        let function = u64::from_le_bytes(word);
        w.read(addr + TIMER_DATA, &mut word);
        let data = u64::from_le_bytes(word);
        // Detach first, as 2.4 did: the function may re-add its timer.
        w.zero(addr, 16);
        if !m.block.contains(function, 1) {
            let name = String::from_utf8_lossy(&m.name);
            sh.printk(
                KERN_WARNING,
                &format!("{name}: timer function {function:#x} is outside the module; dropped"),
            );
            continue;
        }
        // A timer that faults is gone: it was detached before the call.
        let _ = oops::run(sh, m, "a timer", function, [data, 0, 0, 0, 0, 0]);
    }
}
