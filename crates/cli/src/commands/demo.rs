//! `umod demo`: the whole system on an embedded host, no daemon and no root
//! needed. Loads the example modules through the 2.4 path (query symbols,
//! create, relocate, init), shows lsmod, a /proc entry, the exported
//! symbols, a refused rmmod and the kernel log, then unloads everything.

use std::time::Duration;

use umod_abi::Errno;
use umod_examples::{
    Example, COUNTER, COUNTER_USER, FAILING, HELLO, PARAMS, PROCFILE, RUST_HELLO, TICKER,
};
use umod_host::{Caller, Host, LocalCalls};
use umod_loader::insmod::{self, InsmodError};
use umod_loader::{LinkOptions, ModuleObject};

use crate::render;

fn prompt(cmd: &str) {
    println!("\n$ {cmd}");
}

fn insmod(host: &Host, ex: &Example, args: &[&str]) -> Result<(), InsmodError> {
    let shown: Vec<String> = std::iter::once(format!("{}.o", ex.name))
        .chain(args.iter().map(|a| a.to_string()))
        .collect();
    prompt(&format!("insmod {}", shown.join(" ")));
    let module = ModuleObject::parse(ex.name, ex.object)?;
    let mut calls = LocalCalls::resolving(host, Caller::root());
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    match insmod::insmod(&mut calls, &module, &args, &LinkOptions::default()) {
        Ok(loaded) => {
            println!(
                "{} loaded at {:#x}: {} bytes, {} relocations{}",
                ex.name,
                loaded.addr,
                loaded.image.bytes.len(),
                loaded.image.relocations,
                if loaded.deps.is_empty() {
                    String::new()
                } else {
                    let deps: Vec<String> = loaded
                        .deps
                        .iter()
                        .map(|d| String::from_utf8_lossy(d).into_owned())
                        .collect();
                    format!(", uses {}", deps.join(", "))
                }
            );
            Ok(())
        }
        Err(e) => {
            println!("insmod: {}.o: {e}", ex.name);
            Err(e)
        }
    }
}

fn rmmod(host: &Host, name: &str) -> Result<(), Errno> {
    prompt(&format!("rmmod {name}"));
    let r = host.delete(&Caller::root(), Some(name));
    if let Err(e) = r {
        println!("rmmod: {name}: {e}");
    }
    r
}

/// Runs the demo; any failure of a step that should succeed is an error.
pub fn run() -> Result<(), String> {
    let host = Host::new().map_err(|e| format!("cannot start the embedded host: {e}"))?;
    let usage = host.window_usage();
    let kernel = host.kernel_symbols().map_err(|e| e.to_string())?.len();
    println!("umod demo: an embedded Linux 2.4 module host (no daemon, no root)");
    println!(
        "module window {:#x}-{:#x} below 2 GiB, {} kernel symbols exported",
        usage.base,
        usage.base + usage.capacity,
        kernel
    );
    let fail = |what: &str, e: &dyn std::fmt::Display| format!("{what}: {e}");

    insmod(&host, &HELLO, &[]).map_err(|e| fail("hello", &e))?;
    insmod(&host, &COUNTER, &[]).map_err(|e| fail("counter", &e))?;
    insmod(&host, &COUNTER_USER, &[]).map_err(|e| fail("counter_user", &e))?;
    insmod(
        &host,
        &PARAMS,
        &["irq=7", "ports=0x300,0x310", "mode=fast", "label=demo"],
    )
    .map_err(|e| fail("params", &e))?;
    insmod(&host, &PROCFILE, &[]).map_err(|e| fail("procfile", &e))?;
    insmod(&host, &TICKER, &[]).map_err(|e| fail("ticker", &e))?;
    insmod(&host, &RUST_HELLO, &[]).map_err(|e| fail("rust_hello", &e))?;
    if insmod(&host, &FAILING, &[]).is_ok() {
        return Err("failing.o loaded, but its init fails".into());
    }

    prompt("lsmod");
    show_lsmod(&host)?;

    prompt("cat /proc/umod_hello");
    print!(
        "{}",
        String::from_utf8_lossy(
            &host
                .read_proc("umod_hello")
                .map_err(|e| fail("/proc/umod_hello", &e))?
        )
    );

    prompt("ksyms");
    print!(
        "{}",
        render::ksyms(&host.proc_ksyms().map_err(|e| e.to_string())?, false)
    );

    if rmmod(&host, "counter") != Err(Errno::EBUSY) {
        return Err("rmmod counter should be refused while counter_user uses it".into());
    }

    // Let the ticker's timer fire a few times on the host clock.
    std::thread::sleep(Duration::from_millis(250));

    prompt("dmesg");
    print!("{}", render::dmesg(&host.dmesg()));

    for name in [
        "rust_hello",
        "ticker",
        "procfile",
        "params",
        "counter_user",
        "counter",
        "hello",
    ] {
        rmmod(&host, name).map_err(|e| fail(name, &e))?;
    }
    prompt("lsmod");
    show_lsmod(&host)?;
    prompt("dmesg | tail -4");
    let log = host.dmesg();
    print!("{}", render::dmesg(&log[log.len().saturating_sub(4)..]));
    let usage = host.window_usage();
    println!(
        "\nwindow: {} modules, {} bytes in use",
        usage.blocks, usage.in_use
    );
    if usage.in_use != 0 {
        return Err("window bytes leaked".into());
    }
    Ok(())
}

fn show_lsmod(host: &Host) -> Result<(), String> {
    let modules = host.proc_modules().map_err(|e| e.to_string())?;
    print!("{}", render::lsmod(&modules, host.taint()));
    Ok(())
}
