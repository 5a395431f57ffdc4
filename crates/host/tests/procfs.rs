//! Spec §7: the /proc/modules and /proc/ksyms texts.

mod common;
use common::*;

use umod_abi::image::{asm, ImageBuilder, SymbolValue};
use umod_abi::{Errno, MOD_AUTOCLEAN, MOD_USED_ONCE};
use umod_host::{FileCreds, Host, LoadOptions, ViewChunk, ViewPos};

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

/// Reads a listing chunk by chunk of about `max` bytes, running
/// `between` after each chunk; returns the chunks.
fn chunks(
    mut read: impl FnMut(ViewPos) -> ViewChunk,
    mut between: impl FnMut(usize),
) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut pos = Some(ViewPos::START);
    while let Some(from) = pos {
        let c = read(from);
        out.push(c.text);
        pos = c.next;
        between(out.len());
    }
    out
}

#[test]
fn proc_modules_is_complete_at_any_size_and_reads_in_chunks() {
    let host = host();
    for i in 0..120 {
        host.create(&root(), &format!("module_number_{i:03}"), 4000)
            .unwrap();
    }
    // Complete, as 2.4's seq_file made it (2.4.0 cut it at one page).
    let t = text(&host);
    let lines: Vec<&str> = t.lines().collect();
    assert_eq!(lines.len(), 120);
    assert_eq!(lines[0], "module_number_119       4000 (uninitialized)");
    assert_eq!(lines[119], "module_number_000       4000 (uninitialized)");
    // Chunks of whole lines that add up to the same text.
    let parts = chunks(|pos| host.proc_modules_chunk(pos, 1000).unwrap(), |_| {});
    assert!(parts.len() > 4, "{} chunks", parts.len());
    for p in &parts {
        assert!(p.ends_with(b"\n") && p.len() < 1000 + 45, "{p:?}");
    }
    assert_eq!(parts.concat(), t.as_bytes());
    // One line at least, whatever the size asked for.
    let one = host.proc_modules_chunk(ViewPos::START, 0).unwrap();
    assert_eq!(one.text, format!("{}\n", lines[0]).as_bytes());
}

#[test]
fn a_listing_in_chunks_shows_each_entry_once_while_the_list_changes() {
    let host = host();
    for i in 0..50 {
        host.create(&root(), &format!("m{i:02}"), 4000).unwrap();
    }
    let parts = chunks(
        |pos| host.proc_modules_chunk(pos, 200).unwrap(),
        |n| {
            if n == 1 {
                // After the first chunk: a listed entry and one not yet
                // listed go, a new one comes.
                host.delete(&root(), Some("m49")).unwrap();
                host.delete(&root(), Some("m10")).unwrap();
                host.create(&root(), "late", 4000).unwrap();
            }
        },
    );
    let all = String::from_utf8(parts.concat()).unwrap();
    let names: Vec<&str> = all.lines().map(|l| l.split(' ').next().unwrap()).collect();
    let expected: Vec<String> = (0..50)
        .rev()
        .filter(|&i| i != 10)
        .map(|i| format!("m{i:02}"))
        .collect();
    assert_eq!(names, expected);
}

#[test]
fn proc_ksyms_reads_in_chunks_across_and_inside_modules() {
    let host = host();
    for m in 0..5 {
        let name = format!("exp{m}");
        let syms: Vec<String> = (0..30).map(|i| format!("sym_{m}_{i:02}")).collect();
        let syms: Vec<&str> = syms.iter().map(String::as_str).collect();
        exporter(&host, &name, &syms);
    }
    let whole = host.proc_ksyms().unwrap();
    let t = String::from_utf8(whole.clone()).unwrap();
    assert_eq!(
        t.lines().count(),
        150 + host.kernel_symbols().unwrap().len()
    );
    assert!(
        t.lines().next().unwrap().ends_with(" sym_4_00\t[exp4]"),
        "{t}"
    );
    for max in [1, 100, 1000, 5000] {
        let parts = chunks(|pos| host.proc_ksyms_chunk(pos, max).unwrap(), |_| {});
        assert_eq!(parts.concat(), whole, "chunks of {max}");
        assert!(parts.iter().all(|p| p.ends_with(b"\n")));
    }
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
    // Module tags, not words: the kernel exports __spin_lock_uninit.
    assert!(!t.contains("[nosyms]") && !t.contains("[uninit]"));
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

#[test]
fn start_pointing_into_module_memory_reads_from_there_and_counts_still_count() {
    let host = host();
    host.load_object(
        &root(),
        "procstart",
        &fixture("procstart"),
        &LoadOptions::default(),
    )
    .unwrap();
    let text = host.read_proc("ps_text").unwrap();
    assert_eq!(text.len(), 10_000);
    let expected: Vec<u8> = (0..10_000)
        .map(|i| {
            if i % 61 == 60 {
                b'\n'
            } else {
                b'a' + ((i % 61) % 26) as u8
            }
        })
        .collect();
    assert_eq!(text, expected);
    let counted = host.read_proc("ps_count").unwrap();
    assert_eq!(
        String::from_utf8(counted).unwrap(),
        (0..10).map(|i| format!("{i:02}\n")).collect::<String>()
    );
}
