//! What the host keeps in its own memory for each loaded module and each
//! exported symbol, outside the module's image: a page per module at most
//! (the bound; it is about 500 bytes), and a small constant per
//! symbol. Counted exactly by this test's allocator.

mod common;
use common::*;

use umod_abi::image::{ImageBuilder, SymbolValue};
use umod_abi::PAGE_SIZE;
use umod_host::{Host, HostConfig};

#[global_allocator]
static ALLOCATOR: common::counting::Counting = common::counting::Counting;

fn load(host: &Host, range: std::ops::Range<usize>, nsyms: usize) {
    for m in range {
        let name = format!("m{m:05}");
        install(host, &name, |_| {
            let mut b = ImageBuilder::new(&name);
            for i in 0..nsyms {
                b.export(&format!("{name}_s{i}"), SymbolValue::Absolute(i as u64));
            }
            b
        })
        .unwrap();
    }
}

#[test]
fn a_module_costs_the_host_less_than_a_page_and_a_symbol_a_few_words() {
    let host = Host::with_config(HostConfig {
        window_size: 96 << 20,
        max_modules: 5000,
        ..Default::default()
    })
    .unwrap();
    // The first ones grow what grows once (the log ring, tables).
    load(&host, 0..200, 0);
    let before = common::counting::live();
    load(&host, 200..2200, 0);
    let per_module = (common::counting::live() - before) / 2000;
    assert!(
        per_module <= PAGE_SIZE as usize,
        "{per_module} bytes per module"
    );
    let before = common::counting::live();
    load(&host, 2200..2400, 500);
    let grown = common::counting::live() - before;
    let per_symbol = grown.saturating_sub(200 * per_module) / (200 * 500);
    assert!(per_symbol <= 128, "{per_symbol} bytes per exported symbol");
    eprintln!("{per_module} bytes per module, {per_symbol} per exported symbol");
}
