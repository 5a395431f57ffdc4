//! [`Host`]: a module system embedded in a program.

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use umod_abi::module::MODULE_HEADER_SIZE;
use umod_abi::{Errno, PAGE_SIZE};

use crate::caller::{Caller, FileCreds, Personality};
use crate::calls::{self, gate};
use crate::config::HostConfig;
use crate::exports::{ExportError, ExportTable, KernelSymbol};
use crate::kallsyms::ModuleFunction;
use crate::procfs::{ViewChunk, ViewPos};
use crate::services::{builtin, irq, proc, tqueue, Kernel, LogRecord, KERN_INFO, KERN_WARNING};
use crate::state::{Shared, State};
use crate::window::{Window, WindowUsage};
use umod_abi::user::UserMemory;

/// Bytes of a listing built at a time for a whole-text view.
const VIEW_CHUNK: usize = 64 << 10;

/// One entry of the module list as the host sees it (see [`Host::snapshot`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModuleSnapshot {
    /// Module name.
    pub name: Vec<u8>,
    /// Header address.
    pub addr: u64,
    /// Size given to `create_module`.
    pub reserved: u64,
    /// Live `flags`.
    pub flags: u64,
    /// Live `uc.usecount`.
    pub usecount: i32,
    /// Names of the modules it depends on, in `deps` order.
    pub deps: Vec<Vec<u8>>,
    /// Names of the modules that use it, newest first.
    pub refs: Vec<Vec<u8>>,
    /// The first 184 bytes at the header address, then the created name
    /// and its NUL (what a failed `init_module` must leave untouched).
    pub header: Vec<u8>,
    /// Its code has faulted (an oops); it is tainted.
    pub oopsed: bool,
}

/// The whole observable state, for proving that a refused call changed
/// nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostSnapshot {
    /// The module list, newest first.
    pub modules: Vec<ModuleSnapshot>,
    /// Window accounting.
    pub usage: WindowUsage,
    /// The kernel's exported symbols.
    pub exports: Vec<KernelSymbol>,
}

static NEXT_HOST_ID: AtomicU64 = AtomicU64::new(1);

/// A module host: the "kernel side" of the 2.4 module system, in-process.
///
/// It owns a module window below 2 GiB, the module list and the kernel's
/// export table, and answers the five module calls with 2.4's checks,
/// errno values and state changes. Module code runs in this process.
///
/// Dropping the host removes every module (running their `cleanup`
/// functions, users before the modules they use) and unmaps the window.
#[derive(Debug)]
pub struct Host {
    shared: Arc<Shared>,
    ticker: crate::ticker::Ticker,
}

impl Host {
    /// A host with the default configuration.
    pub fn new() -> io::Result<Host> {
        Host::with_config(HostConfig::default())
    }

    /// A host with `config`: reserves the window, writes the export thunks,
    /// exports the built-in services and starts the jiffies clock.
    pub fn with_config(config: HostConfig) -> io::Result<Host> {
        // Under a debugger, one view: the debugger can then write its
        // breakpoints into module code (see jit/mod.rs).
        let traced =
            config.gdb_jit && !config.single_view_window && crate::jit::debugger_attached();
        let window = Arc::new(match config.single_view_window || traced {
            true => Window::single_view(config.window_size)?,
            false => Window::new(config.window_size)?,
        });
        window.seal_thunks()?;
        let mut exports = ExportTable::default();
        for (name, target) in builtin::functions() {
            exports
                .export_function(&window, name.as_bytes(), target as u64)
                .map_err(io::Error::other)?;
        }
        let jiffies = exports
            .export_data(&window, builtin::JIFFIES.as_bytes(), 8, 8)
            .map_err(io::Error::other)?;
        // `&proc_root` as a parent means /proc itself, as a NULL parent does.
        exports
            .export_data(&window, b"proc_root", proc::NAME_AT, 8)
            .map_err(io::Error::other)?;
        let kapi =
            crate::services::export_kapi_data(&mut exports, &window).map_err(io::Error::other)?;
        let mut tq_heads = [0u64; 3];
        for (head, name) in tq_heads.iter_mut().zip(tqueue::QUEUE_NAMES) {
            *head = exports
                .export_data(&window, name.as_bytes(), 16, 8)
                .map_err(io::Error::other)?;
            // LIST_HEAD_INIT: an empty queue points at itself.
            window.mapping().write(*head, &head.to_le_bytes());
            window.mapping().write(*head + 8, &head.to_le_bytes());
        }
        let proc_slots = exports
            .reserve_data(&window, proc::SLOT_SIZE * proc::SLOTS, 64)
            .map_err(io::Error::other)?;
        let proc_pages = exports
            .reserve_data(&window, proc::PROC_PAGES_BYTES, PAGE_SIZE)
            .map_err(io::Error::other)?;
        let state = State {
            exports,
            ..State::default()
        };
        let kernel = Arc::new(Kernel::new(
            config.log_buf_len,
            Arc::clone(&window),
            proc_slots,
            proc_pages,
        ));
        kernel.set_kapi_data(kapi);
        kernel.deferred().tq.set_heads(tq_heads);
        let id = NEXT_HOST_ID.fetch_add(1, Ordering::Relaxed);
        let one_view = !window.mapping().has_host_view();
        let shared = Arc::new(Shared::new(id, window, kernel, &config, jiffies, state));
        if traced {
            shared.kernel.log(
                KERN_INFO,
                "umod: a debugger is attached: the module window is mapped once, \
                 so that it can write breakpoints into module code",
            );
        } else if one_view && !config.single_view_window {
            shared.kernel.log(
                KERN_WARNING,
                "umod: the system refuses executable memory files; the module \
                 window is mapped once, and every load changes page protections",
            );
        }
        let ticker = crate::ticker::start(Arc::downgrade(&shared));
        Ok(Host { shared, ticker })
    }

    pub(crate) fn shared(&self) -> &Shared {
        &self.shared
    }

    /// The personality this host answers with.
    pub fn personality(&self) -> Personality {
        self.shared.personality
    }

    /// `create_module(name, size)`: returns the new entry's header address.
    pub fn create_module(
        &self,
        caller: &Caller,
        mem: &dyn UserMemory,
        name: u64,
        size: u64,
    ) -> Result<u64, Errno> {
        gate(self.shared.personality, caller, false, true)?;
        let mut st = self.shared.lock()?;
        calls::create::create_module(&self.shared, &mut st, mem, name, size)
    }

    /// `init_module(name, image)`: `image` is the caller's address of the
    /// whole relocated module.
    pub fn init_module(
        &self,
        caller: &Caller,
        mem: &dyn UserMemory,
        name: u64,
        image: u64,
    ) -> Result<(), Errno> {
        gate(self.shared.personality, caller, true, true)?;
        let mut st = self.shared.lock()?;
        calls::init::init_module(&self.shared, &mut st, mem, name, image)
    }

    /// `delete_module(name)`; `name == 0` (NULL) runs the autoclean sweep.
    pub fn delete_module(
        &self,
        caller: &Caller,
        mem: &dyn UserMemory,
        name: u64,
    ) -> Result<(), Errno> {
        gate(self.shared.personality, caller, true, true)?;
        let mut st = self.shared.lock()?;
        calls::delete::delete_module(&self.shared, &mut st, mem, name)
    }

    /// `query_module(name, which, buf, bufsize, ret)`; `name == 0` is the
    /// kernel pseudo-module. On `ENOSPC`, `*ret` and the part of `buf` that
    /// fitted are written, as in 2.4.
    #[allow(clippy::too_many_arguments)]
    pub fn query_module(
        &self,
        caller: &Caller,
        mem: &mut dyn UserMemory,
        name: u64,
        which: i32,
        buf: u64,
        bufsize: u64,
        ret: u64,
    ) -> Result<(), Errno> {
        if self.shared.personality != Personality::NoModules {
            gate(self.shared.personality, caller, false, false)?;
        }
        let mut st = self.shared.lock()?;
        if which == umod_abi::QM_INFO {
            // QM_INFO reports what the module's can_unload says: asked
            // now, without the lock. (The name is read again below, with
            // the faults the query must report.)
            if let Ok(target) = calls::get_mod_name(mem, name) {
                if let Some(i) = st.find(&self.shared, &target) {
                    let id = st.modules[i].id;
                    calls::delete::refresh_can_unload(&self.shared, &mut st, &[id], true);
                }
            }
        }
        let out = calls::query::Out {
            mem,
            buf,
            bufsize,
            ret,
        };
        calls::query::query_module(&self.shared, &mut st, name, which, out)
    }

    /// `get_kernel_syms(table)`: with `table == 0` the number of entries a
    /// dump may need, else the number written. Never fails under 2.4.
    pub fn get_kernel_syms(
        &self,
        caller: &Caller,
        mem: &mut dyn UserMemory,
        table: u64,
    ) -> Result<i64, Errno> {
        gate(self.shared.personality, caller, false, false)?;
        let st = self.shared.lock()?;
        Ok(calls::ksyms::get_kernel_syms(&self.shared, &st, mem, table))
    }

    /// The exports that define `names`, as a 2.4 insmod would have found
    /// them by reading every module's table with `query_module` (newest
    /// module first, then the kernel), at a cost that does not grow with
    /// what is loaded. Names nothing exports are not in the table.
    pub fn resolve_symbols(
        &self,
        caller: &Caller,
        names: &[&[u8]],
    ) -> Result<umod_loader::SymbolSource, Errno> {
        gate(self.shared.personality, caller, true, false)?;
        let st = self.shared.lock()?;
        Ok(crate::resolve::source_for(&self.shared, &st, names))
    }

    /// Exports a function of the embedding program to modules under `name`.
    /// Modules see the address of a thunk inside the window, which jumps to
    /// `target`; that address is returned.
    ///
    /// # Safety
    /// `target` is the address of a function with the C calling convention
    /// that modules may call, with the arguments their code passes, for as
    /// long as the host lives: module code jumps there as it is.
    pub unsafe fn export(&self, name: &str, target: usize) -> Result<u64, ExportError> {
        let mut st = self.lock_for_export()?;
        st.exports
            .export_function(&self.shared.window, name.as_bytes(), target as u64)
    }

    /// Exports a function for GPL-licensed modules only: it is listed as
    /// `GPLONLY_<name>`, as 2.4 listed `EXPORT_SYMBOL_GPL` symbols.
    ///
    /// # Safety
    /// As for [`Host::export`].
    pub unsafe fn export_gpl(&self, name: &str, target: usize) -> Result<u64, ExportError> {
        // SAFETY: the caller's promise, passed on.
        unsafe { self.export(&format!("GPLONLY_{name}"), target) }
    }

    /// Exports `size` zeroed bytes of data, allocated inside the window,
    /// under `name`; returns their address. Fill them with
    /// [`Host::write_kernel_data`].
    pub fn export_data(&self, name: &str, size: u64, align: u64) -> Result<u64, ExportError> {
        let mut st = self.lock_for_export()?;
        st.exports
            .export_data(&self.shared.window, name.as_bytes(), size, align)
    }

    fn lock_for_export(&self) -> Result<crate::state::StateGuard<'_>, ExportError> {
        self.shared.lock().map_err(|_| ExportError::Busy)
    }

    /// Writes into exported kernel data (only the kernel data area is
    /// writable this way). Returns false when the range lies elsewhere.
    pub fn write_kernel_data(&self, addr: u64, data: &[u8]) -> bool {
        let w = &self.shared.window;
        let start = w.kernel_data_base();
        let end = start + crate::window::KERNEL_DATA_BYTES;
        let ok = addr >= start
            && addr
                .checked_add(data.len() as u64)
                .is_some_and(|e| e <= end);
        if ok {
            w.mapping().write(addr, data);
        }
        ok
    }

    /// Reads `len` bytes of window memory that belong to one module block
    /// or to the kernel area; `None` for any other range.
    pub fn read_memory(&self, addr: u64, len: u64) -> Result<Option<Vec<u8>>, Errno> {
        let st = self.shared.lock()?;
        let w = &self.shared.window;
        let in_kernel = addr >= w.kernel_base()
            && addr
                .checked_add(len)
                .is_some_and(|e| e <= w.base() + w.mapping().size());
        let in_module = st.modules.slot_containing(addr, len).is_some();
        if !(in_kernel || in_module) {
            return Ok(None);
        }
        let mut out = vec![0u8; len as usize];
        w.mapping().read(addr, &mut out);
        Ok(Some(out))
    }

    /// The functions of module `name`, by address, from the kallsyms
    /// table of its image (empty for an image without one); `ENOENT` when
    /// no such module is listed.
    pub fn module_functions(&self, name: &str) -> Result<Vec<ModuleFunction>, Errno> {
        let st = self.shared.lock()?;
        let idx = st
            .find(&self.shared, name.as_bytes())
            .ok_or(Errno::ENOENT)?;
        let Some(syms) = &st.modules[idx].kallsyms else {
            return Ok(Vec::new());
        };
        Ok(syms
            .functions()
            .map(|(start, size, name)| ModuleFunction {
                start,
                size,
                name: name.to_string(),
            })
            .collect())
    }

    /// The kernel's exported symbols, in export order.
    pub fn kernel_symbols(&self) -> Result<Vec<KernelSymbol>, Errno> {
        Ok(self.shared.lock()?.exports.symbols().to_vec())
    }

    /// Address of a kernel export.
    pub fn lookup_kernel_symbol(&self, name: &str) -> Result<Option<u64>, Errno> {
        Ok(self.shared.lock()?.exports.lookup(name.as_bytes()))
    }

    /// Taint flags: `TAINT_DIE` after an oops, `TAINT_PROPRIETARY_MODULE`
    /// and `TAINT_FORCED_MODULE` as tools report them.
    pub fn taint(&self) -> u64 {
        self.shared.kernel.taint()
    }

    /// Adds taint flags (what 2.4's insmod wrote to /proc/sys/kernel/tainted).
    pub fn add_taint(&self, bits: u64) {
        self.shared.kernel.add_taint(bits)
    }

    /// Stores `value` as the taint flags: what a write of
    /// /proc/sys/kernel/tainted did in 2.4 (a plain integer sysctl,
    /// writable by root, which could clear flags too).
    pub fn set_taint(&self, value: u64) {
        self.shared.kernel.set_taint(value)
    }

    /// The whole `/proc/modules` text (complete at any size, as 2.4's
    /// seq_file made it; 2.4.0 cut it at one page).
    pub fn proc_modules(&self) -> Result<Vec<u8>, Errno> {
        self.whole(|pos| self.proc_modules_chunk(pos, VIEW_CHUNK))
    }

    /// The `/proc/modules` lines from `from`, about `max` bytes of them
    /// (one line at least), and where the next chunk starts. A program
    /// that lists many modules reads chunk after chunk, never holding the
    /// whole text.
    pub fn proc_modules_chunk(&self, from: ViewPos, max: usize) -> Result<ViewChunk, Errno> {
        let mut st = self.shared.lock()?;
        let (ids, next) = crate::procfs::modules_chunk_ids(&st, from, max);
        calls::delete::refresh_can_unload(&self.shared, &mut st, &ids, false);
        let text = crate::procfs::modules_lines(&self.shared, &st, &ids);
        Ok(ViewChunk { text, next })
    }

    /// The whole `/proc/ksyms` text.
    pub fn proc_ksyms(&self) -> Result<Vec<u8>, Errno> {
        self.whole(|pos| self.proc_ksyms_chunk(pos, VIEW_CHUNK))
    }

    /// The `/proc/ksyms` lines from `from`, as [`Host::proc_modules_chunk`].
    pub fn proc_ksyms_chunk(&self, from: ViewPos, max: usize) -> Result<ViewChunk, Errno> {
        let st = self.shared.lock()?;
        Ok(crate::procfs::ksyms_chunk(&self.shared, &st, from, max))
    }

    fn whole(
        &self,
        mut chunk: impl FnMut(ViewPos) -> Result<ViewChunk, Errno>,
    ) -> Result<Vec<u8>, Errno> {
        let mut text = Vec::new();
        let mut pos = Some(ViewPos::START);
        while let Some(from) = pos {
            let c = chunk(from)?;
            text.extend_from_slice(&c.text);
            pos = c.next;
        }
        Ok(text)
    }

    /// The text of the /proc entry `name` a module registered, produced by
    /// its read function, read by the embedding program (no permission
    /// check).
    pub fn read_proc(&self, name: &str) -> Result<Vec<u8>, Errno> {
        self.read_proc_as(&FileCreds::root(), name)
    }

    /// The text of the /proc entry `name`, read by `reader`: `EACCES` when
    /// the entry's mode, uid and gid do not let it read, as 2.4's open.
    pub fn read_proc_as(&self, reader: &FileCreds, name: &str) -> Result<Vec<u8>, Errno> {
        if name == "interrupts" {
            return Ok(self.shared.kernel.deferred().irq.proc_text());
        }
        // The host's own entries (mode 0444: anyone may read them).
        if let Some(text) = self.shared.kernel.resource_proc(name.as_bytes()) {
            return Ok(text);
        }
        // A page first (it may mean waiting for another read), then the lock.
        let page = self.shared.kernel.proc_pages().take();
        let mut st = self.shared.lock()?;
        crate::procfs::read_entry(&self.shared, &mut st, reader, name.as_bytes(), &page)
    }

    /// `open()` of character device `major:minor` by `caller`, with
    /// `flags` (`O_RDONLY`...); `node` is the device node's permission
    /// bits, uid and gid. `ENODEV` when no driver has the major.
    pub fn open_chrdev(
        &self,
        major: u32,
        minor: u32,
        flags: u32,
        node: (u16, u32, u32),
        caller: &crate::vfs::Requester,
    ) -> Result<crate::vfs::OpenFile, Errno> {
        crate::vfs::OpenFile::open(&self.shared, (major, minor), flags, node, caller)
    }

    /// A write of `data` to module /proc entry `name` by `writer` (its
    /// permission) as `caller` (its task and memory): what the entry's
    /// `write_proc` returned, a count or an errno (`EIO` without one).
    pub fn write_proc_as(
        &self,
        writer: &FileCreds,
        name: &str,
        data: &[u8],
        caller: &crate::vfs::Requester,
    ) -> Result<usize, Errno> {
        crate::vfs::write_proc(&self.shared, writer, name.as_bytes(), data, caller)
    }

    /// Character devices registered: (major, name), by major.
    pub fn chrdevs(&self) -> Vec<(u32, String)> {
        self.shared.kernel.chrdevs().list()
    }

    /// `/proc/devices`.
    pub fn proc_devices(&self) -> String {
        self.shared.kernel.chrdevs().proc_devices()
    }

    /// Names of the /proc entries modules registered, sorted.
    pub fn proc_entries(&self) -> Vec<String> {
        self.shared
            .kernel
            .procs()
            .names()
            .into_iter()
            .map(|n| String::from_utf8_lossy(&n).into_owned())
            .collect()
    }

    /// Raises software interrupt line `irq` (as a device would) and waits
    /// until its handlers have returned: `EINVAL` when `irq` is not below
    /// `NR_IRQS` (224), `ENODEV` when no handler is registered on it. A
    /// line its module disabled counts the interrupt and delivers it at
    /// `enable_irq`.
    pub fn raise_irq(&self, irq: u64) -> Result<(), Errno> {
        irq::raise(&self.shared.kernel, irq)
    }

    /// Number of pending kernel timers.
    pub fn pending_timers(&self) -> usize {
        self.shared.kernel.timers().len()
    }

    /// The kernel log, oldest line first.
    pub fn dmesg(&self) -> Vec<LogRecord> {
        self.shared.kernel.records()
    }

    /// Empties the kernel log.
    pub fn clear_dmesg(&self) {
        self.shared.kernel.clear_log()
    }

    /// Logs a line from the embedding program at `level` (0..=7).
    pub fn printk(&self, level: u8, text: &str) {
        self.shared.kernel.log(level, text)
    }

    /// Window accounting.
    pub fn window_usage(&self) -> WindowUsage {
        self.shared.window.usage()
    }

    /// Address of the exported `jiffies` counter.
    pub fn jiffies_addr(&self) -> u64 {
        self.shared.jiffies_addr
    }

    /// Everything a test needs to prove that a call changed nothing.
    pub fn snapshot(&self) -> Result<HostSnapshot, Errno> {
        let st = self.shared.lock()?;
        let sh = &self.shared;
        let modules = st
            .modules
            .iter()
            .map(|m| {
                let mut header = vec![0u8; MODULE_HEADER_SIZE + m.name.len() + 1];
                sh.window.mapping().read(m.addr(), &mut header);
                ModuleSnapshot {
                    name: m.name.clone(),
                    addr: m.addr(),
                    reserved: m.reserved,
                    flags: sh.flags(m),
                    usecount: sh.usecount(m),
                    deps: m.deps.iter().map(|&d| st.name_of(d).to_vec()).collect(),
                    refs: m
                        .refs
                        .iter()
                        .map(|&(u, _)| st.name_of(u).to_vec())
                        .collect(),
                    header,
                    oopsed: sh.kernel.has_oopsed(m.id),
                }
            })
            .collect();
        Ok(HostSnapshot {
            modules,
            usage: sh.window.usage(),
            exports: st.exports.symbols().to_vec(),
        })
    }

    /// The id of the entry whose header is at `addr` (ids are never
    /// reused, unlike addresses).
    pub fn entry_id(&self, addr: u64) -> Option<u64> {
        let st = self.shared.lock().ok()?;
        st.index_of_addr(addr).map(|i| st.modules[i].id)
    }

    /// Removes entry `id` if it never became a module: created but not
    /// initialized, or its init failed, and nothing of it runs. For a
    /// daemon whose client created the entry and went away before
    /// finishing its load (or undoing it). Returns the name removed.
    pub fn discard_uninitialized(&self, id: u64) -> Option<Vec<u8>> {
        use umod_abi::{MOD_DELETED, MOD_INITIALIZING, MOD_RUNNING};
        let mut st = self.shared.lock().ok()?;
        let idx = st.index_of_id(id)?;
        let m = &st.modules[idx];
        let flags = self.shared.flags(m);
        if flags & (MOD_RUNNING | MOD_INITIALIZING | MOD_DELETED) != 0
            || m.busy
            || !m.refs.is_empty()
        {
            return None;
        }
        let name = m.name.clone();
        self.shared.or_flags(m, MOD_DELETED);
        calls::delete::free_module(&self.shared, &mut st, id, false);
        Some(name)
    }

    /// Removes every module, users before the modules they use, running
    /// each running module's `cleanup`; returns the names in removal order.
    /// Use counts and `can_unload` are not consulted: the host is going away.
    /// An entry whose own code is running (an init) is waited for; the
    /// watchdog bounds that wait.
    pub fn shutdown(&self) -> Result<Vec<Vec<u8>>, Errno> {
        self.shutdown_each(|_| {})
    }

    /// [`Host::shutdown`], telling `removed` of each module as it goes
    /// (a daemon logs what its cleanup said before the next one runs).
    pub fn shutdown_each(&self, mut removed_one: impl FnMut(&[u8])) -> Result<Vec<Vec<u8>>, Errno> {
        let mut st = self.shared.lock()?;
        // The perf map keeps listing what was loaded (see perfmap.rs).
        self.shared.stopping.store(true, Ordering::SeqCst);
        let mut removed = Vec::new();
        while !st.modules.is_empty() {
            // Newest unused entry first; with a dependency cycle, the newest.
            let ready =
                |m: &&crate::state::Module| !m.busy && !crate::pin::running_on_this_thread(m.id);
            let pick = st
                .modules
                .iter()
                .filter(ready)
                .find(|m| m.refs.is_empty())
                .or_else(|| st.modules.iter().find(ready))
                .map(|m| m.id);
            let Some(id) = pick else {
                // Every entry left runs its own code: wait for one.
                st.wait_for_release(std::time::Duration::from_millis(100));
                continue;
            };
            let idx = st.index_of_id(id).expect("just found");
            let name = st.modules[idx].name.clone();
            self.shared
                .or_flags(&st.modules[idx], umod_abi::MOD_DELETED);
            calls::delete::free_module(&self.shared, &mut st, id, false);
            st.unlocked(|| removed_one(&name));
            removed.push(name);
        }
        self.shared.stopping.store(false, Ordering::SeqCst);
        Ok(removed)
    }

    /// Where this process's perf map is (`/tmp/perf-PID.map`), whether or
    /// not this host writes it ([`HostConfig::perf_map`]).
    pub fn perf_map_path() -> std::path::PathBuf {
        crate::perfmap::path()
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        let _ = self.shutdown();
        self.ticker.stop();
    }
}
