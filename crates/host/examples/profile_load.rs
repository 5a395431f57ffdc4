use std::time::Instant;
use umod_host::{Caller, Host, HostConfig, LoadOptions};
use umod_loader::{LinkOptions, ModuleObject, SymbolSource};
fn main() {
    let path = std::env::args().nth(1).unwrap();
    let object = std::fs::read(&path).unwrap();
    let host = Host::with_config(HostConfig {
        window_size: 64 << 20,
        ..Default::default()
    })
    .unwrap();
    let root = Caller::root();
    let n = 200;
    if std::env::args().nth(2).as_deref() == Some("relocate") {
        let m = ModuleObject::parse("bench", &object).unwrap();
        let src = SymbolSource::new();
        let p = m.plan(&src, &[], &LinkOptions::default()).unwrap();
        for _ in 0..20000 {
            let i = p.relocate(0x10000000).unwrap();
            std::hint::black_box(&i);
        }
        return;
    }
    if std::env::args().nth(2).as_deref() == Some("parse") {
        for _ in 0..20000 {
            let m = ModuleObject::parse("bench", &object).unwrap();
            std::hint::black_box(&m);
        }
        return;
    }
    if std::env::args().nth(2).as_deref() == Some("load") {
        for _ in 0..5000 {
            host.load_object(&root, "bench", &object, &LoadOptions::default())
                .unwrap();
            host.delete(&root, Some("bench")).unwrap();
        }
        return;
    }
    if std::env::args().nth(2).as_deref() == Some("plan") {
        let m = ModuleObject::parse("bench", &object).unwrap();
        let src = SymbolSource::new();
        for _ in 0..20000 {
            let p = m.plan(&src, &[], &LinkOptions::default()).unwrap();
            std::hint::black_box(&p);
        }
        return;
    }
    let t = Instant::now();
    for _ in 0..n {
        let m = ModuleObject::parse("bench", &object).unwrap();
        std::hint::black_box(&m);
    }
    println!("parse {:?}", t.elapsed() / n);
    let m = ModuleObject::parse("bench", &object).unwrap();
    let src = SymbolSource::new();
    let t = Instant::now();
    for _ in 0..n {
        let p = m.plan(&src, &[], &LinkOptions::default()).unwrap();
        std::hint::black_box(&p);
    }
    println!("plan {:?}", t.elapsed() / n);
    let p = m.plan(&src, &[], &LinkOptions::default()).unwrap();
    let t = Instant::now();
    for _ in 0..n {
        let i = p.relocate(0x10000000).unwrap();
        std::hint::black_box(&i);
    }
    println!("relocate {:?}", t.elapsed() / n);
    let t = Instant::now();
    for _ in 0..n {
        host.load_object(&root, "bench", &object, &LoadOptions::default())
            .unwrap();
        host.delete(&root, Some("bench")).unwrap();
    }
    println!("load+delete {:?}", t.elapsed() / n);
    let t = Instant::now();
    for _ in 0..n {
        host.create(&root, "bench", 100000).unwrap();
        host.delete(&root, Some("bench")).unwrap();
    }
    println!("create+delete 100k {:?}", t.elapsed() / n);
}
