//! `cargo bench --bench load`: loading generated modules of 10, 100, 1 000
//! and 10 000 functions in process (parse, layout, resolve, relocate, init,
//! then delete), against glibc's `dlopen(RTLD_NOW)` + `dlsym` + `dlclose`
//! of the same code built as a shared object, with default and with hidden
//! visibility. Prints medians and, per size, a line ending in
//! `ratio=<umod time / dlopen default-visibility time>`. `umod` loads where
//! the last copy of the module was, so its pages already have the wanted
//! protections; `umod_moved` is the same load shifted by two pages each
//! time, so it pays the protection changes too.

use std::ffi::CString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use umod_host::{Caller, Host, HostConfig, LoadOptions};

const SIZES: [usize; 4] = [10, 100, 1_000, 10_000];

/// C source with `n` functions: each reads a data table, calls the one
/// before it and is reached through a table of function pointers, so the
/// object carries code, data and pointer relocations in proportion to n.
fn source(n: usize) -> String {
    let mut s = String::from("int bench_data[64] = {1, 2, 3, 4, 5, 6, 7, 8};\nint f0(int x) { return x + bench_data[0]; }\n");
    for i in 1..n {
        writeln!(
            s,
            "int f{i}(int x) {{ return f{}(x) + bench_data[{}] * {i}; }}",
            i - 1,
            i % 64
        )
        .unwrap();
    }
    s.push_str("typedef int (*fn_t)(int);\nfn_t bench_table[] = {\n");
    for i in 0..n {
        writeln!(s, "  f{i},").unwrap();
    }
    s.push_str("};\n__attribute__((visibility(\"default\"))) int bench_entry(void) { return bench_table[0](1); }\n");
    s.push_str("int init_module(void) { return bench_entry() == 2 ? 0 : -5; }\n");
    s
}

fn gcc(args: &[&str], src: &Path, out: &Path) {
    let st = Command::new("gcc")
        .args(args)
        .arg(src)
        .arg("-o")
        .arg(out)
        .status()
        .expect("gcc");
    assert!(st.success(), "gcc {args:?} failed");
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn rounds(n: usize) -> usize {
    match n {
        0..=100 => 1000,
        101..=1000 => 300,
        _ => 60,
    }
}

/// One dlopen + dlsym + dlclose of `path`, timed.
fn time_dlopen(path: &CString) -> Duration {
    let sym = c"bench_entry";
    let t = Instant::now();
    // SAFETY: plain FFI calls to glibc's loader with NUL-terminated
    // strings; the handle is closed before returning.
    unsafe {
        let h = libc::dlopen(path.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL);
        assert!(!h.is_null(), "dlopen {path:?}");
        assert!(!libc::dlsym(h, sym.as_ptr()).is_null());
        libc::dlclose(h);
    }
    t.elapsed()
}

fn c_path(path: &Path) -> CString {
    CString::new(path.to_str().expect("utf-8 path")).unwrap()
}

fn main() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench-load");
    std::fs::create_dir_all(&dir).unwrap();
    let kit = format!("-I{}", umod_loader::kit::include_dir().display());
    let host = Host::with_config(HostConfig {
        window_size: 64 << 20,
        ..Default::default()
    })
    .expect("host");
    let root = Caller::root();
    let options = LoadOptions::default();
    println!("load benchmark: medians per load+unload");
    for n in SIZES {
        let src = dir.join(format!("bench{n}.c"));
        std::fs::write(&src, source(n)).unwrap();
        let (obj, so, so_hidden) = (
            dir.join(format!("bench{n}.o")),
            dir.join(format!("libbench{n}.so")),
            dir.join(format!("libbench{n}h.so")),
        );
        let mut module_flags: Vec<String> = umod_loader::kit::cflags();
        module_flags.push("-c".into());
        let module_flags: Vec<&str> = module_flags.iter().map(String::as_str).collect();
        gcc(&module_flags, &src, &obj);
        gcc(&["-O2", "-shared", "-fPIC", &kit], &src, &so);
        gcc(
            &["-O2", "-shared", "-fPIC", "-fvisibility=hidden"],
            &src,
            &so_hidden,
        );
        let object = std::fs::read(&obj).unwrap();

        let rounds = rounds(n);
        let (so, so_hidden) = (c_path(&so), c_path(&so_hidden));
        // Warm both sides up (page cache, window pages, allocator).
        for _ in 0..3 {
            host.load_object(&root, "bench", &object, &options)
                .expect("load");
            host.delete(&root, Some("bench")).unwrap();
            time_dlopen(&so);
            time_dlopen(&so_hidden);
        }
        // The three are timed in turn, a block of rounds each, ten blocks
        // apiece: each runs in its steady state, and a change in the
        // machine's speed during the run (a shared VM) weighs on all three.
        let mut relocations = 0;
        let (mut umod, mut default, mut hidden) = (vec![], vec![], vec![]);
        let mut moved = vec![];
        let block = rounds / 10;
        let time_load = || {
            let t = Instant::now();
            let loaded = host
                .load_object(&root, "bench", &object, &options)
                .expect("load");
            host.delete(&root, Some("bench")).unwrap();
            (t.elapsed(), loaded.image.relocations)
        };
        for _ in 0..10 {
            for _ in 0..block {
                let (t, r) = time_load();
                umod.push(t);
                relocations = r;
            }
            // The same load, moved two pages on or back each time by a
            // one-page module in front (untimed): the pages under it
            // never have the protections it wants.
            for i in 0..block {
                if i % 2 == 0 {
                    host.create(&root, "spacer", 4096).unwrap();
                }
                moved.push(time_load().0);
                if i % 2 == 0 {
                    host.delete(&root, Some("spacer")).unwrap();
                }
            }
            default.extend((0..block).map(|_| time_dlopen(&so)));
            hidden.extend((0..block).map(|_| time_dlopen(&so_hidden)));
        }
        let (umod, default, hidden) = (median(umod), median(default), median(hidden));
        let moved = median(moved);
        let per_sec = relocations as f64 / umod.as_secs_f64();
        println!(
            "functions={n:<6} umod={:>9.1}us umod_moved={:>9.1}us dlopen_default={:>9.1}us dlopen_hidden={:>9.1}us relocations={relocations} relocs_per_sec={per_sec:.3e} vs_hidden={:.2} ratio={:.3}",
            umod.as_secs_f64() * 1e6,
            moved.as_secs_f64() * 1e6,
            default.as_secs_f64() * 1e6,
            hidden.as_secs_f64() * 1e6,
            umod.as_secs_f64() / hidden.as_secs_f64(),
            umod.as_secs_f64() / default.as_secs_f64(),
        );
    }
}
