//! The module list and each entry's header in window memory.
//!
//! Like 2.4, a module's `struct module` lives at the start of its block and
//! module code may update its `flags` and `uc.usecount` (that is what
//! `MOD_INC_USE_COUNT` does), so those two members are read and written in
//! the window, atomically. Everything the host needs to stay memory-safe
//! (block bounds, where the symbol and dependency tables are, which
//! functions to call, who depends on whom) is kept here, as validated by
//! `init_module`, and never re-read from memory the module can scribble on.
//!
//! The big lock is never held while module code runs: a call that runs
//! module code marks its module busy (init, cleanup, can_unload) or pinned
//! (a timer, a /proc read), releases the lock for the call
//! ([`StateGuard::unlocked`]) and takes it again afterwards. A busy module
//! refuses init_module and delete_module (EBUSY); a pinned one stays in the
//! list, its block allocated, until its last pin is dropped. So module
//! code that spins or sleeps holds up its own caller only.

use std::cell::RefCell;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use umod_abi::module::offsets;
use umod_abi::{Errno, ModuleRef, MOD_DELETED, MOD_INITIALIZING, MOD_RUNNING};

use crate::caller::Personality;
use crate::exports::ExportTable;
use crate::module_list::ModuleList;
use crate::services::Kernel;
use crate::symtab::ModuleSymbols;
use crate::window::{ModuleBlock, Window};

/// What `init_module` validated about an image (all zero after `create_module`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct ImageFacts {
    /// The image's `size_of_struct`.
    pub sos: u64,
    /// The header's `size`.
    pub size: u64,
    pub nsyms: u32,
    pub syms: u64,
    pub ndeps: u32,
    pub deps: u64,
    pub init: u64,
    pub cleanup: u64,
}

/// One entry of the module list.
#[derive(Debug)]
pub(crate) struct Module {
    /// Never reused, unlike addresses.
    pub id: u64,
    pub name: Vec<u8>,
    pub block: ModuleBlock,
    /// The size given to `create_module`.
    pub reserved: u64,
    pub image: ImageFacts,
    /// Ids of the modules `deps[i]` names, in array order, once linked.
    pub deps: Vec<u64>,
    /// Users of this module: (user id, index into the user's deps), newest first.
    pub refs: Vec<(u64, u32)>,
    /// Mapped W^X by the one-shot path (else read-write-execute).
    pub wx: bool,
    /// Its init, cleanup or can_unload is running (without the big lock).
    pub busy: bool,
    /// Calls into its code in progress that only need it to stay (timers,
    /// /proc reads).
    pub pins: u32,
    /// The keys its exports were indexed under in [`State::symbols`].
    pub sym_keys: Box<[u64]>,
    /// What its `can_unload` answered when a query last asked (see
    /// `delete::refresh_can_unload`).
    pub can_unload_busy: Option<bool>,
    /// Its symbol table, from the image's kallsyms table (none before
    /// `init_module`, or for an image without one).
    pub kallsyms: Option<Arc<crate::kallsyms::Symbols>>,
    /// Its registration with a debugger (see `jit/`).
    pub jit: Option<crate::jit::Registration>,
}

impl Module {
    /// The header address, as `create_module` returned it.
    pub fn addr(&self) -> u64 {
        self.block.addr()
    }
}

/// Everything the big lock protects.
#[derive(Debug, Default)]
pub(crate) struct State {
    /// Newest first, as 2.4's list; the kernel pseudo-module is implicit.
    pub modules: ModuleList,
    /// The last id given (ids start at 1).
    pub last_id: u64,
    pub exports: ExportTable,
    /// Where each name modules export is (their tables stay in their images).
    pub symbols: ModuleSymbols,
    /// The one-shot loader's buffers, kept from one load to the next.
    pub workspace: umod_loader::Workspace,
}

impl State {
    /// `find_module`: exact name match, skipping DELETED entries.
    pub fn find(&self, shared: &Shared, name: &[u8]) -> Option<usize> {
        self.modules
            .named(name)
            .iter()
            .copied()
            .find(|&s| shared.flags(&self.modules[s]) & MOD_DELETED == 0)
    }

    /// Slot of the listed entry with this id.
    pub fn index_of_id(&self, id: u64) -> Option<usize> {
        self.modules.slot_of_id(id)
    }

    /// Slot of the entry whose header is at `addr`.
    pub fn index_of_addr(&self, addr: u64) -> Option<usize> {
        self.modules.slot_at(addr)
    }

    /// Name of the entry with this id ("" if it is gone).
    pub fn name_of(&self, id: u64) -> &[u8] {
        self.index_of_id(id)
            .map_or(&[][..], |i| &self.modules[i].name[..])
    }
}

/// The host's shared core: window, services, and the locked state.
#[derive(Debug)]
pub(crate) struct Shared {
    pub id: u64,
    pub window: Arc<Window>,
    pub kernel: Arc<Kernel>,
    pub personality: Personality,
    pub jiffies_addr: u64,
    /// How long module code may run before the watchdog reports it.
    pub watchdog: std::time::Duration,
    /// Most entries in the module list.
    pub max_modules: usize,
    /// Keep `/tmp/perf-PID.map` (see `perfmap.rs`).
    pub perf_map: bool,
    /// Register modules with gdb (see `jit/`).
    pub gdb_jit: bool,
    /// The perf map could not be written (said once).
    pub perf_map_failed: std::sync::atomic::AtomicBool,
    /// The host is removing every module: the perf map keeps them.
    pub stopping: std::sync::atomic::AtomicBool,
    state: Mutex<State>,
    /// Signalled when a module stops being busy or loses a pin.
    released: Condvar,
}

thread_local! {
    /// Ids of the hosts whose big lock this thread holds.
    static HELD: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
}

/// The big kernel lock, held: each module call runs atomically under it,
/// except while module code runs ([`StateGuard::unlocked`]).
pub(crate) struct StateGuard<'a> {
    guard: Option<MutexGuard<'a, State>>,
    shared: &'a Shared,
}

impl std::ops::Deref for StateGuard<'_> {
    type Target = State;
    fn deref(&self) -> &State {
        self.guard.as_ref().expect("the big lock is held")
    }
}

impl std::ops::DerefMut for StateGuard<'_> {
    fn deref_mut(&mut self) -> &mut State {
        self.guard.as_mut().expect("the big lock is held")
    }
}

impl Drop for StateGuard<'_> {
    fn drop(&mut self) {
        if self.guard.take().is_some() {
            forget_held(self.shared.id);
        }
    }
}

fn forget_held(host: u64) {
    HELD.with(|h| {
        let mut h = h.borrow_mut();
        if let Some(i) = h.iter().rposition(|&id| id == host) {
            h.remove(i);
        }
    });
}

impl StateGuard<'_> {
    /// Runs `f` with the big lock released, and takes it again. What the
    /// caller knew about the state may be stale afterwards: it finds its
    /// module again by id.
    pub fn unlocked<R>(&mut self, f: impl FnOnce() -> R) -> R {
        drop(self.guard.take());
        forget_held(self.shared.id);
        let r = f();
        self.guard = Some(self.shared.state.lock().unwrap_or_else(|e| e.into_inner()));
        HELD.with(|h| h.borrow_mut().push(self.shared.id));
        r
    }

    /// Waits, with the lock released, until a module stops being busy or
    /// loses a pin, or `timeout` passes.
    pub fn wait_for_release(&mut self, timeout: std::time::Duration) {
        let guard = self.guard.take().expect("the big lock is held");
        let (guard, _) = self
            .shared
            .released
            .wait_timeout(guard, timeout)
            .unwrap_or_else(|e| e.into_inner());
        self.guard = Some(guard);
    }
}

impl Shared {
    pub fn new(
        id: u64,
        window: Arc<Window>,
        kernel: Arc<Kernel>,
        config: &crate::config::HostConfig,
        jiffies_addr: u64,
        state: State,
    ) -> Shared {
        Shared {
            id,
            window,
            kernel,
            personality: config.personality,
            jiffies_addr,
            watchdog: config.watchdog,
            max_modules: config.max_modules,
            perf_map: config.perf_map,
            gdb_jit: config.gdb_jit,
            perf_map_failed: std::sync::atomic::AtomicBool::new(false),
            stopping: std::sync::atomic::AtomicBool::new(false),
            state: Mutex::new(state),
            released: Condvar::new(),
        }
    }

    /// Wakes whoever waits for a module to stop being busy or pinned.
    pub fn notify_released(&self) {
        self.released.notify_all();
    }

    /// Takes the big lock. Module code that calls back into the same host
    /// (through an export of the embedding program) gets `EDEADLK` instead
    /// of a deadlock.
    pub fn lock(&self) -> Result<StateGuard<'_>, Errno> {
        if HELD.with(|h| h.borrow().contains(&self.id)) {
            return Err(Errno::EDEADLK);
        }
        let guard = self.state.lock().unwrap_or_else(|e| e.into_inner());
        HELD.with(|h| h.borrow_mut().push(self.id));
        Ok(StateGuard {
            guard: Some(guard),
            shared: self,
        })
    }

    /// The live `flags` member of a module's header.
    pub fn flags(&self, m: &Module) -> u64 {
        self.window
            .mapping()
            .atomic_u64(m.addr() + offsets::FLAGS as u64)
            .load(Ordering::SeqCst)
    }

    /// `flags |= bits`.
    pub fn or_flags(&self, m: &Module, bits: u64) {
        self.window
            .mapping()
            .atomic_u64(m.addr() + offsets::FLAGS as u64)
            .fetch_or(bits, Ordering::SeqCst);
    }

    /// `flags &= !bits`.
    pub fn clear_flags(&self, m: &Module, bits: u64) {
        self.window
            .mapping()
            .atomic_u64(m.addr() + offsets::FLAGS as u64)
            .fetch_and(!bits, Ordering::SeqCst);
    }

    /// The live `can_unload`, as 2.4's `__MOD_IN_USE` read it: a module
    /// may set `THIS_MODULE->can_unload` in its init. 0 when the image's
    /// header is too short to have the member.
    pub fn can_unload(&self, m: &Module) -> u64 {
        if m.image.sos < (offsets::CAN_UNLOAD + 8) as u64 {
            return 0;
        }
        self.window
            .mapping()
            .atomic_u64(m.addr() + offsets::CAN_UNLOAD as u64)
            .load(Ordering::SeqCst)
    }

    /// The live `uc.usecount`.
    pub fn usecount(&self, m: &Module) -> i32 {
        self.window
            .mapping()
            .atomic_i32(m.addr() + offsets::USECOUNT as u64)
            .load(Ordering::SeqCst)
    }

    /// Sets `uc.usecount`.
    pub fn set_usecount(&self, m: &Module, v: i32) {
        self.window
            .mapping()
            .atomic_i32(m.addr() + offsets::USECOUNT as u64)
            .store(v, Ordering::SeqCst)
    }

    /// Adds `d` to `uc.usecount`.
    pub fn add_usecount(&self, m: &Module, d: i32) {
        self.window
            .mapping()
            .atomic_i32(m.addr() + offsets::USECOUNT as u64)
            .fetch_add(d, Ordering::SeqCst);
    }

    /// `MOD_CAN_QUERY`: running or initializing, and not deleted.
    pub fn can_query(&self, m: &Module) -> bool {
        let f = self.flags(m);
        f & (MOD_RUNNING | MOD_INITIALIZING) != 0 && f & MOD_DELETED == 0
    }

    /// Reads the NUL-terminated string at `addr` if it lies in `m`'s block;
    /// a pointer outside the block, or a string running off its end, reads
    /// as empty (2.4 would follow it anywhere; we never leave the block).
    pub fn block_cstr(&self, m: &Module, addr: u64) -> Vec<u8> {
        let end = m.addr() + m.block.size();
        if !m.block.contains(addr, 1) {
            return Vec::new();
        }
        let mut out = Vec::new();
        let mut at = addr;
        while at < end {
            let n = (end - at).min(256) as usize;
            let mut chunk = vec![0u8; n];
            self.window.mapping().read(at, &mut chunk);
            if let Some(nul) = chunk.iter().position(|&c| c == 0) {
                out.extend_from_slice(&chunk[..nul]);
                return out;
            }
            out.extend_from_slice(&chunk);
            at += n as u64;
        }
        Vec::new()
    }

    /// Entry `i` of the module's `syms` table (value, name), read live;
    /// `None` past its end.
    pub fn module_symbol(&self, m: &Module, i: u32) -> Option<(u64, Vec<u8>)> {
        if i >= m.image.nsyms {
            return None;
        }
        let mut entry = [0u8; 16];
        self.window
            .mapping()
            .read(m.image.syms + 16 * u64::from(i), &mut entry);
        let s = umod_abi::ModuleSymbol::decode(&entry);
        Some((s.value, self.block_cstr(m, s.name)))
    }

    /// The module's exported symbols (value, name) from its `syms` table.
    pub fn module_symbols(&self, m: &Module) -> Vec<(u64, Vec<u8>)> {
        let n = m.image.nsyms as usize;
        let mut table = vec![0u8; n * 16];
        if n > 0 {
            self.window.mapping().read(m.image.syms, &mut table);
        }
        table
            .chunks_exact(16)
            .map(|e| {
                let s = umod_abi::ModuleSymbol::decode(e.try_into().expect("16 bytes"));
                (s.value, self.block_cstr(m, s.name))
            })
            .collect()
    }

    /// Rewrites `modules[dep]`'s `refs` chain in window memory from the
    /// host's own list, so the image looks as 2.4 would have linked it.
    pub fn sync_refs(&self, st: &State, dep: usize) {
        let m = &st.modules[dep];
        let link_addr = |&(user, i): &(u64, u32)| {
            st.index_of_id(user).map(|u| {
                (
                    st.modules[u].image.deps + 24 * u64::from(i),
                    st.modules[u].addr(),
                )
            })
        };
        let links: Vec<(u64, u64)> = m.refs.iter().filter_map(link_addr).collect();
        let head = links.first().map_or(0, |l| l.0);
        let w = self.window.mapping();
        w.write(m.addr() + offsets::REFS as u64, &head.to_le_bytes());
        for (k, &(at, user_addr)) in links.iter().enumerate() {
            let next = links.get(k + 1).map_or(0, |l| l.0);
            let r = ModuleRef {
                dep: m.addr(),
                r#ref: user_addr,
                next_ref: next,
            };
            w.write(at, &r.encode());
        }
    }

    /// Writes the `next` member of entry `slot`'s header: the next older
    /// entry's address, 0 for the oldest (the kernel pseudo-module has no
    /// header). Called for an entry when its header is written and for
    /// its newer neighbour when the entry older than that one changes.
    pub fn write_next(&self, st: &State, slot: usize) {
        let next = st.modules.older(slot).map_or(0, |o| st.modules[o].addr());
        self.window.mapping().write(
            st.modules[slot].addr() + offsets::NEXT as u64,
            &next.to_le_bytes(),
        );
    }

    /// Logs a host message into the kernel log.
    pub fn printk(&self, level: u8, text: &str) {
        self.kernel.log(level, text);
    }
}
