//! Files on module character devices: what 2.4's VFS did between a
//! program's system call and a driver's `file_operations` (fs/open.c,
//! fs/devices.c, fs/read_write.c, fs/ioctl.c, fs/select.c).
//!
//! An [`OpenFile`] is one open file description: a `struct file` (and the
//! node's shared `struct inode`) in host memory, the owner module's count
//! held from before `open` to after `release`. Each operation runs the
//! driver's method as the calling program's task (`current`), with its
//! buffers as user memory (`copy_to_user` and friends), the big kernel
//! lock held where 2.4 held it, and the owning module pinned; a fault in
//! the driver is an oops and the call fails with `EIO`.

use std::collections::HashMap;
use std::ptr::NonNull;
use std::sync::{Arc, Mutex, OnceLock};

use umod_abi::Errno;

use crate::pin::{self, Hold};
use crate::services::sched::{self, Task, TaskInfo};
use crate::services::uaccess::{self, UserSpace};
use crate::state::Shared;

/// Opaque `struct file` / `struct inode` of `chrdev.c`.
#[repr(C)]
pub(crate) struct KFile {
    _private: [u8; 0],
}
#[repr(C)]
pub(crate) struct KInode {
    _private: [u8; 0],
}

extern "C" {
    fn umod_inode_new(rdev: u16, mode: u16, ino: u64, uid: u32, gid: u32) -> *mut KInode;
    fn umod_inode_free(i: *mut KInode);
    fn umod_file_new(i: *mut KInode, fops: u64, flags: u32, uid: u32, gid: u32) -> *mut KFile;
    fn umod_file_free(f: *mut KFile);
    fn umod_file_fop(f: *const KFile, which: u32) -> u64;
    fn umod_file_mode(f: *const KFile) -> u32;
    fn umod_file_clear_open_flags(f: *mut KFile);
    fn umod_poll_forget(q: u64, w: u64);
    fn umod_default_llseek(f: *mut KFile, off: i64, whence: i32) -> i64;
    fn umod_no_llseek(f: *mut KFile, off: i64, whence: i32) -> i64;
}

/// Address of `no_llseek`, for the export table.
pub(crate) fn no_llseek_addr() -> u64 {
    umod_no_llseek as *const () as u64
}

/// Address of `default_llseek`, for the export table.
pub(crate) fn default_llseek_addr() -> usize {
    umod_default_llseek as *const () as usize
}

/// Members of `struct file_operations`, by index.
#[derive(Clone, Copy)]
enum Fop {
    Owner = 0,
    Llseek = 1,
    Read = 2,
    Write = 3,
    Poll = 5,
    Ioctl = 6,
    Open = 8,
    Flush = 9,
    Release = 10,
}

const O_LARGEFILE: u32 = 0o100000;
const FMODE_READ: u32 = 1;
const FMODE_WRITE: u32 = 2;
const S_IFCHR: u16 = 0o020000;
/// `DEFAULT_POLLMASK`: always ready without a poll method.
pub const DEFAULT_POLLMASK: u32 = 0x0001 | 0x0004 | 0x0040 | 0x0100;

/// A raised signal, for a program's request in progress: interrupts the
/// request's interruptible sleeps (`-ERESTARTSYS`, which the program sees
/// as `EINTR`).
#[derive(Clone, Default)]
pub struct Signal(Arc<Mutex<SignalState>>);

#[derive(Default)]
struct SignalState {
    raised: bool,
    tasks: Vec<Arc<Task>>,
}

impl Signal {
    /// Raises it: every task serving the request sees `signal_pending`.
    pub fn raise(&self) {
        let mut s = self.0.lock().unwrap_or_else(|e| e.into_inner());
        s.raised = true;
        for t in &s.tasks {
            t.signal();
        }
    }

    fn attach(&self, task: &Arc<Task>) {
        let mut s = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if s.raised {
            task.signal();
        }
        s.tasks.push(Arc::clone(task));
    }

    fn detach(&self, task: &Arc<Task>) {
        let mut s = self.0.lock().unwrap_or_else(|e| e.into_inner());
        s.tasks.retain(|t| !Arc::ptr_eq(t, task));
    }
}

/// Who makes a request: the task module code sees as `current`, the
/// process whose memory its user pointers reach, and its signal.
#[derive(Clone, Default)]
pub struct Requester {
    /// The `task_struct` contents.
    pub task: TaskInfo,
    /// The process behind user pointers outside the request's buffers.
    pub memory: Option<i32>,
    /// Raised when the program is signalled while the request runs.
    pub signal: Signal,
}

impl Requester {
    /// Thread `tid` of a program, as it is now; `None` when it is gone.
    pub fn process(tid: i32) -> Option<Requester> {
        Some(Requester {
            task: TaskInfo::of_process(tid)?,
            memory: Some(tid),
            signal: Signal::default(),
        })
    }

    /// The embedding program's thread itself.
    pub fn this_thread() -> Requester {
        let task = TaskInfo::this_thread();
        Requester {
            memory: Some(task.pid),
            task,
            signal: Signal::default(),
        }
    }
}

/// (host, device number) -> (inode address, open count).
type InodeTable = Mutex<HashMap<(u64, u16), (usize, u32)>>;

/// Runs module method `addr` with `args` as `caller`'s task, `space` as
/// its user memory, the big lock held when `bkl`; the owning module is
/// pinned for the call. `EIO` when no module holds `addr` or it oopsed.
pub(crate) fn run_method(
    sh: &Arc<Shared>,
    what: &'static str,
    addr: u64,
    args: [u64; 6],
    caller: &Requester,
    space: UserSpace,
    bkl: bool,
) -> Result<i64, Errno> {
    let task = Arc::new(Task::new(&caller.task));
    caller.signal.attach(&task);
    let run = || -> Result<i64, Errno> {
        let mut st = sh.lock()?;
        let Some(slot) = st.modules.slot_containing(addr, 1) else {
            drop(st);
            sh.kernel.log(
                crate::services::KERN_ERR,
                &format!("umod: {what} of a device whose driver is gone: EIO"),
            );
            return Err(Errno::EIO);
        };
        let id = st.modules[slot].id;
        pin::run(sh, &mut st, id, Hold::Pinned, what, addr, args)
            .map(i64::from)
            .map_err(|_| Errno::EIO)
    };
    let r = sched::with_task(&task, || {
        uaccess::with_user(space, || match bkl {
            true => sched::with_bkl(run),
            false => run(),
        })
    });
    caller.signal.detach(&task);
    r
}

/// Inodes of device nodes in use: one per (host, device number).
fn inodes() -> &'static InodeTable {
    static I: OnceLock<InodeTable> = OnceLock::new();
    I.get_or_init(Default::default)
}

/// 2.4's result convention: a negative errno, or a count.
fn result(ret: i64) -> Result<i64, Errno> {
    match ret {
        // -ERESTARTSYS, -ERESTARTNOINTR, -ERESTARTNOHAND: the program
        // was signalled; without a restart it sees EINTR.
        -514..=-512 => Err(Errno::EINTR),
        r if (-4095..0).contains(&r) => Err(Errno((-r) as i32)),
        r => Ok(r),
    }
}

/// One open file description on a module's character device.
pub struct OpenFile {
    sh: Arc<Shared>,
    file: NonNull<KFile>,
    inode_key: (u64, u16),
    inode: NonNull<KInode>,
    /// The module whose count the open holds (`fops->owner`).
    owner: Option<u64>,
    /// Poll registrations still on the driver's queues: (queue, entry).
    polls: Mutex<Vec<(u64, u64)>>,
    poller: Mutex<Option<Arc<Task>>>,
}

// SAFETY: the struct file belongs to this object alone until release;
// module code may use it from any thread, as 2.4 drivers did.
unsafe impl Send for OpenFile {}
// SAFETY: as above; concurrent operations are the driver's business, as
// they were in 2.4 (read and write run without any lock).
unsafe impl Sync for OpenFile {}

impl OpenFile {
    /// `open()` of device `major:minor` with `flags` (O_ACCMODE and the
    /// rest), by `caller`; `mode` and ids are the node's.
    pub(crate) fn open(
        sh: &Arc<Shared>,
        rdev: (u32, u32),
        flags: u32,
        node: (u16, u32, u32),
        caller: &Requester,
    ) -> Result<OpenFile, Errno> {
        let (major, minor) = rdev;
        if major == 0 || major >= 255 || minor > 255 {
            return Err(Errno::ENODEV);
        }
        let fops = sh
            .kernel
            .chrdevs()
            .get(major)
            .map(|c| c.fops)
            .ok_or(Errno::ENODEV)?;
        let kdev = ((major << 8) | minor) as u16;
        let key = (sh.id, kdev);
        let inode = {
            let mut map = inodes().lock().unwrap_or_else(|e| e.into_inner());
            let e = map.entry(key).or_insert((0, 0));
            if e.0 == 0 {
                // SAFETY: allocates and fills a new inode.
                let i = unsafe {
                    umod_inode_new(
                        kdev,
                        S_IFCHR | (node.0 & 0o7777),
                        u64::from(kdev),
                        node.1,
                        node.2,
                    )
                };
                e.0 = i as usize;
            }
            e.1 += 1;
            e.0 as *mut KInode
        };
        let inode = NonNull::new(inode).ok_or(Errno::ENOMEM)?;
        // SAFETY: `inode` is live (counted above); the file is new.
        let file = unsafe {
            umod_file_new(
                inode.as_ptr(),
                fops,
                flags | O_LARGEFILE,
                caller.task.uids[3],
                caller.task.gids[3],
            )
        };
        let mut of = OpenFile {
            sh: Arc::clone(sh),
            file: NonNull::new(file).ok_or(Errno::ENOMEM)?,
            inode_key: key,
            inode,
            owner: None,
            polls: Mutex::new(Vec::new()),
            poller: Mutex::new(None),
        };
        // fops_get: the owner's count, unless it is being removed.
        let owner_addr = of.fop(Fop::Owner);
        if owner_addr != 0 {
            match of.owner_get(owner_addr) {
                Ok(id) => of.owner = Some(id),
                Err(e) => {
                    of.free();
                    std::mem::forget(of);
                    return Err(e);
                }
            }
        }
        let open = of.fop(Fop::Open);
        if open != 0 {
            let args = [inode.as_ptr() as u64, file as u64, 0, 0, 0, 0];
            let r = of.call(
                "open",
                open,
                args,
                caller,
                UserSpace::of_process(caller.memory),
                true,
            );
            if let Err(e) = r.and_then(|v| result(i64::from(v as i32))) {
                // The driver's release is not called for a failed open.
                of.owner_put();
                of.free();
                std::mem::forget(of);
                return Err(e);
            }
        }
        // SAFETY: the file is live.
        unsafe { umod_file_clear_open_flags(of.file.as_ptr()) };
        Ok(of)
    }

    fn owner_get(&self, owner_addr: u64) -> Result<u64, Errno> {
        let sh = &self.sh;
        let st = sh.lock()?;
        let slot = st.index_of_addr(owner_addr).ok_or(Errno::ENODEV)?;
        let m = &st.modules[slot];
        if sh.flags(m) & umod_abi::MOD_DELETED != 0 {
            return Err(Errno::ENODEV);
        }
        sh.add_usecount(m, 1);
        sh.or_flags(m, umod_abi::MOD_VISITED | umod_abi::MOD_USED_ONCE);
        Ok(m.id)
    }

    fn fop(&self, which: Fop) -> u64 {
        // SAFETY: the file is live until `free`; f_op points to the
        // driver's table, which the owner count (or the driver) keeps.
        unsafe { umod_file_fop(self.file.as_ptr(), which as u32) }
    }

    fn mode(&self) -> u32 {
        // SAFETY: the file is live.
        unsafe { umod_file_mode(self.file.as_ptr()) }
    }

    /// Address of the `struct file` module code sees.
    pub fn file_addr(&self) -> u64 {
        self.file.as_ptr() as u64
    }

    /// Address of the file's `f_pos`.
    fn pos_addr(&self) -> u64 {
        self.file_addr() + 56
    }

    /// Runs driver method `addr` for `caller`.
    fn call(
        &self,
        what: &'static str,
        addr: u64,
        args: [u64; 6],
        caller: &Requester,
        space: UserSpace,
        bkl: bool,
    ) -> Result<i64, Errno> {
        run_method(&self.sh, what, addr, args, caller, space, bkl)
    }

    /// The file's position (`f_pos`).
    pub fn pos(&self) -> i64 {
        // SAFETY: f_pos is a live, aligned word of the file; module code
        // may move it concurrently, as in 2.4.
        unsafe { std::ptr::read_volatile(self.pos_addr() as *const i64) }
    }

    /// Sets the position, for a mechanism that keeps it outside (FUSE
    /// passes an offset with each read and write).
    pub fn set_pos(&self, pos: i64) {
        // SAFETY: as in `pos`.
        unsafe { std::ptr::write_volatile(self.pos_addr() as *mut i64, pos) };
    }

    /// Whether lseek means something: the driver has no `llseek`, or a
    /// method other than `no_llseek`.
    pub fn seekable(&self) -> bool {
        let llseek = self.fop(Fop::Llseek);
        llseek == 0 || llseek != no_llseek_addr()
    }

    /// `read(fd, buf, len)` at the file's position (the driver moves it).
    pub fn read(&self, len: usize, caller: &Requester) -> Result<Vec<u8>, Errno> {
        if self.mode() & FMODE_READ == 0 {
            return Err(Errno::EBADF);
        }
        let read = self.fop(Fop::Read);
        if read == 0 {
            return Err(Errno::EINVAL);
        }
        let mut buf = vec![0u8; len];
        let user = buf.as_mut_ptr() as u64;
        let space = UserSpace::of_process(caller.memory).with_buffer(user, &mut buf);
        let args = [self.file_addr(), user, len as u64, self.pos_addr(), 0, 0];
        let n = self.call("read", read, args, caller, space, false)?;
        let n = result(i64::from(n as i32))?;
        buf.truncate((n as usize).min(len));
        Ok(buf)
    }

    /// `write(fd, data)` at the file's position.
    pub fn write(&self, data: &[u8], caller: &Requester) -> Result<usize, Errno> {
        if self.mode() & FMODE_WRITE == 0 {
            return Err(Errno::EBADF);
        }
        let write = self.fop(Fop::Write);
        if write == 0 {
            return Err(Errno::EINVAL);
        }
        let mut buf = data.to_vec();
        let user = buf.as_mut_ptr() as u64;
        let space = UserSpace::of_process(caller.memory).with_buffer(user, &mut buf);
        let args = [
            self.file_addr(),
            user,
            data.len() as u64,
            self.pos_addr(),
            0,
            0,
        ];
        let n = self.call("write", write, args, caller, space, false)?;
        Ok(result(i64::from(n as i32))? as usize)
    }

    /// `ioctl(fd, cmd, arg)`. `io` holds the bytes at `arg` the mechanism
    /// copied in (and takes back the ones the driver wrote there); other
    /// user addresses reach the caller's memory.
    pub fn ioctl(
        &self,
        cmd: u32,
        arg: u64,
        io: &mut [u8],
        caller: &Requester,
    ) -> Result<i64, Errno> {
        let ioctl = self.fop(Fop::Ioctl);
        if ioctl == 0 {
            return Err(Errno::ENOTTY);
        }
        let mut space = UserSpace::of_process(caller.memory);
        if !io.is_empty() {
            space = space.with_buffer(arg, io);
        }
        let args = [
            self.inode.as_ptr() as u64,
            self.file_addr(),
            u64::from(cmd),
            arg,
            0,
            0,
        ];
        let n = self.call("ioctl", ioctl, args, caller, space, true)?;
        result(i64::from(n as i32))
    }

    /// `lseek(fd, off, whence)`: whence > 2 is EINVAL before the driver;
    /// without a method, default_llseek.
    pub fn llseek(&self, off: i64, whence: u32, caller: &Requester) -> Result<i64, Errno> {
        if whence > 2 {
            return Err(Errno::EINVAL);
        }
        let llseek = self.fop(Fop::Llseek);
        if llseek == 0 {
            // SAFETY: the file is live; default_llseek only touches it.
            return result(unsafe { umod_default_llseek(self.file.as_ptr(), off, whence as i32) });
        }
        let args = [self.file_addr(), off as u64, u64::from(whence), 0, 0, 0];
        let n = self.call("llseek", llseek, args, caller, UserSpace::default(), true)?;
        result(n)
    }

    /// The driver's poll mask. With `notify`, the queues it registered on
    /// stay registered until one is woken, which calls `notify` once.
    pub fn poll(
        &self,
        caller: &Requester,
        notify: Option<Box<dyn Fn() + Send + Sync>>,
    ) -> Result<u32, Errno> {
        let poll = self.fop(Fop::Poll);
        if poll == 0 {
            return Ok(DEFAULT_POLLMASK);
        }
        self.forget_polls();
        let table = match notify {
            Some(notify) => {
                let fired = std::sync::atomic::AtomicBool::new(false);
                let task = Arc::new(Task::poller(move || {
                    if !fired.swap(true, std::sync::atomic::Ordering::SeqCst) {
                        notify();
                    }
                }));
                let addr = task.as_ptr() as u64;
                *self.poller.lock().unwrap_or_else(|e| e.into_inner()) = Some(task);
                poll_tables()
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(addr, self as *const OpenFile as usize);
                addr
            }
            None => 0,
        };
        let args = [self.file_addr(), table, 0, 0, 0, 0];
        let r = self.call("poll", poll, args, caller, UserSpace::default(), false);
        poll_tables()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&table);
        Ok(r? as u32)
    }

    fn forget_polls(&self) {
        let polls = std::mem::take(&mut *self.polls.lock().unwrap_or_else(|e| e.into_inner()));
        for (q, w) in polls {
            // SAFETY: (q, w) were registered by __pollwait for this file
            // and are removed once; the queue belongs to the driver, whose
            // module the open keeps loaded.
            unsafe { umod_poll_forget(q, w) };
        }
        *self.poller.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// `close()` of one descriptor: the driver's flush, whose result is
    /// close's.
    pub fn flush(&self, caller: &Requester) -> Result<(), Errno> {
        let flush = self.fop(Fop::Flush);
        if flush == 0 {
            return Ok(());
        }
        let args = [self.file_addr(), 0, 0, 0, 0, 0];
        let n = self.call("flush", flush, args, caller, UserSpace::default(), true)?;
        result(i64::from(n as i32)).map(|_| ())
    }

    /// The last close: the driver's release (its result ignored), then the
    /// owner's count is dropped.
    pub fn release(self, caller: &Requester) {
        self.forget_polls();
        let release = self.fop(Fop::Release);
        if release != 0 {
            let args = [self.inode.as_ptr() as u64, self.file_addr(), 0, 0, 0, 0];
            let _ = self.call(
                "release",
                release,
                args,
                caller,
                UserSpace::default(),
                false,
            );
        }
        self.owner_put();
        self.free();
        std::mem::forget(self);
    }

    fn owner_put(&self) {
        let Some(id) = self.owner else { return };
        if let Ok(st) = self.sh.lock() {
            if let Some(slot) = st.index_of_id(id) {
                self.sh.add_usecount(&st.modules[slot], -1);
            }
        }
        self.sh.notify_released();
    }

    fn free(&self) {
        // SAFETY: called once, when nothing refers to the file any more.
        unsafe { umod_file_free(self.file.as_ptr()) };
        let mut map = inodes().lock().unwrap_or_else(|e| e.into_inner());
        if let Some(e) = map.get_mut(&self.inode_key) {
            e.1 -= 1;
            if e.1 == 0 {
                map.remove(&self.inode_key);
                // SAFETY: the last file on the node is gone.
                unsafe { umod_inode_free(self.inode.as_ptr()) };
            }
        }
    }
}

impl Drop for OpenFile {
    /// A file dropped without `release` (its program vanished): released
    /// as at exit, by the host's own thread.
    fn drop(&mut self) {
        let me = OpenFile {
            sh: Arc::clone(&self.sh),
            file: self.file,
            inode_key: self.inode_key,
            inode: self.inode,
            owner: self.owner,
            polls: Mutex::new(std::mem::take(
                &mut *self.polls.lock().unwrap_or_else(|e| e.into_inner()),
            )),
            poller: Mutex::new(None),
        };
        me.release(&Requester::this_thread());
    }
}

/// Poll tables being filled: the poller task's address → the file.
fn poll_tables() -> &'static Mutex<HashMap<u64, usize>> {
    static T: OnceLock<Mutex<HashMap<u64, usize>>> = OnceLock::new();
    T.get_or_init(Default::default)
}

/// The poller task of poll table `pt` (its address is the table's).
#[no_mangle]
pub extern "C" fn umod_poll_task(pt: u64) -> u64 {
    match poll_tables()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .contains_key(&pt)
    {
        true => pt,
        false => 0,
    }
}

/// Keeps a registration made by `__pollwait` on table `pt`.
#[no_mangle]
pub extern "C" fn umod_poll_remember(pt: u64, q: u64, w: u64) {
    let tables = poll_tables().lock().unwrap_or_else(|e| e.into_inner());
    if let Some(&file) = tables.get(&pt) {
        // SAFETY: the file registered the table for the duration of its
        // poll call, which is running now (this is called from it).
        let file = unsafe { &*(file as *const OpenFile) };
        file.polls
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((q, w));
    }
}

/// A write to module /proc entry `name` (2.4's `proc_file_write`): the
/// entry's `write_proc(file, buffer, count, data)` with `data` as the
/// user buffer; `EACCES` when the entry's mode and ids refuse `writer`,
/// `EIO` when it has no write function (as 2.4).
pub(crate) fn write_proc(
    sh: &Arc<Shared>,
    writer: &crate::caller::FileCreds,
    name: &[u8],
    data: &[u8],
    caller: &Requester,
) -> Result<usize, Errno> {
    use crate::services::proc::field;
    let entry = sh.kernel.procs().get(name).ok_or(Errno::ENOENT)?;
    let w = sh.window.mapping();
    let word = |addr: u64| {
        let mut b = [0u8; 8];
        w.read(addr, &mut b);
        u64::from_le_bytes(b)
    };
    let (mode, uid, gid) = (
        word(entry.addr + field::MODE) as u32,
        word(entry.addr + field::UID) as u32,
        word(entry.addr + field::GID) as u32,
    );
    if !writer.may(mode, uid, gid, crate::caller::MAY_WRITE) {
        return Err(Errno::EACCES);
    }
    let write_proc = word(entry.addr + field::WRITE_PROC);
    if write_proc == 0 {
        return Err(Errno::EIO);
    }
    let private = word(entry.addr + field::DATA);
    let mut buf = data.to_vec();
    let user = buf.as_mut_ptr() as u64;
    let len = buf.len() as u64;
    let space = UserSpace::of_process(caller.memory).with_buffer(user, &mut buf);
    // No `struct file` for /proc entries here: the argument is NULL, which
    // the write functions of the era ignore.
    let args = [0, user, len, private, 0, 0];
    let n = run_method(sh, "a /proc write", write_proc, args, caller, space, false)?;
    Ok(result(i64::from(n as i32))? as usize)
}
