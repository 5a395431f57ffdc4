//! Spec §7: the /proc/modules and /proc/ksyms texts.

mod common;
use common::*;

use umod_abi::image::{asm, ImageBuilder, SymbolValue};
use umod_abi::{Errno, MOD_AUTOCLEAN, MOD_USED_ONCE};
use umod_host::{FileCreds, Host, LoadOptions};

fn text(host: &Host) -> String {
    String::from_utf8(host.proc_modules().unwrap()).unwrap()
}

#[test]
fn proc_modules_lines_for_every_state() {
    let host = host();
    let lower = plain(&host, "lower");
    user_of(&host, "upper", &[lower]);
    user_of(&host, "upper2", &[lower]);
    install(&host, "auto", |base| {
        let mut b = ImageBuilder::new("auto");
        let c = b.append(&asm::or_then_return(base + 40, MOD_USED_ONCE as u8, 0), 16);
        b.init(c).flags(MOD_AUTOCLEAN);
        b
    })
    .unwrap();
    install(&host, "auto_unused", |_| {
        let mut b = ImageBuilder::new("auto_unused");
        b.flags(MOD_AUTOCLEAN);
        b
    })
    .unwrap();
    host.create(&root(), "dummy_mod", 1234).unwrap();
    install(&host, "busy", |_| {
        let mut b = ImageBuilder::new("busy");
        let c = b.append(&asm::return_value(1), 16);
        b.can_unload(c);
        b
    })
    .unwrap();
    let busy_size = {
        let mut b = ImageBuilder::new("busy");
        b.append(&asm::return_value(1), 16);
        b.build(0).len()
    };
    let expected = format!(
        "busy                {busy_size:8}  -1 (unused)\n\
         dummy_mod               1234 (uninitialized)\n\
         auto_unused              196   0 (autoclean) (unused)\n\
         auto                     212   0 (autoclean)\n\
         upper2                   216   0 (unused)\n\
         upper                    216   0 (unused)\n\
         lower                    190   0 [upper2 upper]\n"
    );
    assert_eq!(text(&host), expected);
}

#[test]
fn long_names_are_neither_padded_nor_cut() {
    let host = host();
    let name = "a_module_name_longer_than_twenty";
    plain(&host, name);
    assert_eq!(
        text(&host),
        format!("{name}{:8}   0 (unused)\n", 184 + name.len() + 1)
    );
}

#[test]
fn proc_modules_is_cut_at_one_page() {
    let host = host();
    for i in 0..120 {
        host.create(&root(), &format!("module_number_{i:03}"), 4000)
            .unwrap();
    }
    let t = host.proc_modules().unwrap();
    assert_eq!(t.len(), 4096);
    // 45-byte lines: the page ends in the middle of line 92.
    assert_eq!(&t[91 * 45..], &b"module_number_028    "[..4096 - 91 * 45]);
    assert!(t.starts_with(b"module_number_119"));
}

#[test]
fn failed_init_shows_uninitialized_and_pins_its_dependency() {
    let host = host();
    let lower = plain(&host, "lower");
    let bad = |_| {
        let mut b = ImageBuilder::new("bad");
        let c = b.append(&asm::return_value(-19), 16);
        b.init(c).depend_on(lower);
        b
    };
    assert_eq!(install(&host, "bad", bad), Err(Errno::ENODEV));
    let t = text(&host);
    let lines: Vec<&str> = t.lines().collect();
    assert!(
        lines[0].starts_with("bad ") && lines[0].ends_with(" (uninitialized)"),
        "{t}"
    );
    assert_eq!(lines[1], "lower                    190   0 [bad]");
}

#[test]
fn proc_ksyms_format() {
    let host = host();
    let a = install(&host, "exp", |_| {
        let mut b = ImageBuilder::new("exp");
        let f = b.append(&asm::return_value(0), 16);
        b.export("exp_fn", SymbolValue::Offset(f))
            .export("exp_abs", SymbolValue::Absolute(0xabc));
        b
    })
    .unwrap();
    plain(&host, "nosyms");
    host.create(&root(), "uninit", 4000).unwrap();
    let t = String::from_utf8(host.proc_ksyms().unwrap()).unwrap();
    let lines: Vec<&str> = t.lines().collect();
    assert_eq!(lines[0], format!("{:016x} exp_fn\t[exp]", a + 192));
    assert_eq!(lines[1], "0000000000000abc exp_abs\t[exp]");
    let kernel = host.kernel_symbols().unwrap();
    assert_eq!(lines.len(), 2 + kernel.len());
    let printk = kernel.iter().find(|s| s.name == b"printk").unwrap();
    assert!(lines.contains(&format!("{:016x} printk", printk.value).as_str()));
    assert!(!t.contains("nosyms") && !t.contains("uninit"));
}

fn reader(uid: u32, gid: u32, groups: &[u32]) -> FileCreds {
    FileCreds {
        uid,
        gid,
        groups: groups.to_vec(),
        ..FileCreds::default()
    }
}

#[test]
fn entry_modes_and_owners_decide_who_reads() {
    let host = host();
    host.load_object(
        &root(),
        "procmodes",
        &fixture("procmodes"),
        &LoadOptions::default(),
    )
    .unwrap();
    let read = |who: &FileCreds, name: &str| host.read_proc_as(who, name);
    let user = reader(1000, 1000, &[]);
    let other = reader(2000, 2000, &[]);
    let in_group = reader(2000, 2000, &[100]);
    // Mode 0 became 0444, as 2.4's create_proc_entry made it.
    assert_eq!(read(&other, "pm_open").unwrap(), b"open\n");
    // 0400, owned by root: others are refused, as 2.4's open refused them.
    assert_eq!(read(&user, "pm_secret"), Err(Errno::EACCES));
    assert_eq!(read(&reader(0, 0, &[]), "pm_secret").unwrap(), b"secret\n");
    let overrider = FileCreds {
        dac_read_search: true,
        ..other.clone()
    };
    assert_eq!(read(&overrider, "pm_secret").unwrap(), b"secret\n");
    // 0040 with gid 100: a member of the group reads it, nobody else.
    assert_eq!(read(&in_group, "pm_group").unwrap(), b"group\n");
    assert_eq!(read(&other, "pm_group"), Err(Errno::EACCES));
    assert_eq!(read(&reader(0, 0, &[]), "pm_group"), Err(Errno::EACCES));
    // The module gave pm_owned to uid 1000.
    assert_eq!(read(&user, "pm_owned").unwrap(), b"owned\n");
    assert_eq!(read(&other, "pm_owned"), Err(Errno::EACCES));
    // The embedding program reads everything.
    assert_eq!(host.read_proc("pm_secret").unwrap(), b"secret\n");
}

#[test]
fn no_byte_of_one_read_shows_in_another() {
    let host = host();
    host.load_object(
        &root(),
        "procmodes",
        &fixture("procmodes"),
        &LoadOptions::default(),
    )
    .unwrap();
    for _ in 0..3 {
        let fill = host.read_proc("pm_fill").unwrap();
        assert!(!fill.is_empty() && fill.iter().all(|&b| b == b'A'));
        let short = host.read_proc("pm_short").unwrap();
        assert_eq!(&short[..10], b"0123456789");
        assert!(
            short[10..].iter().all(|&b| b == 0),
            "the page was cleared before the read: {:?}",
            String::from_utf8_lossy(&short)
        );
    }
}
