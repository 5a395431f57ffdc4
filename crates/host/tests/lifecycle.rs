//! Module code really runs: init, cleanup and can_unload as machine code,
//! the kernel services it calls, and the host's shutdown order.

mod common;
use common::*;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use umod_abi::image::{asm, ImageBuilder};
use umod_abi::{Errno, QM_MODULES};
use umod_host::{Caller, Host, HostConfig, QueryAnswer};

/// `movabs rdi, a0; movabs rsi, a1; xor eax, eax; movabs r11, func;
/// call r11; [movabs rcx, store; mov [rcx], rax]`: a two-argument call,
/// optionally storing the result. Wrap calls in [`frame`].
fn call2(func: u64, a0: u64, a1: u64, store: Option<u64>) -> Vec<u8> {
    let mut c = vec![0x48, 0xbf];
    c.extend(a0.to_le_bytes());
    c.extend([0x48, 0xbe]);
    c.extend(a1.to_le_bytes());
    c.extend([0x31, 0xc0, 0x49, 0xbb]);
    c.extend(func.to_le_bytes());
    c.extend([0x41, 0xff, 0xd3]);
    if let Some(at) = store {
        c.extend([0x48, 0xb9]);
        c.extend(at.to_le_bytes());
        c.extend([0x48, 0x89, 0x01]);
    }
    c
}

/// `sub rsp, 8; body; add rsp, 8; xor eax, eax; ret`: a function returning
/// 0 whose body may call others with an aligned stack.
fn frame(body: &[u8]) -> Vec<u8> {
    let mut c = vec![0x48, 0x83, 0xec, 0x08];
    c.extend_from_slice(body);
    c.extend([0x48, 0x83, 0xc4, 0x08, 0x31, 0xc0, 0xc3]);
    c
}

fn ksym(host: &Host, name: &str) -> u64 {
    host.lookup_kernel_symbol(name).unwrap().expect(name)
}

#[test]
fn init_printk_reaches_dmesg_with_levels() {
    let host = host();
    let printk = ksym(&host, "printk");
    install(&host, "hello", |base| {
        let mut b = ImageBuilder::new("hello");
        let fmt = b.append(b"<1>Hello, world %d\n<6>second \0", 1);
        let tail = b.append(b"line\nno level\n\0", 1);
        let mut body = call2(printk, base + fmt, 42, None);
        body.extend(call2(printk, base + tail, 0, None));
        let c = b.append(&frame(&body), 16);
        b.init(c);
        b
    })
    .unwrap();
    let log: Vec<(u8, String)> = host
        .dmesg()
        .into_iter()
        .map(|r| (r.level, r.text))
        .collect();
    assert_eq!(
        log,
        vec![
            (6, "hello: 2.4 image, mapped read-write-execute".to_string()),
            (1, "Hello, world 42".to_string()),
            (6, "second line".to_string()),
            (4, "no level".to_string())
        ]
    );
    host.clear_dmesg();
    assert!(host.dmesg().is_empty());
}

static SEEN_BY_HOST_FN: AtomicU64 = AtomicU64::new(0);

extern "C" fn host_fn(x: u64) -> i32 {
    SEEN_BY_HOST_FN.store(x, Ordering::SeqCst);
    0
}

#[test]
fn module_calls_a_function_the_embedder_exported() {
    let host = host();
    // SAFETY: host_fn is an extern "C" fn taking one integer, as the
    // module calls it.
    let thunk = unsafe { host.export("host_fn", host_fn as *const () as usize) }.unwrap();
    let usage = host.window_usage();
    assert!(
        thunk >= usage.base + usage.capacity && thunk < 0x8000_0000,
        "a thunk in the window"
    );
    install(&host, "caller", |_| {
        let mut b = ImageBuilder::new("caller");
        let c = b.append(&asm::call_with_arg(thunk, 0xfeed), 16);
        b.init(c);
        b
    })
    .unwrap();
    assert_eq!(SEEN_BY_HOST_FN.load(Ordering::SeqCst), 0xfeed);
    assert_eq!(
        // SAFETY: refused (a duplicate name), so never called.
        unsafe { host.export("host_fn", 0) },
        Err(umod_host::ExportError::Duplicate("host_fn".into()))
    );
}

#[test]
fn kmalloc_and_kfree_from_module_code() {
    let host = host();
    let (kmalloc, kfree) = (ksym(&host, "kmalloc"), ksym(&host, "kfree"));
    let addr = install(&host, "alloc", |base| {
        let mut b = ImageBuilder::new("alloc");
        let slot = b.append(&[0u8; 8], 8);
        let init = b.append(&frame(&call2(kmalloc, 100, 0, Some(base + slot))), 16);
        // cleanup: kfree(*slot) — load the pointer, then call.
        let mut cleanup = vec![0x48, 0x83, 0xec, 0x08, 0x48, 0xb8];
        cleanup.extend((base + slot).to_le_bytes());
        cleanup.extend([0x48, 0x8b, 0x38, 0x49, 0xbb]); // mov rdi, [rax]; movabs r11
        cleanup.extend(kfree.to_le_bytes());
        cleanup.extend([0x41, 0xff, 0xd3, 0x48, 0x83, 0xc4, 0x08, 0xc3]);
        let c = b.append(&cleanup, 16);
        b.init(init).cleanup(c);
        b
    })
    .unwrap();
    let p = u64::from_le_bytes(
        host.read_memory(addr + 192, 8)
            .unwrap()
            .unwrap()
            .try_into()
            .unwrap(),
    );
    assert!(p != 0 && p % 16 == 0, "kmalloc returned {p:#x}");
    host.delete(&root(), Some("alloc")).unwrap();
}

#[test]
fn jiffies_advance_at_hz() {
    let host = host();
    let at = host.jiffies_addr();
    let read = || {
        u64::from_le_bytes(
            host.read_memory(at, 8)
                .unwrap()
                .unwrap()
                .try_into()
                .unwrap(),
        )
    };
    let first = read();
    std::thread::sleep(Duration::from_millis(120));
    let second = read();
    assert!(
        second >= first + 5,
        "jiffies went from {first} to {second} in 120 ms"
    );
}

#[test]
fn cleanup_and_can_unload_run_as_machine_code() {
    let host = host();
    let mark = host.export_data("mark", 8, 8).unwrap();
    install(&host, "m", |_| {
        let mut b = ImageBuilder::new("m");
        let cu = b.append(&asm::store_then_return(mark, 1, 0), 16);
        let cl = b.append(&asm::store_then_return(mark + 4, 2, 0), 16);
        b.can_unload(cu).cleanup(cl);
        b
    })
    .unwrap();
    host.delete(&root(), Some("m")).unwrap();
    assert_eq!(
        host.read_memory(mark, 8).unwrap().unwrap(),
        [1, 0, 0, 0, 2, 0, 0, 0]
    );
}

#[test]
fn shutdown_removes_users_first_and_runs_every_cleanup() {
    let host = host();
    let mark = host.export_data("mark", 8, 8).unwrap();
    let module = |name: &'static str, bit: u8, deps: Vec<u64>| {
        install(&host, name, move |_| {
            let mut b = ImageBuilder::new(name);
            let c = b.append(&asm::or_then_return(mark, bit, 0), 16);
            b.cleanup(c);
            for &d in &deps {
                b.depend_on(d);
            }
            b
        })
        .unwrap()
    };
    let base = module("base", 1, vec![]);
    let mid = module("mid", 2, vec![base]);
    module("top", 4, vec![mid]);
    module("other", 8, vec![base]);
    host.create(&root(), "uninit", 4000).unwrap();
    let order: Vec<String> = host
        .shutdown()
        .unwrap()
        .into_iter()
        .map(|n| String::from_utf8(n).unwrap())
        .collect();
    assert_eq!(order, ["uninit", "other", "top", "mid", "base"]);
    assert_eq!(host.read_memory(mark, 1).unwrap().unwrap(), [15]);
    assert_eq!(host.window_usage().in_use, 0);
}

static REENTRANT: Mutex<Option<Arc<Host>>> = Mutex::new(None);
static REENTRANT_RESULT: AtomicU64 = AtomicU64::new(0);

extern "C" fn calls_back_into_the_host(_: u64) -> i32 {
    let host = REENTRANT.lock().unwrap().clone().unwrap();
    // The host is not locked while module code runs: the query is served
    // and sees the module initializing; removing the module whose code is
    // running on this very thread is refused.
    let listed = matches!(
        host.query(None, QM_MODULES),
        Ok(QueryAnswer::Names(n)) if n == [b"reenter".to_vec()]
    );
    let refused = host.delete(&Caller::root(), Some("reenter")) == Err(Errno::EBUSY);
    REENTRANT_RESULT.store(if listed && refused { 1 } else { 2 }, Ordering::SeqCst);
    0
}

#[test]
fn module_code_calling_back_into_its_host_is_served() {
    let host = Arc::new(
        Host::with_config(HostConfig {
            window_size: 16 << 20,
            ..Default::default()
        })
        .unwrap(),
    );
    *REENTRANT.lock().unwrap() = Some(host.clone());
    // SAFETY: an extern "C" fn taking one integer, as the module calls it.
    let thunk = unsafe { host.export("call_back", calls_back_into_the_host as *const () as usize) }
        .unwrap();
    install(&host, "reenter", |_| {
        let mut b = ImageBuilder::new("reenter");
        let c = b.append(&asm::call_with_arg(thunk, 0), 16);
        b.init(c);
        b
    })
    .unwrap();
    assert_eq!(REENTRANT_RESULT.load(Ordering::SeqCst), 1);
    // Outside module code the same call works.
    assert!(matches!(
        host.query(None, QM_MODULES),
        Ok(QueryAnswer::Names(_))
    ));
    REENTRANT.lock().unwrap().take();
}
