//! rust_hello: a 2.4 module written in Rust (`#![no_std]`, built with
//! `rustc --emit=obj`). Every call to the host goes through the GOT.
#![no_std]
#![allow(non_upper_case_globals)]

extern "C" {
    fn printk(fmt: *const u8, ...) -> i32;
}

#[used]
#[link_section = ".modinfo"]
static license: [u8; 12] = *b"license=GPL\0";

#[used]
#[link_section = ".modinfo"]
static description: [u8; 35] = *b"description=Hello from no_std Rust\0";

/// Exported (2.4 exports every global of a module without __ksymtab).
#[no_mangle]
pub static mut rust_hello_calls: i32 = 0;

#[no_mangle]
pub extern "C" fn rust_hello_square(x: i32) -> i32 {
    x.wrapping_mul(x)
}

#[no_mangle]
pub extern "C" fn init_module() -> i32 {
    // SAFETY: the host runs init and cleanup under its lock, one at a time.
    unsafe {
        rust_hello_calls += 1;
        printk(b"<6>rust_hello: 7 squared is %d\n\0".as_ptr(), rust_hello_square(7));
    }
    0
}

#[no_mangle]
pub extern "C" fn cleanup_module() {
    // SAFETY: printk takes a NUL-terminated format, as given.
    unsafe {
        printk(b"<6>rust_hello: goodbye\n\0".as_ptr());
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {}
}
