//! The host's threads:
//! - the clock keeps `jiffies` current, HZ times a second, runs the
//!   watchdog, which stops module code that runs too long, and marks the
//!   timer bottom halves, as 2.4's timer interrupt did;
//! - the softirq thread runs kernel timers that have come due as TIMER_BH
//!   (see `services/softirq.rs`), so a timer function that spins holds up
//!   neither the clock nor the watchdog that will stop it; the irq and
//!   keventd threads run irq handlers and scheduled tasks.

use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::pin::{self, Hold};
use crate::services::timers::{TIMER_DATA, TIMER_FUNCTION, TIMER_SIZE};
use crate::services::{irq, softirq, tqueue, Kernel, HZ, KERN_ERR, KERN_WARNING};
use crate::state::{Shared, StateGuard};
use crate::window::Mapping;

/// The running threads; [`Ticker::stop`] ends them.
#[derive(Debug)]
pub(crate) struct Ticker {
    clock: Option<(mpsc::Sender<()>, JoinHandle<()>)>,
    /// The softirq, irq and keventd threads (see `services/softirq.rs`).
    runners: Vec<JoinHandle<()>>,
    kernel: Arc<Kernel>,
}

/// Starts the threads; they end when stopped or when the host is gone.
pub(crate) fn start(shared: Weak<Shared>) -> Ticker {
    let kernel = Arc::clone(&shared.upgrade().expect("a live host").kernel);
    let runners = vec![
        softirq::start(shared.clone(), Arc::clone(&kernel)),
        irq::start(shared.clone(), Arc::clone(&kernel)),
        tqueue::start_keventd(shared.clone(), Arc::clone(&kernel)),
    ];
    let (stop, stopped) = mpsc::channel::<()>();
    let tick = Duration::from_nanos(1_000_000_000 / HZ);
    let clock = std::thread::Builder::new()
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
            sh.kernel.tick_xtime();
            let signal = crate::exec::preempt_signal();
            sh.kernel
                .watchdog()
                .check(Instant::now(), sh.watchdog, signal, |o| {
                    sh.printk(
                        KERN_ERR,
                        &format!(
                            "watchdog: {}: {} has run for {} ms; stopping it",
                            String::from_utf8_lossy(&o.module),
                            o.what,
                            sh.watchdog.as_millis()
                        ),
                    )
                });
            // The timer interrupt: TIMER_BH when timers are due, TQUEUE_BH
            // when tq_timer has entries.
            if sh.kernel.timers().any_due(now) {
                sh.kernel.deferred().mark_bh(softirq::TIMER_BH);
            }
            if tqueue::tq_timer_active(&sh) {
                sh.kernel.deferred().mark_bh(softirq::TQUEUE_BH);
            }
            drop(sh);
            match stopped.recv_timeout(tick) {
                Err(RecvTimeoutError::Timeout) => continue,
                _ => return,
            }
        })
        .expect("spawn the clock thread");
    Ticker {
        clock: Some((stop, clock)),
        runners,
        kernel,
    }
}

impl Ticker {
    /// Ends the threads: the runners first (module code still running is
    /// stopped by the watchdog, which needs the clock), then the clock.
    pub fn stop(&mut self) {
        self.kernel.deferred().stop();
        self.kernel.deferred().irq.close();
        for thread in self.runners.drain(..) {
            let _ = thread.join();
        }
        if let Some((stop, thread)) = self.clock.take() {
            drop(stop);
            let _ = thread.join();
        }
    }
}

/// Calls every due timer's function with its data, the module pinned (so
/// it cannot go away meanwhile) and the big lock released while it runs.
/// A timer whose struct or function is not inside a live module block is
/// dropped with a warning.
pub(crate) fn run_due_timers(sh: &Shared, now: u64) {
    let Ok(mut st) = sh.lock() else {
        return;
    };
    let w = sh.window.mapping();
    // The timers due now, each dequeued and marked running together, so a
    // module's del_timer_sync either finds it pending or waits for its
    // function; one re-added by its own function runs at the next pass.
    let due = sh.kernel.timers().due(now);
    for addr in due {
        if sh.kernel.timers().start_if_due(addr, now) {
            run_timer(sh, &mut st, w, addr);
            sh.kernel.timers().finish_running();
        }
    }
}

/// Runs the dequeued timer at `addr`.
fn run_timer(sh: &Shared, st: &mut StateGuard<'_>, w: &Mapping, addr: u64) {
    {
        let Some(m) = st
            .modules
            .slot_containing(addr, TIMER_SIZE)
            .map(|s| &st.modules[s])
        else {
            sh.printk(
                KERN_WARNING,
                &format!("timer at {addr:#x} is not in a module; dropped"),
            );
            return;
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
            return;
        }
        let id = m.id;
        // A timer that faults or spins is gone: it was detached before
        // the call.
        let _ = pin::run(
            sh,
            st,
            id,
            Hold::Pinned,
            "a timer",
            function,
            [data, 0, 0, 0, 0, 0],
        );
    }
}
