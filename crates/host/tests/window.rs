//! The module window: placement below 2 GiB, size, and accounting.

mod common;
use common::*;

use umod_abi::PAGE_SIZE;
use umod_host::{Host, HostConfig};
use umod_host::{KERNEL_AREA_BYTES, WINDOW_LIMIT};

fn sized(window_size: u64) -> std::io::Result<Host> {
    Host::with_config(HostConfig {
        window_size,
        ..Default::default()
    })
}

#[test]
fn windows_lie_below_2_gib_and_do_not_overlap() {
    let a = sized(16 << 20).unwrap();
    let b = sized(64 << 20).unwrap();
    let (ua, ub) = (a.window_usage(), b.window_usage());
    for u in [ua, ub] {
        assert_eq!(u.base % PAGE_SIZE, 0);
        assert!(u.base + u.capacity + KERNEL_AREA_BYTES <= WINDOW_LIMIT);
    }
    assert_eq!(ua.capacity, (16 << 20) - KERNEL_AREA_BYTES);
    assert_eq!(ub.capacity, (64 << 20) - KERNEL_AREA_BYTES);
    let (a_end, b_end) = (ua.base + (16 << 20), ub.base + (64 << 20));
    assert!(
        a_end <= ub.base || b_end <= ua.base,
        "the two windows overlap"
    );
}

#[test]
fn default_window_is_256_mib() {
    let host = Host::new().unwrap();
    assert_eq!(host.window_usage().capacity + KERNEL_AREA_BYTES, 256 << 20);
}

#[test]
fn unusable_sizes_are_refused_with_a_reason() {
    let small = sized(4096).unwrap_err();
    assert!(small.to_string().contains("too small"), "{small}");
    let huge = sized(3 << 30).unwrap_err();
    assert!(huge.to_string().contains("2 GiB"), "{huge}");
}

#[test]
fn sizes_are_rounded_up_to_pages() {
    let host = sized((16 << 20) + 1).unwrap();
    assert_eq!(
        host.window_usage().capacity,
        (16 << 20) + PAGE_SIZE - KERNEL_AREA_BYTES
    );
}

#[test]
fn a_module_can_fill_the_window_exactly() {
    let host = host();
    let cap = host.window_usage().capacity;
    // The block plus its guard page take the whole module area.
    host.create(&root(), "all", cap - PAGE_SIZE).unwrap();
    assert_eq!(host.window_usage().in_use, cap);
    assert_eq!(
        host.create(&root(), "more", 4000),
        Err(umod_abi::Errno::ENOMEM)
    );
    host.delete(&root(), Some("all")).unwrap();
    assert_eq!(host.window_usage().in_use, 0);
}

#[test]
fn the_module_count_is_limited() {
    let host = Host::with_config(HostConfig {
        window_size: 16 << 20,
        max_modules: 3,
        ..Default::default()
    })
    .unwrap();
    for n in ["a", "b", "c"] {
        host.create(&root(), n, 4000).unwrap();
    }
    let before = snap(&host);
    assert_eq!(
        host.create(&root(), "d", 4000),
        Err(umod_abi::Errno::ENOMEM)
    );
    assert_eq!(snap(&host), before);
    host.delete(&root(), Some("a")).unwrap();
    host.create(&root(), "d", 4000).unwrap();
}
