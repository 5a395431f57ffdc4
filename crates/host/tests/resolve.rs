//! Symbol resolution in one request answers what a 2.4 insmod found by
//! reading every module's table with `query_module`.

mod common;
use common::*;

use umod_abi::image::{asm, ImageBuilder, SymbolValue};
use umod_abi::Errno;
use umod_examples::{COUNTER, COUNTER_USER};
use umod_host::{Host, HostConfig, LocalCalls, Personality};
use umod_loader::{insmod, LinkOptions, ModuleObject, SymbolSource};

/// What a table says of `name`: (value, provider name, provider address,
/// GPL-only).
fn answer(source: &SymbolSource, name: &str) -> Option<(u64, Vec<u8>, u64, bool)> {
    source
        .lookup(name.as_bytes())
        .map(|(e, p)| (e.value, p.name.clone(), p.addr, e.gpl_only))
}

#[test]
fn resolution_agrees_with_reading_every_table() {
    let host = host();
    let datum = host.export_data("kernel_datum", 8, 8).unwrap();
    let old = exporter(&host, "old", &["shared", "only_old", "GPLONLY_gpl_sym"]);
    // A module may export a name the kernel exports too: it wins.
    let mid = exporter(&host, "mid", &["shared", "printk", "twice", "twice"]);
    let new = exporter(&host, "new", &["shared", "gpl_sym"]);
    // An entry whose init failed is not queryable: its exports are not found.
    let failed = |_| {
        let mut b = ImageBuilder::new("failed");
        let f = b.append(&asm::return_value(-19), 16);
        b.init(f).export("from_failed", SymbolValue::Offset(f));
        b
    };
    assert_eq!(install(&host, "failed", failed), Err(Errno::ENODEV));
    let names = [
        "shared",
        "only_old",
        "gpl_sym",
        "printk",
        "twice",
        "from_failed",
        "missing",
        "GPLONLY_gpl_sym",
        "kernel_datum",
        "jiffies",
    ];
    let gathered = insmod::gather_symbols(&mut LocalCalls::new(&host, root())).unwrap();
    let bytes: Vec<&[u8]> = names.iter().map(|n| n.as_bytes()).collect();
    let resolved = host.resolve_symbols(&nobody(), &bytes).unwrap();
    for name in names {
        assert_eq!(answer(&resolved, name), answer(&gathered, name), "{name}");
    }
    let provider = |name: &str| answer(&resolved, name).map(|a| (a.1, a.2, a.3));
    assert_eq!(provider("shared"), Some((b"new".to_vec(), new, false)));
    assert_eq!(provider("gpl_sym"), Some((b"new".to_vec(), new, false)));
    assert_eq!(provider("only_old"), Some((b"old".to_vec(), old, false)));
    assert_eq!(provider("printk"), Some((b"mid".to_vec(), mid, false)));
    assert_eq!(answer(&resolved, "kernel_datum").unwrap().0, datum);
    assert_eq!(provider("jiffies"), Some((Vec::new(), 0, false)));
    assert_eq!(answer(&resolved, "from_failed"), None);
    assert_eq!(answer(&resolved, "missing"), None);
    assert_eq!(answer(&resolved, "GPLONLY_gpl_sym"), None);
    // Only the providers of what was asked are in the table: newest first,
    // then the kernel.
    let providers: Vec<&[u8]> = resolved.providers().iter().map(|p| &p.name[..]).collect();
    assert_eq!(providers, [&b"new"[..], b"mid", b"old", b""]);
}

#[test]
fn a_gpl_only_export_is_found_by_its_plain_name_and_says_so() {
    let host = host();
    let old = exporter(&host, "old", &["GPLONLY_gpl_sym"]);
    let resolved = host.resolve_symbols(&root(), &[b"gpl_sym"]).unwrap();
    let (export, provider) = resolved.lookup(b"gpl_sym").unwrap();
    assert!(export.gpl_only);
    assert_eq!((&provider.name[..], provider.addr), (&b"old"[..], old));
}

#[test]
fn a_removed_or_reinitialized_module_is_resolved_as_it_is_now() {
    let host = host();
    exporter(&host, "a", &["foo"]);
    exporter(&host, "b", &["foo"]);
    host.delete(&root(), Some("b")).unwrap();
    let r = host.resolve_symbols(&root(), &[b"foo"]).unwrap();
    assert_eq!(r.lookup(b"foo").unwrap().1.name, b"a");
    host.delete(&root(), Some("a")).unwrap();
    let r = host.resolve_symbols(&root(), &[b"foo"]).unwrap();
    assert!(r.lookup(b"foo").is_none());
    // An entry initialized again with another table exports what it
    // exports now.
    let addr = exporter(&host, "c", &["foo"]);
    let mut again = ImageBuilder::new("c");
    let f = again.append(&asm::return_value(0), 16);
    again.export("bar", SymbolValue::Offset(f));
    host.init(&root(), "c", &again.build(addr)).unwrap();
    let r = host.resolve_symbols(&root(), &[b"foo", b"bar"]).unwrap();
    assert!(r.lookup(b"foo").is_none());
    assert_eq!(r.lookup(b"bar").unwrap().0.value, addr + f as u64);
}

#[test]
fn an_insmod_that_resolves_in_one_request_builds_the_same_image() {
    let host = host();
    let counter = ModuleObject::parse("counter", COUNTER.object).unwrap();
    let options = LinkOptions::default();
    insmod::insmod(&mut LocalCalls::new(&host, root()), &counter, &[], &options).unwrap();
    let user = ModuleObject::parse("counter_user", COUNTER_USER.object).unwrap();
    let by_queries = insmod::insmod(&mut LocalCalls::new(&host, root()), &user, &[], &options);
    let q = by_queries.unwrap();
    let listed = host.proc_modules().unwrap();
    host.delete(&root(), Some("counter_user")).unwrap();
    // The same block again (first fit), linked against one answer.
    let by_resolve = insmod::insmod(
        &mut LocalCalls::resolving(&host, root()),
        &user,
        &[],
        &options,
    );
    let r = by_resolve.unwrap();
    assert_eq!(q.addr, r.addr);
    assert_eq!(q.image.bytes, r.image.bytes);
    assert_eq!(q.deps, [b"counter".to_vec()]);
    assert_eq!(r.deps, q.deps);
    assert_eq!(host.proc_modules().unwrap(), listed);
}

#[test]
fn resolution_follows_the_personality() {
    let none = Host::with_config(HostConfig {
        window_size: 16 << 20,
        personality: Personality::NoModules,
        ..Default::default()
    })
    .unwrap();
    assert_eq!(
        none.resolve_symbols(&root(), &[b"printk"]).unwrap_err(),
        Errno::ENOSYS
    );
    let user = ModuleObject::parse("counter", COUNTER.object).unwrap();
    let err = insmod::insmod(
        &mut LocalCalls::resolving(&none, root()),
        &user,
        &[],
        &LinkOptions::default(),
    )
    .unwrap_err();
    assert_eq!(err.errno(), Errno::ENOSYS);
}
