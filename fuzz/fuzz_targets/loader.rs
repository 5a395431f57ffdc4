//! The ELF loader on arbitrary bytes: parse, layout, resolve, relocate into
//! a buffer (no execution). Must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use umod_loader::{LinkOptions, ModuleObject, SymbolSource};

fuzz_target!(|data: &[u8]| {
    let mut symbols = SymbolSource::new();
    symbols.add_kernel([(0x7ff0_0000u64, b"printk".to_vec()), (0x7ff0_0010, b"kmalloc".to_vec())]);
    let Ok(module) = ModuleObject::parse("fuzzed", data) else {
        return;
    };
    let _ = module.undefined_symbols();
    let _ = module.exported_symbols();
    for wx in [false, true] {
        let options = LinkOptions { wx, ..Default::default() };
        if let Ok(plan) = module.plan(&symbols, &["x=1".to_string()], &options) {
            if plan.size() <= 16 << 20 {
                let _ = plan.relocate(0x1000_0000);
            }
        }
    }
});
