//! init_module's image validation against a created entry, on arbitrary
//! images. The function pointers are cleared so no fuzzed code runs; the
//! host must refuse or accept without panicking, and a refusal must leave
//! it unchanged.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use umod_host::{Caller, Host, HostConfig};

fn host() -> &'static Host {
    static HOST: OnceLock<Host> = OnceLock::new();
    HOST.get_or_init(|| Host::with_config(HostConfig { window_size: 16 << 20, ..Default::default() }).unwrap())
}

fuzz_target!(|data: &[u8]| {
    let host = host();
    let root = Caller::root();
    let _ = host.delete(&root, Some("fuzzed"));
    let Ok(addr) = host.create(&root, "fuzzed", 8192) else {
        return;
    };
    let mut image = data.to_vec();
    // Point name and the header's pointers at the entry, as a real image
    // would, from the fuzzed offsets; never leave code to run.
    for off in [80usize, 88, 128] {
        if image.len() >= off + 8 {
            image[off..off + 8].copy_from_slice(&0u64.to_le_bytes());
        }
    }
    if image.len() >= 24 {
        let rel = u64::from_le_bytes(image[16..24].try_into().unwrap()) % 8192;
        image[16..24].copy_from_slice(&(addr + rel).to_le_bytes());
    }
    let before = host.snapshot().unwrap();
    if host.init(&root, "fuzzed", &image).is_err() {
        assert_eq!(host.snapshot().unwrap(), before, "a refused image changed the host");
    }
    let _ = host.delete(&root, Some("fuzzed"));
});
