//! Shared helpers for the host's contract tests.
#![allow(dead_code)]

pub mod counting;

use umod_abi::image::{asm, ImageBuilder, SymbolValue};
use umod_abi::module::offsets;
use umod_abi::Errno;
use umod_host::{Caller, Host, HostConfig, HostSnapshot, ScratchSpace};

/// A 2.4 host with a 16 MiB window (small, so tests can run in parallel).
pub fn host() -> Host {
    Host::with_config(HostConfig {
        window_size: 16 << 20,
        ..Default::default()
    })
    .expect("reserve a module window")
}

pub fn root() -> Caller {
    Caller::root()
}

pub fn nobody() -> Caller {
    Caller::user(65534, 65534)
}

/// Creates `name` with room for the image `make(base)` builds, then
/// initialises it with that image. Returns the header address.
pub fn install(host: &Host, name: &str, make: impl Fn(u64) -> ImageBuilder) -> Result<u64, Errno> {
    let size = make(0).build(0).len() as u64;
    let addr = host.create(&root(), name, size)?;
    host.init(&root(), name, &make(addr).build(addr))?;
    Ok(addr)
}

/// An image whose init returns `ret`.
pub fn returning(name: &str, ret: i32) -> impl Fn(u64) -> ImageBuilder + '_ {
    move |_| {
        let mut b = ImageBuilder::new(name);
        let code = b.append(&asm::return_value(ret), 16);
        b.init(code);
        b
    }
}

/// A running module with no init, exporting nothing.
pub fn plain(host: &Host, name: &str) -> u64 {
    install(host, name, |_| ImageBuilder::new(name)).expect("install a plain module")
}

/// A running module that depends on the modules at `deps`.
pub fn user_of(host: &Host, name: &str, deps: &[u64]) -> u64 {
    install(host, name, |_| {
        let mut b = ImageBuilder::new(name);
        for &d in deps {
            b.depend_on(d);
        }
        b
    })
    .expect("install a dependent module")
}

/// The state of the host, for "nothing changed" assertions.
pub fn snap(host: &Host) -> HostSnapshot {
    host.snapshot().expect("snapshot")
}

/// Module names in list order.
pub fn names(host: &Host) -> Vec<String> {
    snap(host)
        .modules
        .iter()
        .map(|m| String::from_utf8_lossy(&m.name).into_owned())
        .collect()
}

/// The last dmesg line's text.
pub fn last_log(host: &Host) -> String {
    host.dmesg()
        .last()
        .map(|r| r.text.clone())
        .unwrap_or_default()
}

/// A scratch space holding `name` and the image; returns (space, name, image).
pub fn staged(name: &[u8], image: &[u8]) -> (ScratchSpace, u64, u64) {
    let mut mem = ScratchSpace::new();
    let n = mem.put_cstr(name);
    let i = mem.put(image);
    (mem, n, i)
}

/// A 4096-byte name: no NUL in the first page.
pub fn long_name() -> Vec<u8> {
    vec![b'm'; 4096]
}

/// A running module exporting `syms` (names), each pointing at its own code.
pub fn exporter(host: &Host, name: &str, syms: &[&str]) -> u64 {
    install(host, name, |_| {
        let mut b = ImageBuilder::new(name);
        for s in syms {
            let f = b.append(&asm::return_value(0), 16);
            b.export(s, SymbolValue::Offset(f));
        }
        b
    })
    .unwrap()
}

/// Code that increments the use count of the module at `base`, then
/// returns 0: an init that keeps a reference to its own module.
pub fn take_own_reference(base: u64) -> Vec<u8> {
    asm::increment_then_return(base + offsets::USECOUNT as u64, 0)
}

/// A running module whose init took a reference to itself.
pub fn held(host: &Host, name: &str) -> u64 {
    install(host, name, |base| {
        let mut b = ImageBuilder::new(name);
        let c = b.append(&take_own_reference(base), 16);
        b.init(c);
        b
    })
    .expect("install a self-held module")
}

/// The permissions /proc/self/maps shows for the page at `addr` (read,
/// write, execute; not whether the mapping is shared).
pub fn page_perms(addr: u64) -> String {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    for line in maps.lines() {
        let (range, rest) = line.split_once(' ').unwrap();
        let (lo, hi) = range.split_once('-').unwrap();
        let (lo, hi) = (
            u64::from_str_radix(lo, 16).unwrap(),
            u64::from_str_radix(hi, 16).unwrap(),
        );
        if (lo..hi).contains(&addr) {
            return rest[..3].to_string();
        }
    }
    panic!("{addr:#x} is not mapped");
}

/// `len` bytes of this process's memory at `addr`, whatever its
/// protection (as a debugger reads them).
pub fn peek(addr: u64, len: usize) -> Vec<u8> {
    use std::os::unix::fs::FileExt;
    let mem = std::fs::File::open("/proc/self/mem").unwrap();
    let mut out = vec![0u8; len];
    mem.read_exact_at(&mut out, addr).unwrap();
    out
}

/// Whether the page at `addr` holds nothing but `int3`.
pub fn all_traps(addr: u64) -> bool {
    peek(addr, 4096).iter().all(|&b| b == 0xcc)
}

/// Compiles the loader's test fixture `NAME.c` with the kit's flags and
/// returns the object's bytes (one file per call: tests run in parallel).
pub fn fixture(name: &str) -> Vec<u8> {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let src = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../loader/tests/fixtures/{name}.c"));
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    let out = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("{name}-{}-{n}.o", std::process::id()));
    umod_loader::kit::compile(&src, &out).unwrap();
    let bytes = std::fs::read(&out).unwrap();
    let _ = std::fs::remove_file(&out);
    bytes
}

/// The kernel log as `<level>text` lines.
pub fn log_text(host: &Host) -> String {
    host.dmesg()
        .into_iter()
        .map(|r| format!("<{}>{}\n", r.level, r.text))
        .collect()
}
