//! The personality switch: 2.6+ and no-CONFIG_MODULES answers.

mod common;
use common::*;

use umod_abi::{Errno, QM_MODULES, QM_PROBE};
use umod_host::{Host, HostConfig, Personality, ScratchSpace};

fn host_as(personality: Personality) -> Host {
    Host::with_config(HostConfig {
        window_size: 16 << 20,
        personality,
        ..Default::default()
    })
    .unwrap()
}

#[test]
fn linux26_has_no_create_query_or_get_kernel_syms() {
    let host = host_as(Personality::Linux26);
    let mut mem = ScratchSpace::new();
    // ENOSYS comes before EPERM and before any pointer is read.
    assert_eq!(
        host.create_module(&nobody(), &mem, u64::MAX, 1),
        Err(Errno::ENOSYS)
    );
    assert_eq!(host.create(&root(), "m", 10000), Err(Errno::ENOSYS));
    assert_eq!(
        host.query_module(&nobody(), &mut mem, 0, QM_PROBE, 0, 0, 0),
        Err(Errno::ENOSYS)
    );
    assert_eq!(
        host.get_kernel_syms(&nobody(), &mut mem, 0),
        Err(Errno::ENOSYS)
    );
    // init_module and delete_module keep their numbers: still privileged.
    assert_eq!(host.delete(&nobody(), Some("m")), Err(Errno::EPERM));
    assert_eq!(host.delete(&root(), Some("m")), Err(Errno::ENOENT));
    assert_eq!(host.init(&root(), "m", &[0; 200]), Err(Errno::ENOENT));
}

#[test]
fn no_modules_answers_only_the_probe() {
    let host = host_as(Personality::NoModules);
    let mut mem = ScratchSpace::new();
    assert_eq!(
        host.query_module(&nobody(), &mut mem, 0, QM_PROBE, 0, 0, 0),
        Ok(())
    );
    assert_eq!(
        host.query_module(&nobody(), &mut mem, u64::MAX, QM_PROBE, 0, 0, 0),
        Ok(()),
        "any name"
    );
    assert_eq!(
        host.query_module(&nobody(), &mut mem, 0, QM_MODULES, 0, 0, 0),
        Err(Errno::ENOSYS)
    );
    assert_eq!(host.create(&root(), "m", 10000), Err(Errno::ENOSYS));
    assert_eq!(host.init(&root(), "m", &[0; 200]), Err(Errno::ENOSYS));
    assert_eq!(host.delete(&root(), None), Err(Errno::ENOSYS));
    assert_eq!(
        host.get_kernel_syms(&nobody(), &mut mem, 0),
        Err(Errno::ENOSYS)
    );
}

#[test]
fn personality_names_parse() {
    assert_eq!("2.4".parse(), Ok(Personality::Linux24));
    assert_eq!("2.6".parse(), Ok(Personality::Linux26));
    assert_eq!("none".parse(), Ok(Personality::NoModules));
    assert!("3.0".parse::<Personality>().is_err());
    assert_eq!(host().personality(), Personality::Linux24);
}
