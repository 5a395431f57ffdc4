//! Embedding a module host: export one of this program's functions to
//! modules, load a hand-built 2.4 image whose `init` calls it, and query
//! the result.
//!
//! Run with `cargo run -p umod-host --example embed`.

use std::sync::atomic::{AtomicU64, Ordering};

use umod_abi::image::{asm, ImageBuilder, SymbolValue};
use umod_abi::{QM_INFO, QM_SYMBOLS};
use umod_host::{Caller, Host, HostConfig, QueryAnswer};

/// What the module passed to us.
static GREETED: AtomicU64 = AtomicU64::new(0);

/// A function of the embedding program that modules may call.
extern "C" fn greet(cookie: u64) -> i32 {
    GREETED.store(cookie, Ordering::SeqCst);
    0
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let host = Host::with_config(HostConfig {
        window_size: 32 << 20,
        ..Default::default()
    })?;
    let root = Caller::root();

    // Modules see `greet` at a thunk inside the window.
    // SAFETY: greet is an extern "C" fn taking one integer, as the
    // module's init calls it, and lives as long as the program.
    let greet_addr = unsafe { host.export("greet", greet as *const () as usize) }?;
    println!("exported greet at {greet_addr:#x}");

    // The image: init calls greet(0xC0FFEE) and returns its result; the
    // module also exports its init function as `hello_init`.
    let make = |_base: u64| {
        let mut b = ImageBuilder::new("hello");
        let init = b.append(&asm::call_with_arg(greet_addr, 0xC0FFEE), 16);
        b.init(init).export("hello_init", SymbolValue::Offset(init));
        b
    };
    let size = make(0).build(0).len() as u64;
    let addr = host.create(&root, "hello", size)?;
    host.init(&root, "hello", &make(addr).build(addr))?;
    println!(
        "loaded hello at {addr:#x}; init called greet({:#x})",
        GREETED.load(Ordering::SeqCst)
    );

    if let QueryAnswer::Info(info) = host.query(Some("hello"), QM_INFO)? {
        println!(
            "QM_INFO: addr={:#x} size={} flags={:#x} usecount={}",
            info.addr, info.size, info.flags, info.usecount
        );
    }
    if let QueryAnswer::Symbols(syms) = host.query(Some("hello"), QM_SYMBOLS)? {
        for (value, name) in syms {
            println!("QM_SYMBOLS: {value:#x} {}", String::from_utf8_lossy(&name));
        }
    }
    print!(
        "/proc/modules:\n{}",
        String::from_utf8_lossy(&host.proc_modules()?)
    );
    host.delete(&root, Some("hello"))?;
    assert_eq!(GREETED.load(Ordering::SeqCst), 0xC0FFEE);
    Ok(())
}
