//! Several threads creating, initialising, querying and deleting equal and
//! different names at once: every result is one 2.4 allows, and the final
//! state and window accounting are consistent.

mod common;
use common::*;

use std::sync::atomic::{AtomicU64, Ordering};

use umod_abi::image::ImageBuilder;
use umod_abi::{Errno, QM_INFO, QM_MODULES};
use umod_host::QueryAnswer;

const THREADS: usize = 4;
const ROUNDS: usize = 300;
const NAMES: [&str; 3] = ["shared_a", "shared_b", "shared_c"];

#[test]
fn threads_hammering_equal_and_different_names() {
    let host = host();
    let unexpected = AtomicU64::new(0);
    let loads = AtomicU64::new(0);
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let (host, unexpected, loads) = (&host, &unexpected, &loads);
            s.spawn(move || {
                let own = format!("own_{t}");
                for r in 0..ROUNDS {
                    let name = if r % 2 == 0 {
                        NAMES[(r / 2 + t) % 3]
                    } else {
                        &own
                    };
                    let size = ImageBuilder::new(name).build(0).len() as u64;
                    match host.create(&root(), name, size) {
                        Ok(addr) => {
                            let img = ImageBuilder::new(name).build(addr);
                            match host.init(&root(), name, &img) {
                                Ok(()) => {
                                    loads.fetch_add(1, Ordering::Relaxed);
                                }
                                // Another thread deleted the shared entry (ENOENT), or
                                // re-created it elsewhere so our image no longer fits (EINVAL).
                                Err(Errno::ENOENT | Errno::EINVAL) if name != own => {}
                                Err(e) => panic!("init of {name} failed: {e}"),
                            }
                        }
                        Err(Errno::EEXIST) => {}
                        Err(_) => {
                            unexpected.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    match host.query(Some(name), QM_INFO) {
                        Ok(QueryAnswer::Info(_)) | Err(Errno::ENOENT) => {}
                        _ => {
                            unexpected.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    if host.query(None, QM_MODULES).is_err() {
                        unexpected.fetch_add(1, Ordering::Relaxed);
                    }
                    match host.delete(&root(), Some(name)) {
                        Ok(()) | Err(Errno::ENOENT) => {}
                        Err(_) => {
                            unexpected.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            });
        }
    });
    assert_eq!(unexpected.load(Ordering::Relaxed), 0);
    // Every own-name round loads; shared names load when they win.
    assert!(loads.load(Ordering::Relaxed) >= (THREADS * ROUNDS / 2) as u64);
    let s = snap(&host);
    assert_eq!(s.usage.blocks as usize, s.modules.len());
    assert!(
        s.modules.is_empty(),
        "every thread deleted what it created last"
    );
    assert_eq!(s.usage.in_use, 0);
}

#[test]
fn racing_creates_of_one_name_make_exactly_one_entry() {
    let host = host();
    let wins = AtomicU64::new(0);
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| match host.create(&root(), "only_one", 10000) {
                Ok(_) => {
                    wins.fetch_add(1, Ordering::Relaxed);
                }
                Err(e) => assert_eq!(e, Errno::EEXIST),
            });
        }
    });
    assert_eq!(wins.load(Ordering::Relaxed), 1);
    assert_eq!(names(&host), vec!["only_one"]);
    assert_eq!(snap(&host).usage.blocks, 1);
}
