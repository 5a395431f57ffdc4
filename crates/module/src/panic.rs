//! A panic stops the module the way a fault would: its message goes to
//! the log at `KERN_EMERG`, then an invalid instruction (`ud2`) makes the
//! host report an oops and fail the call that ran the code (an `init`
//! that panics fails `insmod`), as a 2.4 `BUG()` did.
//!
//! The standard library's `alloc` and `core` come compiled for unwinding;
//! a module never unwinds (`panic = "abort"`), but their cleanup paths
//! still name the unwinder's entry points, defined here for the linker
//! and never reached.

#[cfg(not(test))]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    crate::print::print(b"<0>", format_args!("Kernel BUG: {info}"));
    // SAFETY: ud2 raises SIGILL, which the host turns into an oops of
    // this module; it never returns.
    unsafe { core::arch::asm!("ud2", options(noreturn)) }
}

/// The unwinder's resume point: never reached without unwinding.
#[cfg(not(test))]
#[no_mangle]
pub extern "C" fn _Unwind_Resume() -> ! {
    // SAFETY: as in the panic handler.
    unsafe { core::arch::asm!("ud2", options(noreturn)) }
}

/// The personality routine `.eh_frame` names: never called without
/// unwinding.
#[cfg(not(test))]
#[no_mangle]
pub extern "C" fn rust_eh_personality() {}
