//! `irq raise N`: a device's interrupt on a software line of the daemon's
//! host (handlers run there, in interrupt context; see `cat
//! /proc/interrupts`).

use umod_client::Client;

use crate::Failure;

/// Raises line `irq` and waits for its handlers.
pub fn raise(client: &mut Client, irq: u32) -> Result<(), Failure> {
    client
        .raise_irq(irq)
        .map_err(|e| Failure::errno(format!("irq raise {irq}"), e.errno(), e.to_string()))
}
