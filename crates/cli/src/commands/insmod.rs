//! `umod insmod`: load a module object, the 2.4 way by default (query
//! symbols, create, relocate here, init; delete on failure), or with
//! `--oneshot` by sending the object to the daemon.

use umod_abi::UTS_RELEASE;
use umod_client::protocol::LoadFlags;
use umod_client::Client;
use umod_loader::insmod::{self, InsmodError};
use umod_loader::{module_name_from_path, LinkOptions, LoadError, ModuleObject};

use crate::Failure;

/// The insmod options.
pub struct Options {
    /// `-k`
    pub autoclean: bool,
    /// `-f`
    pub force: bool,
    /// `-o NAME`
    pub name: Option<String>,
    /// `-m`
    pub map: bool,
    /// `--oneshot`
    pub oneshot: bool,
    /// `-x`
    pub no_exports: bool,
}

/// Loads `file` with `args`.
pub fn run(
    client: &mut Client,
    file: &str,
    args: &[String],
    opts: &Options,
) -> Result<(), Failure> {
    let fail = |msg: String| Failure::new(format!("insmod: {file}: {msg}"));
    let bytes = std::fs::read(file).map_err(|e| fail(e.to_string()))?;
    let name = opts
        .name
        .clone()
        .unwrap_or_else(|| module_name_from_path(file));
    if opts.oneshot {
        let flags = LoadFlags {
            autoclean: opts.autoclean,
            no_default_exports: opts.no_exports,
            force: opts.force,
            map: opts.map,
        };
        let r = client
            .load(&name, &bytes, args, flags)
            .map_err(|e| Failure::errno(format!("insmod: {file}"), e.errno(), e.to_string()))?;
        if opts.map {
            println!("{name} loaded at {:#x} ({} bytes)", r.addr, r.size);
            for l in r.sections.iter().chain(&r.symbols) {
                println!(
                    "{:016x} {:>8} {}",
                    l.addr,
                    l.size,
                    String::from_utf8_lossy(&l.name)
                );
            }
        }
        return Ok(());
    }
    let module = ModuleObject::parse(&name, &bytes).map_err(|e| fail(e.to_string()))?;
    if let Some(v) = module.modinfo.get("kernel_version") {
        if v != UTS_RELEASE && !opts.force {
            let e = LoadError::VersionMismatch {
                module: v.to_string(),
                host: UTS_RELEASE.to_string(),
            };
            return Err(fail(e.to_string()));
        }
    }
    let link = LinkOptions {
        autoclean: opts.autoclean,
        no_default_exports: opts.no_exports,
        wx: true,
    };
    let forced = module
        .modinfo
        .get("kernel_version")
        .is_some_and(|v| v != UTS_RELEASE);
    client.take_failure();
    match insmod::insmod(client, &module, args, &link) {
        Ok(loaded) => {
            // As 2.4's insmod did through /proc/sys/kernel/tainted.
            let taint = u64::from(!module.modinfo.is_gpl_compatible()) | u64::from(forced) << 1;
            if taint != 0 {
                let _ = client.add_taint(taint, None);
            }
            if opts.map {
                println!(
                    "{name} loaded at {:#x} ({} bytes)",
                    loaded.addr,
                    loaded.image.bytes.len()
                );
                for e in loaded.map.sections.iter().chain(&loaded.map.symbols) {
                    println!("{:016x} {:>8} {}", e.addr, e.size, e.name);
                }
            }
            Ok(())
        }
        Err(e) => match client.take_failure() {
            // The daemon refused a request, or the connection broke: say
            // what it said, not just an errno.
            Some(f) => Err(fail(f.to_string())),
            None => Err(insmod_failure(file, e)),
        },
    }
}

fn insmod_failure(file: &str, e: InsmodError) -> Failure {
    let fail = |msg: String| Failure::new(format!("insmod: {file}: {msg}"));
    match e {
        // One line per symbol, as modutils' insmod reported them.
        InsmodError::Load(LoadError::Unresolved(names)) => Failure::new(
            names
                .iter()
                .map(|n| {
                    format!(
                        "insmod: {file}: unresolved symbol {}",
                        umod_loader::refused::explained(n)
                    )
                })
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        InsmodError::Load(e) => fail(e.to_string()),
        e @ InsmodError::TooLarge { .. } => fail(e.to_string()),
        e => Failure::errno(format!("insmod: {file}"), e.errno(), e.to_string()),
    }
}
