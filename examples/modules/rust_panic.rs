//! rust_panic: what the umod-module kit gives a module beyond C: `alloc`
//! over kmalloc (a Vec and format!), and a panic that becomes an oops of
//! the module (insmod rust_panic.a panic=1), never undefined behaviour.
#![no_std]

use umod_module::prelude::*;

module! {
    type: RustPanic,
    license: "GPL",
    description: "Allocates, and panics when asked to",
}

params! {
    panic: i32 = 0, "Panic in init when not 0";
}

struct RustPanic {
    numbers: Vec<i32>,
}

impl Module for RustPanic {
    fn init() -> Result<Self> {
        let numbers: Vec<i32> = (1..=3).collect();
        let sum: i32 = numbers.iter().sum();
        let text = format!("{numbers:?} ({sum})");
        pr_info!("rust_panic: built {text}");
        if params::panic() != 0 {
            panic!("rust_panic: asked to");
        }
        Ok(RustPanic { numbers })
    }
}

impl Drop for RustPanic {
    fn drop(&mut self) {
        pr_info!("rust_panic: freeing {} numbers", self.numbers.len());
    }
}
