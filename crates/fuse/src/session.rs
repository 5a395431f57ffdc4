//! A served connection: the `/dev/fuse` descriptor, the file system, and
//! the pool of reader threads that take requests and run the handlers.
//!
//! Each reader polls the (non-blocking) device and a shutdown pipe, reads
//! one request and handles it to the end on its own thread, so a handler
//! that sleeps holds only its thread. When a reader takes a request and no
//! other reader is idle, it starts one more, up to
//! [`MountOptions::max_threads`]; readers beyond [`MAX_IDLE`] idle ones
//! exit. Dropping the [`Session`] detaches the mount, marks every request in
//! flight interrupted, stops the readers and joins them.

use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use rustix::event::{PollFd, PollFlags};
use rustix::fs::OFlags;

use crate::dispatch;
use crate::filesystem::{ConnectionInfo, Filesystem};
use crate::mount::{self, MountOptions};
use crate::reply::Channel;
use crate::request::InFlight;

/// The largest WRITE negotiated (and READ expected): 128 KiB.
pub const MAX_WRITE: u32 = 128 * 1024;
/// Idle readers kept; more exit.
pub const MAX_IDLE: usize = 4;
/// What one read of the device needs room for: a header, the WRITE
/// request structure and `MAX_WRITE` bytes (the kernel refuses a smaller
/// buffer).
const BUFFER: usize = MAX_WRITE as usize + 4096;

fn lock<T: ?Sized>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[derive(Default)]
struct Pool {
    threads: Vec<JoinHandle<()>>,
    total: usize,
    idle: usize,
    peak: usize,
}

pub(crate) struct Shared {
    pub(crate) fs: Box<dyn Filesystem>,
    pub(crate) channel: Arc<Channel>,
    pub(crate) inflight: InFlight,
    pub(crate) conn: OnceLock<ConnectionInfo>,
    wake: OwnedFd,
    pool: Mutex<Pool>,
    max_threads: usize,
    stopping: AtomicBool,
    ended: Mutex<bool>,
    ended_cv: Condvar,
}

impl Shared {
    /// The connection is over (DESTROY, the kernel's ENODEV, a failed INIT).
    pub(crate) fn end(&self) {
        *lock(&self.ended) = true;
        self.ended_cv.notify_all();
    }
}

/// A mounted (or adopted) FUSE connection being served.
pub struct Session {
    shared: Arc<Shared>,
    wake: Option<OwnedFd>,
    mountpoint: Option<PathBuf>,
}

impl Session {
    /// Mounts `fs` on `dir` and starts serving it. Fails as open(2) of the
    /// device or mount(2) fail (`EACCES`, `EPERM`, ...).
    pub fn mount(
        dir: &Path,
        fs: impl Filesystem,
        options: &MountOptions,
    ) -> std::io::Result<Session> {
        let fd = mount::open_device(&options.device)?;
        mount::mount(dir, &fd, options)?;
        let mut session =
            Session::start(fd, Box::new(fs), options.max_threads).inspect_err(|_| {
                let _ = mount::unmount(dir);
            })?;
        session.mountpoint = Some(dir.to_path_buf());
        Ok(session)
    }

    /// Serves a connection already mounted by someone else (`fd` is the
    /// `/dev/fuse` descriptor named in the mount). Dropping the session
    /// does not unmount; it closes the descriptor, which aborts the
    /// connection if it was the last one.
    pub fn from_fd(fd: OwnedFd, fs: impl Filesystem) -> std::io::Result<Session> {
        Session::start(fd, Box::new(fs), MountOptions::default().max_threads)
    }

    fn start(fd: OwnedFd, fs: Box<dyn Filesystem>, max_threads: usize) -> std::io::Result<Session> {
        let flags = rustix::fs::fcntl_getfl(&fd)?;
        rustix::fs::fcntl_setfl(&fd, flags | OFlags::NONBLOCK)?;
        let (wake, wake_w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)?;
        let shared = Arc::new(Shared {
            fs,
            channel: Arc::new(Channel::new(fd)),
            inflight: InFlight::default(),
            conn: OnceLock::new(),
            wake,
            pool: Mutex::default(),
            max_threads: max_threads.max(1),
            stopping: AtomicBool::new(false),
            ended: Mutex::new(false),
            ended_cv: Condvar::new(),
        });
        let mut pool = lock(&shared.pool);
        spawn_reader(&shared, &mut pool)?;
        drop(pool);
        Ok(Session {
            shared,
            wake: Some(wake_w),
            mountpoint: None,
        })
    }

    /// Where the session mounted, if it did.
    pub fn mountpoint(&self) -> Option<&Path> {
        self.mountpoint.as_deref()
    }

    /// What FUSE_INIT settled, once it has.
    pub fn connection(&self) -> Option<ConnectionInfo> {
        self.shared.conn.get().copied()
    }

    /// Reader threads alive now, and the most there were at once.
    pub fn threads(&self) -> (usize, usize) {
        let pool = lock(&self.shared.pool);
        (pool.total, pool.peak)
    }

    /// Waits until the kernel ends the connection (the file system was
    /// unmounted and released, or DESTROY came) or `timeout` passes; true
    /// if it ended.
    pub fn wait_end(&self, timeout: Duration) -> bool {
        let ended = lock(&self.shared.ended);
        let (ended, _) = self
            .shared
            .ended_cv
            .wait_timeout_while(ended, timeout, |e| !*e)
            .unwrap_or_else(PoisonError::into_inner);
        *ended
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if let Some(dir) = &self.mountpoint {
            if let Err(e) = mount::unmount(dir) {
                tracing::warn!("fuse: unmounting {}: {e}", dir.display());
            }
        }
        self.shared.stopping.store(true, Ordering::SeqCst);
        self.shared.inflight.interrupt_all();
        // The pipe's reading end becomes readable (end of file) for every
        // reader at once when its only writing end closes.
        drop(self.wake.take());
        loop {
            let threads = std::mem::take(&mut lock(&self.shared.pool).threads);
            if threads.is_empty() {
                break;
            }
            for t in threads {
                let _ = t.join();
            }
        }
    }
}

fn spawn_reader(shared: &Arc<Shared>, pool: &mut Pool) -> std::io::Result<()> {
    pool.threads.retain(|t| !t.is_finished());
    let s = Arc::clone(shared);
    let handle = std::thread::Builder::new()
        .name("fuse-reader".into())
        .spawn(move || reader(&s))?;
    pool.threads.push(handle);
    pool.total += 1;
    pool.idle += 1;
    pool.peak = pool.peak.max(pool.total);
    Ok(())
}

/// What the next wait for a request saw.
enum Next {
    Request(usize),
    Again,
    Stop,
}

fn next_request(shared: &Shared, buf: &mut [u8]) -> Next {
    if shared.stopping.load(Ordering::SeqCst) {
        return Next::Stop;
    }
    let fd = shared.channel.fd();
    // A pending interrupt must be answered even if nothing else comes.
    let timeout = rustix::time::Timespec {
        tv_sec: 0,
        tv_nsec: 20_000_000,
    };
    let pending = shared.inflight.has_early();
    let mut fds = [
        PollFd::new(fd, PollFlags::IN),
        PollFd::new(&shared.wake, PollFlags::IN),
    ];
    match rustix::event::poll(&mut fds, pending.then_some(&timeout)) {
        Ok(_) | Err(rustix::io::Errno::INTR) => {}
        Err(e) => {
            tracing::error!("fuse: poll: {e}");
            return Next::Stop;
        }
    }
    if !fds[1].revents().is_empty() {
        return Next::Stop;
    }
    for unique in shared.inflight.expired() {
        shared.channel.error(unique, libc::EAGAIN);
    }
    match rustix::io::read(fd.as_fd(), &mut *buf) {
        Ok(0) => {
            // A socket standing in for the device, closed by its peer.
            tracing::debug!("fuse: the connection was closed");
            shared.end();
            Next::Stop
        }
        Ok(n) => Next::Request(n),
        // Nothing (another reader took it), a signal, or a request that
        // was interrupted before it could be read.
        Err(rustix::io::Errno::AGAIN | rustix::io::Errno::INTR | rustix::io::Errno::NOENT) => {
            Next::Again
        }
        Err(rustix::io::Errno::NODEV) => {
            tracing::debug!("fuse: the connection ended");
            shared.end();
            Next::Stop
        }
        Err(e) => {
            tracing::error!("fuse: reading a request: {e}");
            shared.end();
            Next::Stop
        }
    }
}

fn reader(shared: &Arc<Shared>) {
    let mut buf = vec![0u8; BUFFER];
    loop {
        let n = match next_request(shared, &mut buf) {
            Next::Request(n) => n,
            Next::Again => continue,
            Next::Stop => break,
        };
        {
            let mut pool = lock(&shared.pool);
            pool.idle -= 1;
            if pool.idle == 0
                && pool.total < shared.max_threads
                && !shared.stopping.load(Ordering::SeqCst)
            {
                if let Err(e) = spawn_reader(shared, &mut pool) {
                    tracing::warn!("fuse: starting a reader thread: {e}");
                }
            }
        }
        if dispatch::handle(shared, &buf[..n]) {
            shared.end();
        }
        let mut pool = lock(&shared.pool);
        if pool.idle >= MAX_IDLE {
            pool.total -= 1;
            return;
        }
        pool.idle += 1;
    }
    let mut pool = lock(&shared.pool);
    pool.total -= 1;
    pool.idle -= 1;
}
