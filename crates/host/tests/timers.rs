//! Kernel timers: del_timer_sync waits for a function running on the
//! timer thread; del_timer does not (2.4's SMP semantics of each).

mod common;
use common::*;

use std::time::{Duration, Instant};

use umod_host::{Host, LoadOptions};

/// The module's log lines, in order.
fn lines(host: &Host) -> Vec<String> {
    host.dmesg()
        .into_iter()
        .filter_map(|r| r.text.strip_prefix("timersync: ").map(str::to_string))
        .collect()
}

/// Loads timersync with `args`, waits for its tick to start, removes it.
fn remove_during_tick(args: &[&str]) -> Vec<String> {
    let host = host();
    let options = LoadOptions {
        args: args.iter().map(|a| a.to_string()).collect(),
        ..LoadOptions::default()
    };
    host.load_object(&root(), "timersync", &fixture("timersync"), &options)
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !lines(&host).contains(&"tick starts".to_string()) {
        assert!(Instant::now() < deadline, "the timer never fired");
        std::thread::sleep(Duration::from_millis(5));
    }
    host.delete(&root(), Some("timersync")).unwrap();
    lines(&host)
}

#[test]
fn del_timer_sync_waits_for_the_running_function() {
    assert_eq!(
        remove_during_tick(&[]),
        ["tick starts", "tick ends", "cleanup goes on"]
    );
}

#[test]
fn del_timer_does_not_wait() {
    // The removal itself still waits for the function (the module is
    // pinned while its timer runs), after the cleanup.
    assert_eq!(
        remove_during_tick(&["sync=0"]),
        ["tick starts", "cleanup goes on", "tick ends"]
    );
}
