//! `cargo bench --bench scale`: what one operation costs as the host fills
//! up. In one run:
//! - two daemons (`umod serve`, child processes), one with 10 modules and
//!   one with 10 000, measured in turns: `insmod` + `rmmod` of the `hello`
//!   example through the client library, as `umod insmod`/`umod rmmod`
//!   make them (resolve, status, create, init; delete), and a whole
//!   `lsmod` listing per module, at 100 and at 10 000 modules;
//! - the daemon's memory (anonymous resident bytes, module images apart)
//!   per loaded module and per exported symbol;
//! - an embedded host with 10^3 and then 10^6 exported symbols: resolving
//!   names, in ns per name, and the host's heap per exported symbol and
//!   per module (counted by this program's allocator). The line with the
//!   target resolves what the example modules link against (the kernel's
//!   exports and `counter`'s), one request per module as insmod asks;
//!   two more lines, without a target, draw names from 256 exports spread
//!   over the table, then a new name each time: they measure the caches
//!   as much as the table (one of 10^6 names does not fit in them; one of
//!   10^3 does).
//!
//! Ratio lines end in `ratio=` (target in the README and issue: 1.2, 1.5,
//! 1.2). Times are medians of batches.

use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use umod_abi::image::{ImageBuilder, SymbolValue};
use umod_client::{Client, View};
use umod_host::{Caller, Host, HostConfig};
use umod_loader::insmod::{self, ModuleCalls};
use umod_loader::{LinkOptions, ModuleObject};

const UMOD: &str = env!("CARGO_BIN_EXE_umod");

/// Exported names drawn from in the second lookup line.
const POOL: usize = 256;

#[path = "../../host/tests/common/counting.rs"]
mod counting;

#[global_allocator]
static ALLOCATOR: counting::Counting = counting::Counting;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// A module image with `nsyms` exported absolute symbols named
/// `{prefix}{i}`, built for `base`.
fn image(name: &str, prefix: &str, nsyms: usize, base: u64) -> Vec<u8> {
    let mut b = ImageBuilder::new(name);
    for i in 0..nsyms {
        b.export(
            &format!("{prefix}{i}"),
            SymbolValue::Absolute(0x1000 + i as u64),
        );
    }
    b.build(base)
}

/// Loads `count` modules `{tag}{i}` exporting `nsyms` symbols each.
fn fill(calls: &mut dyn ModuleCalls, tag: &str, range: std::ops::Range<usize>, nsyms: usize) {
    for i in range {
        let name = format!("{tag}{i}");
        let prefix = format!("{name}_s");
        let size = image(&name, &prefix, nsyms, 0).len() as u64;
        let addr = calls.create_module(&name, size).expect("create_module");
        calls
            .init_module(&name, &image(&name, &prefix, nsyms, addr))
            .expect("init_module");
    }
}

/// The daemon's anonymous resident memory (its heap; module images live
/// in a memory file and count elsewhere).
fn rss_anon(daemon: &DaemonProcess) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", daemon.0.id())).unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("RssAnon:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .expect("RssAnon");
    kb * 1024
}

/// The daemon child, killed when the benchmark ends (or panics).
struct DaemonProcess(Child);

impl Drop for DaemonProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_daemon(tag: &str) -> (DaemonProcess, PathBuf) {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("bench-scale-{tag}"));
    std::fs::create_dir_all(&dir).unwrap();
    let sock = dir.join("umod.sock");
    let _ = std::fs::remove_file(&sock);
    let daemon = DaemonProcess(
        Command::new(UMOD)
            .args([
                "serve",
                "--window",
                "1G",
                "--max-modules",
                "20000",
                "--socket",
            ])
            .arg(&sock)
            .stderr(Stdio::null())
            .spawn()
            .expect("umod serve"),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while UnixStream::connect(&sock).is_err() {
        assert!(Instant::now() < deadline, "the daemon did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    (daemon, sock)
}

/// µs per `insmod hello.o` + `rmmod hello` through `client`, over a
/// batch of 20.
fn insmod_rmmod(client: &mut Client) -> f64 {
    let hello = ModuleObject::parse("hello", umod_examples::HELLO.object).unwrap();
    let options = LinkOptions::default();
    let t = Instant::now();
    for _ in 0..20 {
        insmod::insmod(client, &hello, &[], &options).expect("insmod hello");
        client.delete_module(Some("hello")).expect("rmmod hello");
    }
    t.elapsed().as_secs_f64() * 1e6 / 20.0
}

/// µs per module of whole `lsmod` listings of `count` modules, over a
/// batch of about 100 000 lines.
fn lsmod_per_module(client: &mut Client, count: usize) -> f64 {
    let rounds = (100_000 / count).clamp(3, 200);
    let t = Instant::now();
    for _ in 0..rounds {
        let mut lines = 0;
        client
            .read_view(View::Modules, |chunk| {
                lines += chunk.iter().filter(|&&b| b == b'\n').count();
                true
            })
            .unwrap();
        assert_eq!(lines, count, "a complete listing");
    }
    t.elapsed().as_secs_f64() * 1e6 / (rounds * count) as f64
}

/// Medians of `a` and `b`, measured in alternating batches so that the
/// machine's changes of speed weigh on both.
fn alternate(mut a: impl FnMut() -> f64, mut b: impl FnMut() -> f64) -> (f64, f64) {
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for _ in 0..15 {
        xs.push(a());
        ys.push(b());
    }
    (median(xs), median(ys))
}

/// A pseudo-random sequence, the same in every run.
struct Lcg(u64);
impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

/// What to resolve, per request.
enum Names {
    /// What each example module needs, one request per module, as
    /// insmod asks.
    Examples,
    /// 16 names from a pool of [`POOL`] exports spread over the table,
    /// and one nothing exports.
    Pool,
    /// 16 new names each time, and one nothing exports.
    New,
}

/// Resolution requests against one host, whose exports are `modules` ×
/// `per_module` names `m{i}_s{j}`.
struct Lookups<'a> {
    host: &'a Host,
    modules: usize,
    per_module: usize,
    rng: Lcg,
    pool: Vec<Vec<u8>>,
    examples: Vec<Vec<Vec<u8>>>,
}

impl<'a> Lookups<'a> {
    fn new(host: &'a Host, modules: usize, per_module: usize) -> Lookups<'a> {
        let mut l = Lookups {
            host,
            modules,
            per_module,
            rng: Lcg(7),
            pool: Vec::new(),
            examples: umod_examples::ALL
                .iter()
                .map(|ex| {
                    let m = ModuleObject::parse(ex.name, ex.object).unwrap();
                    m.wanted_symbols().iter().map(|n| n.to_vec()).collect()
                })
                .collect(),
        };
        l.pool = (0..POOL).map(|_| l.any_name()).collect();
        l
    }

    fn any_name(&mut self) -> Vec<u8> {
        let (m, i) = (
            self.rng.below(self.modules),
            self.rng.below(self.per_module),
        );
        format!("m{m}_s{i}").into_bytes()
    }

    /// ns per name over one batch of requests for `names`.
    fn batch(&mut self, names: &Names) -> f64 {
        let queries: Vec<Vec<Vec<u8>>> = match names {
            Names::Examples => (0..40).flat_map(|_| self.examples.clone()).collect(),
            Names::Pool | Names::New => (0..200)
                .map(|_| {
                    let mut q: Vec<Vec<u8>> = (0..16)
                        .map(|_| match names {
                            Names::Pool => self.pool[self.rng.below(POOL)].clone(),
                            _ => self.any_name(),
                        })
                        .collect();
                    q.push(b"not_exported_anywhere".to_vec());
                    q
                })
                .collect(),
        };
        let count: usize = queries.iter().map(Vec::len).sum();
        let root = Caller::root();
        let t = Instant::now();
        for q in &queries {
            let names: Vec<&[u8]> = q.iter().map(Vec::as_slice).collect();
            let r = self.host.resolve_symbols(&root, &names).unwrap();
            assert!(!r.is_empty());
        }
        t.elapsed().as_nanos() as f64 / count as f64
    }
}

fn main() {
    // Two daemons, as a machine runs one: a small one and a large one,
    // measured in turns.
    let (small_daemon, small_sock) = start_daemon("small");
    let (daemon, sock) = start_daemon("large");
    let mut small_client = Client::connect(&small_sock).unwrap();
    let mut client = Client::connect(&sock).unwrap();
    fill(&mut small_client, "m", 0..10, 0);
    fill(&mut client, "m", 0..100, 0);
    let rss_100 = rss_anon(&daemon);
    fill(&mut client, "m", 100..10_000, 0);
    let rss_10k = rss_anon(&daemon);
    let (small, large) = alternate(
        || insmod_rmmod(&mut small_client),
        || insmod_rmmod(&mut client),
    );
    fill(&mut small_client, "m", 10..100, 0);
    let (lsmod_100, lsmod_10k) = alternate(
        || lsmod_per_module(&mut small_client, 100),
        || lsmod_per_module(&mut client, 10_000),
    );
    drop(small_client);
    drop(small_daemon);
    let per_module_daemon = (rss_10k.saturating_sub(rss_100)) as f64 / 9_900.0;
    // Exports: 1000 more modules of 1000 symbols each.
    fill(&mut client, "x", 0..1000, 1000);
    let rss_syms = rss_anon(&daemon);
    let per_symbol_daemon = (rss_syms.saturating_sub(rss_10k)) as f64 / 1e6;
    drop(daemon);

    // Two embedded hosts, 10^3 and 10^6 exports, measured in turns; the
    // second one's heap counted exactly as it grows.
    let config = HostConfig {
        window_size: 1 << 30,
        max_modules: 20_000,
        ..Default::default()
    };
    let small_host = Host::with_config(HostConfig {
        window_size: 64 << 20,
        ..config.clone()
    })
    .unwrap();
    let host = Host::with_config(config).unwrap();
    let counter = ModuleObject::parse("counter", umod_examples::COUNTER.object).unwrap();
    for h in [&small_host, &host] {
        let mut calls = umod_host::LocalCalls::new(h, Caller::root());
        // What counter_user links against.
        insmod::insmod(&mut calls, &counter, &[], &LinkOptions::default()).unwrap();
        fill(&mut calls, "m", 0..1, 1000);
    }
    let mut calls = umod_host::LocalCalls::new(&host, Caller::root());
    let heap_before = counting::live();
    fill(&mut calls, "m", 1..1000, 1000);
    let heap_syms = counting::live() - heap_before;
    let (mut at_1k, mut at_1m) = (
        Lookups::new(&small_host, 1, 1000),
        Lookups::new(&host, 1000, 1000),
    );
    let lookups = [Names::Examples, Names::Pool, Names::New]
        .map(|n| alternate(|| at_1k.batch(&n), || at_1m.batch(&n)));
    drop(at_1k);
    drop(at_1m);
    let heap_before = counting::live();
    fill(&mut calls, "e", 0..10_000, 0);
    let heap_modules = counting::live() - heap_before;
    drop(small_host);

    println!("scale benchmark");
    println!(
        "insmod+rmmod hello, 10 modules loaded      {:>9.1} us",
        small
    );
    println!(
        "insmod+rmmod hello, 10 000 modules loaded  {:>9.1} us ratio={:.2}",
        large,
        large / small
    );
    println!(
        "lsmod per module, 100 modules              {:>9.3} us",
        lsmod_100
    );
    println!(
        "lsmod per module, 10 000 modules           {:>9.3} us ratio={:.2}",
        lsmod_10k,
        lsmod_10k / lsmod_100
    );
    let [(ex_1k, ex_1m), (pool_1k, pool_1m), (new_1k, new_1m)] = lookups;
    println!(
        "resolve what the examples need, 10^3 exports {:>7.1} ns per name",
        ex_1k
    );
    println!(
        "resolve what the examples need, 10^6 exports {:>7.1} ns per name ratio={:.2}",
        ex_1m,
        ex_1m / ex_1k
    );
    println!(
        "resolve from {POOL} exports, 10^3 / 10^6         {:>7.1} / {:.1} ns per name (x{:.2})",
        pool_1k,
        pool_1m,
        pool_1m / pool_1k
    );
    println!(
        "resolve every name new, 10^3 / 10^6          {:>7.1} / {:.1} ns per name (x{:.2}, memory latency)",
        new_1k,
        new_1m,
        new_1m / new_1k
    );
    println!(
        "daemon memory per module                   {:>9.0} bytes (anonymous RSS, 10 000 modules)",
        per_module_daemon
    );
    println!(
        "daemon memory per exported symbol          {:>9.1} bytes (anonymous RSS, 10^6 symbols)",
        per_symbol_daemon
    );
    println!(
        "host heap per module                       {:>9.0} bytes (counted, 10 000 modules)",
        heap_modules as f64 / 10_000.0
    );
    println!(
        "host heap per exported symbol              {:>9.1} bytes (counted, 999 000 symbols)",
        heap_syms as f64 / 999_000.0
    );
}
