//! rust_params: params.c in Rust with the umod-module kit: the four kinds
//! of 2.4 parameters, printed as the C module prints them.
#![no_std]

use umod_module::prelude::*;

module! {
    type: RustParams,
    license: "GPL",
    description: "Shows its parameters",
}

params! {
    irq: i32 = 5, "Interrupt line";
    ports: [i32; 4] (1..=4) = [0x300, 0, 0, 0], "Up to four I/O ports";
    mode: &str = "auto", "Operating mode";
    label: CharArray<16> = "none", "A name of up to 15 characters";
}


/// C's `%#x`: `0x` before a non-zero value only.
struct AltHex(i32);

impl core::fmt::Display for AltHex {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.0 {
            0 => f.write_str("0"),
            v => write!(f, "{:#x}", v),
        }
    }
}

struct RustParams;

impl Module for RustParams {
    fn init() -> Result<Self> {
        let p = params::ports();
        pr_info!(
            "rust_params: irq={} ports={},{},{},{} mode={} label={}",
            params::irq(),
            AltHex(p[0]),
            AltHex(p[1]),
            AltHex(p[2]),
            AltHex(p[3]),
            params::mode(),
            params::label().as_str()
        );
        Ok(RustParams)
    }
}
