//! `/tmp/perf-PID.map`: the perf convention for code a process generated
//! at run time, one line per function, `START SIZE name` (hex, without
//! `0x`), which `perf report` and `perf top` read to name samples in
//! memory that no file maps. Each module function is listed as
//! `function [module]`.
//!
//! The file is rewritten whole on every load and removal, so that it
//! always lists what is loaded: a new file with a random name, created
//! exclusively and without following links, then renamed over the map
//! (a rename replaces a link someone planted at the map's name instead of
//! writing through it; /tmp is shared and the daemon runs as root).
//! When a host shuts down, its modules' lines stay in the file until the
//! next change: a profile recorded up to the end still resolves after
//! the process is gone, which is what perf reads the map for.
//!
//! Every host of the process with [`HostConfig::perf_map`] shares the
//! one file.
//!
//! [`HostConfig::perf_map`]: crate::HostConfig::perf_map

use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hasher};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::sync::Mutex;

use crate::kallsyms::Symbols;

/// The modules listed, by (host, module id): each one's lines.
#[derive(Default)]
struct Registry {
    lines: BTreeMap<(u64, u64), String>,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    lines: BTreeMap::new(),
});

/// Where perf looks for this process's map.
pub fn path() -> PathBuf {
    PathBuf::from(format!("/tmp/perf-{}.map", std::process::id()))
}

/// A name as one line may hold it: control characters (a newline would
/// start a line of its own) become `?`.
fn clean(name: &str, out: &mut String) {
    out.extend(name.chars().map(|c| if c.is_control() { '?' } else { c }));
}

/// The lines of one module.
fn render(module: &[u8], syms: &Symbols) -> String {
    let mut module_name = String::new();
    clean(&String::from_utf8_lossy(module), &mut module_name);
    let mut out = String::new();
    for (start, size, name) in syms.functions() {
        out.push_str(&format!("{start:x} {size:x} "));
        clean(name, &mut out);
        out.push_str(" [");
        out.push_str(&module_name);
        out.push_str("]\n");
    }
    out
}

fn registry() -> std::sync::MutexGuard<'static, Registry> {
    REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

/// Lists module `id` of host `host` (replacing what it listed before),
/// and rewrites the file.
pub(crate) fn add(host: u64, id: u64, module: &[u8], syms: &Symbols) -> std::io::Result<()> {
    let mut reg = registry();
    reg.lines.insert((host, id), render(module, syms));
    write(&reg)
}

/// Forgets module `id` of host `host`; rewrites the file if `rewrite`
/// (a host that shuts down leaves the file as it was).
pub(crate) fn remove(host: u64, id: u64, rewrite: bool) -> std::io::Result<()> {
    let mut reg = registry();
    if reg.lines.remove(&(host, id)).is_some() && rewrite {
        return write(&reg);
    }
    Ok(())
}

/// A name for the next file, hard to guess: the standard library's
/// randomly keyed hasher over the process, the time and a counter.
fn temp_name() -> PathBuf {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.write_u64(COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    PathBuf::from(format!(
        "/tmp/.perf-{}.map.{:016x}",
        std::process::id(),
        h.finish()
    ))
}

/// Writes the whole map to a new file and renames it over the map.
fn write(reg: &Registry) -> std::io::Result<()> {
    let mut text = String::with_capacity(reg.lines.values().map(String::len).sum());
    for lines in reg.lines.values() {
        text.push_str(lines);
    }
    let mut tries = 0;
    let (tmp, mut file) = loop {
        let tmp = temp_name();
        let opened = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o644)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&tmp);
        match opened {
            Ok(f) => break (tmp, f),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && tries < 8 => tries += 1,
            Err(e) => return Err(e),
        }
    };
    let written = file
        .write_all(text.as_bytes())
        .and_then(|()| std::fs::rename(&tmp, path()));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}
