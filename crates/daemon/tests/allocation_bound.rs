//! A property test of what decoding costs: for any payload (random
//! requests, their mutations, and crafted worst cases), decoding allocates
//! at most twice the payload plus a constant, and rebuilding a decoded
//! call's memory at most its regions' bytes plus two pages per region
//! (and a few words per page):
//! what a peer sends bounds what the daemon allocates for it, before any
//! privilege is checked.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use umod_daemon::dispatch::caller_memory;
use umod_daemon::protocol::{CallKind, Region, Request, MAX_REGIONS};

/// Counts this thread's live heap bytes and their peak.
struct Counting;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

// SAFETY: every call is passed on to the system allocator unchanged; the
// counters are plain thread-local cells.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size() as isize);
        // SAFETY: the caller's contract, passed on.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size() as isize);
        // SAFETY: the caller's contract, passed on.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(-(layout.size() as isize));
        // SAFETY: the caller's contract, passed on.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size as isize);
        // SAFETY: the caller's contract, passed on.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        count(-(layout.size() as isize));
        p
    }
}

fn count(delta: isize) {
    let _ = LIVE.try_with(|l| {
        let now = l.get() + delta;
        l.set(now);
        let _ = PEAK.try_with(|p| p.set(p.get().max(now)));
    });
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The most `f` had allocated at once beyond what was live before it.
fn peak_of<R>(f: impl FnOnce() -> R) -> (R, usize) {
    let base = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(base));
    let r = f();
    let peak = PEAK.with(Cell::get);
    (r, (peak - base).max(0) as usize)
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn random_call(rng: &mut Rng) -> Request {
    let regions = (0..rng.below(MAX_REGIONS as u64 + 1))
        .map(|_| {
            // Near page boundaries, so regions straddle pages.
            let addr = rng.below(1 << 30) * 4096 + 4096 - rng.below(64);
            let len = rng.below(3 * 4096) as usize;
            Region {
                addr,
                bytes: (0..len).map(|i| i as u8).collect(),
                writable: rng.below(2) == 0,
            }
        })
        .collect();
    Request::Call {
        call: CallKind::Query,
        args: [rng.next(), 1, rng.next(), rng.next(), rng.next()],
        regions,
        on_behalf_of: 0,
        on_behalf_cap: false,
        tied: false,
    }
}

/// Decoding `payload` allocates at most twice its size plus a constant;
/// a decoded call's memory, its bytes plus two pages a region.
fn check(payload: &[u8]) -> bool {
    let (decoded, cost) = peak_of(|| Request::decode(payload));
    assert!(
        cost <= 2 * payload.len() + 4096,
        "decoding {} bytes allocated {cost}",
        payload.len()
    );
    let Ok(Request::Call { regions, .. }) = decoded else {
        return false;
    };
    let bytes: usize = regions.iter().map(|r| r.bytes.len()).sum();
    let (_, cost) = peak_of(|| caller_memory(&regions));
    // Bytes, two pages of padding a region, and bookkeeping per page.
    let pages = bytes / 4096 + 2 * regions.len();
    let bound = bytes + regions.len() * 2 * 4096 + pages * 64 + 16 * 1024;
    assert!(
        cost <= bound,
        "rebuilding {bytes} bytes in {} regions allocated {cost} (bound {bound})",
        regions.len()
    );
    true
}

#[test]
fn decoding_allocates_in_proportion_to_the_bytes_received() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut decoded = 0;
    for _ in 0..3000 {
        let mut payload = random_call(&mut rng).encode();
        if check(&payload) {
            decoded += 1;
        }
        // Mutations: counts and lengths are where a hostile peer lies.
        for _ in 0..4 {
            let at = rng.below(payload.len() as u64) as usize;
            payload[at] = rng.next() as u8;
            check(&payload);
        }
        payload.truncate(rng.below(payload.len() as u64 + 1) as usize);
        check(&payload);
    }
    assert!(decoded > 2500, "most random calls decode ({decoded})");
}

/// A Call payload up to its region count: the version, the kind, the
/// call, five zero arguments, no forwarded process, no flags.
fn call_up_to_regions() -> Vec<u8> {
    let mut p = umod_daemon::protocol::VERSION.to_le_bytes().to_vec();
    p.extend_from_slice(&[0, CallKind::Query as u8, 0, 0, 0, 0, 0, 0, 0, 0]);
    p
}

/// A postcard varint.
fn varint(mut v: u64, out: &mut Vec<u8>) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

#[test]
fn crafted_worst_cases_stay_bounded() {
    // A hundred and fifty thousand empty regions (each once cost a zeroed
    // page): refused.
    let mut many = call_up_to_regions();
    varint(150_000, &mut many);
    for i in 0..150_000u64 {
        varint(i * 8192, &mut many);
        many.extend_from_slice(&[0, 1]);
    }
    assert!(!check(&many));
    // Eight empty regions, each on its own page: eight pages at most.
    let mut eight = call_up_to_regions();
    varint(8, &mut eight);
    for i in 0..8u64 {
        varint((i + 1) << 24, &mut eight);
        eight.extend_from_slice(&[0, 1]);
    }
    assert!(check(&eight));
    // A count and a length that promise more than the payload holds.
    let mut liar = call_up_to_regions();
    varint(8, &mut liar);
    liar.push(0);
    varint(u64::from(u32::MAX), &mut liar);
    assert!(!check(&liar));
    let mut huge_count = call_up_to_regions();
    varint(u64::MAX, &mut huge_count);
    assert!(!check(&huge_count));
}
