//! A plan built in a reused [`Workspace`] is the plan built from scratch:
//! nothing of the previous module (a GOT slot, a stub, an export, a
//! string) leaks into the next image.

mod common;
use common::*;

use umod_loader::{LinkOptions, ModuleObject, SymbolSource, Workspace};

const BASE: u64 = 0x4000_0000;

fn kernel() -> SymbolSource {
    let mut s = SymbolSource::new();
    let names = ["printk", "snprintf", "strlen", "memset", "memcpy"];
    s.add_kernel(
        names
            .iter()
            .enumerate()
            .map(|(i, n)| (0x7ff0_0000 + 0x10 * i as u64, n.as_bytes().to_vec())),
    );
    s
}

#[test]
fn reused_buffers_build_the_same_image() {
    let symbols = kernel();
    let options = LinkOptions::default();
    // The first module is the larger, PIC one (GOT slots, stubs, many
    // exports); the second, small one is then planned in its buffers.
    let pic = MODELS
        .iter()
        .find(|m| m.name == "pic")
        .expect("a -fPIC model");
    let kernel_model = MODELS
        .iter()
        .find(|m| m.name == "kernel")
        .expect("kernel model");
    let big = compile("shapes.c", pic, &[]);
    let small = compile("inert.c", kernel_model, &[]);
    let big = ModuleObject::parse("big", &big).unwrap();
    let small = ModuleObject::parse("small", &small).unwrap();

    let fresh = small.plan(&symbols, &[], &options).unwrap();
    let expected = fresh.relocate(BASE).unwrap();

    let first = big
        .plan_in(&symbols, &[], &options, Workspace::default())
        .unwrap();
    assert!(
        !first.layout().got_order.is_empty(),
        "the PIC module has a GOT"
    );
    let reused = small
        .plan_in(&symbols, &[], &options, first.into_workspace())
        .unwrap();
    assert_eq!(reused.size(), fresh.size());
    assert_eq!(reused.layout().got_order, fresh.layout().got_order);
    assert_eq!(reused.layout().stub_order, fresh.layout().stub_order);
    let got = reused.relocate(BASE).unwrap();
    assert_eq!(got.bytes, expected.bytes, "identical image bytes");
    assert_eq!(got.header, expected.header);

    // The same module again in its own buffers: every per-symbol entry
    // of the previous plan sits at the index the new plan looks at.
    assert!(!fresh.layout().stub_order.is_empty(), "printk has a stub");
    let again = small
        .plan_in(&symbols, &[], &options, reused.into_workspace())
        .unwrap();
    assert_eq!(again.layout().stub_order, fresh.layout().stub_order);
    assert_eq!(again.relocate(BASE).unwrap().bytes, expected.bytes);
}
