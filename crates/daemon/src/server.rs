//! `umod serve`: one host for the whole machine behind a Unix socket.
//!
//! Each admitted connection gets its own thread, so a slow or broken
//! client holds up nobody else, and module code runs without the host's
//! big lock, so neither does a module that spins (the watchdog stops it).
//! What every connection may hold is bounded (`limits.rs`); who may do
//! what is decided per request (`creds.rs`).
//!
//! SIGTERM or SIGINT stops accepting, tells idle clients, lets requests in
//! flight finish, removes every module (users first, running their
//! `cleanup`) and the socket (unless a service manager passed it: then
//! the socket is the manager's), and exits: within
//! [`DaemonConfig::stop_deadline`] in every case, even if module code
//! never gives the host back.

use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use umod_abi::Errno;
use umod_host::{Host, HostConfig};

use crate::connection::{self, Context};
use crate::creds::Peer;
use crate::limits::{Budget, Connections, Limits};
use crate::listen::{self, ListenError, Listening};
use crate::sockopt;

/// How to run the daemon.
#[derive(Clone, Debug)]
pub struct DaemonConfig {
    /// Where to listen.
    pub socket: PathBuf,
    /// The host's configuration.
    pub host: HostConfig,
    /// What each caller may hold.
    pub limits: Limits,
    /// How long after a stop is asked the process is gone at the latest,
    /// whatever module code does. `--stop-timeout`, default 10 s.
    pub stop_deadline: Duration,
}

impl DaemonConfig {
    /// Defaults for `socket`. The host keeps `/tmp/perf-PID.map` (which
    /// an embedded host does not by default): the daemon is where a
    /// machine's modules run, so where a profiler looks for them.
    pub fn new(socket: PathBuf) -> DaemonConfig {
        DaemonConfig {
            socket,
            host: HostConfig {
                perf_map: true,
                ..HostConfig::default()
            },
            limits: Limits::default(),
            stop_deadline: Duration::from_secs(10),
        }
    }
}

/// Why the daemon could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The socket could not be set up.
    #[error("{0}")]
    Listen(#[from] ListenError),
    /// The host could not start.
    #[error("cannot start the module host: {0}")]
    Host(io::Error),
}

/// A bound daemon, ready to serve.
pub struct Daemon {
    listening: Listening,
    path: PathBuf,
    host: Arc<Host>,
    config: DaemonConfig,
    connections: Arc<Connections>,
    budget: Arc<Budget>,
}

/// How long the accept loop waits between looks at the stop flag.
const ACCEPT_POLL: Duration = Duration::from_millis(100);

/// Stack of a connection's thread: module code (init, cleanup) runs on it,
/// as it ran on a 2.4 kernel stack of 8 KiB; this leaves room for the
/// host's own calls around it.
const CONNECTION_STACK: usize = 1 << 20;

impl Daemon {
    /// Binds the socket (mode 0666, without following links; see
    /// `listen.rs`) and starts the host. A socket file nobody answers on
    /// is stale and replaced; a live one is not touched.
    pub fn bind(config: DaemonConfig) -> Result<Daemon, StartError> {
        let listening = listen::bind(&config.socket)?;
        Daemon::with_listener(config, listening)
    }

    /// Starts the host behind a listener made elsewhere: the socket a
    /// service manager passed (`activation.rs`), served where it is bound,
    /// whatever `config.socket` says.
    pub fn with_listener(config: DaemonConfig, listening: Listening) -> Result<Daemon, StartError> {
        let path = match listening.listener.local_addr() {
            Ok(a) if listening.is_inherited() => a.as_pathname().map(PathBuf::from),
            _ => None,
        }
        .unwrap_or_else(|| config.socket.clone());
        let host = Host::with_config(config.host.clone()).map_err(StartError::Host)?;
        let budget = Budget::new(
            config.limits.unprivileged_memory,
            config.limits.memory_per_user,
        );
        Ok(Daemon {
            listening,
            path,
            host: Arc::new(host),
            connections: Arc::new(Connections::default()),
            budget: Arc::new(budget),
            config,
        })
    }

    /// The host this daemon serves.
    pub fn host(&self) -> &Arc<Host> {
        &self.host
    }

    /// Serves until `stop` is set, then shuts down in order. Returns the
    /// modules removed at shutdown, in removal order.
    pub fn serve(self, stop: Arc<AtomicBool>) -> io::Result<Vec<String>> {
        let socket = self.path.display();
        if self.listening.is_inherited() {
            tracing::info!(%socket, "serving on the socket the service manager passed");
        } else {
            tracing::info!(%socket, "serving");
        }
        // Connections wait on the read end; closing the write end wakes
        // them all when the daemon stops.
        let (stopped, stopping) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)?;
        let stopped = Arc::new(stopped);
        let mut workers: Vec<JoinHandle<()>> = Vec::new();
        while !stop.load(Ordering::SeqCst) {
            let mut fds = [rustix::event::PollFd::new(
                &self.listening.listener,
                rustix::event::PollFlags::IN,
            )];
            let timeout = rustix::time::Timespec {
                tv_sec: 0,
                tv_nsec: ACCEPT_POLL.as_nanos() as i64,
            };
            match rustix::event::poll(&mut fds, Some(&timeout)) {
                Ok(0) | Err(rustix::io::Errno::INTR) => continue,
                Ok(_) => {}
                Err(e) => return Err(e.into()),
            }
            match self.listening.listener.accept() {
                Ok((stream, _)) => {
                    workers.retain(|w| !w.is_finished());
                    if let Some(w) = self.admit(stream, &stopped) {
                        workers.push(w);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => tracing::warn!("accept: {e}"),
            }
        }
        drop(stopping);
        self.stop(workers)
    }

    /// Starts serving `stream` on a thread of its own, if its peer may
    /// open one more connection; otherwise tells it why not.
    fn admit(&self, stream: UnixStream, stopped: &Arc<OwnedFd>) -> Option<JoinHandle<()>> {
        // Accepted sockets are non-blocking like the listener; connection
        // threads wait with poll and want blocking writes.
        let _ = stream.set_nonblocking(false);
        let _ = sockopt::pass_credentials(&stream);
        let peer = match Peer::of(&stream) {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!("no peer credentials: {e}");
                return None;
            }
        };
        let admission =
            match self
                .connections
                .admit(&self.config.limits, peer.uid, peer.root_at_connect())
            {
                Ok(a) => a,
                Err(why) => {
                    tracing::warn!(pid = peer.pid, uid = peer.uid, "{why}");
                    connection::refuse(stream, Errno::EAGAIN, &why.to_string());
                    return None;
                }
            };
        tracing::debug!(pid = peer.pid, uid = peer.uid, "client connected");
        let host = Arc::clone(&self.host);
        let budget = Arc::clone(&self.budget);
        let limits = self.config.limits.clone();
        let stopped = Arc::clone(stopped);
        let spawned = std::thread::Builder::new()
            .name("umod-client".into())
            .stack_size(CONNECTION_STACK)
            .spawn(move || {
                let cx = Context {
                    host: &host,
                    limits: &limits,
                    budget: &budget,
                    stop: stopped.as_fd(),
                };
                connection::serve(stream, &peer, &cx);
                drop(admission);
            });
        match spawned {
            Ok(w) => Some(w),
            Err(e) => {
                tracing::error!("cannot start a client thread: {e}");
                None
            }
        }
    }

    /// Stops: no new connections, the socket removed (if this daemon bound
    /// it), connections wound down, every module removed. A watchdog
    /// thread ends the process if that takes longer than the stop deadline.
    fn stop(self, workers: Vec<JoinHandle<()>>) -> io::Result<Vec<String>> {
        let deadline = self.config.stop_deadline;
        tracing::info!("stopping: no new connections");
        std::thread::Builder::new()
            .name("umod-stop".into())
            .spawn(move || {
                std::thread::sleep(deadline);
                tracing::error!(
                    "still stopping after {} s: module code does not return; exiting now",
                    deadline.as_secs()
                );
                std::process::exit(1);
            })?;
        self.listening.remove();
        drop(self.listening);
        let started = Instant::now();
        for w in workers {
            // Connections notice the stop within a poll interval; one whose
            // module code runs is bounded by the host's watchdog.
            while !w.is_finished() && started.elapsed() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
            if w.is_finished() {
                let _ = w.join();
            }
        }
        // What the modules' cleanups say goes to our log as they go, as
        // klogd would.
        let mut seen = self.host.dmesg().last().map(|r| r.seq + 1).unwrap_or(0);
        let host = Arc::clone(&self.host);
        let removed = self
            .host
            .shutdown_each(|name| {
                tracing::info!(module = %String::from_utf8_lossy(name), "removed at shutdown");
                let from = seen;
                for r in host.dmesg().into_iter().filter(|r| r.seq >= from) {
                    tracing::info!(level = r.level, "kernel: {}", r.text);
                    seen = r.seq + 1;
                }
            })
            .map_err(|e| io::Error::other(e.to_string()))?
            .into_iter()
            .map(|n| String::from_utf8_lossy(&n).into_owned())
            .collect::<Vec<_>>();
        Ok(removed)
    }
}

/// Makes the C library give large buffers back to the system as soon as
/// they are freed (a fixed mmap threshold of 128 KiB instead of the one
/// that grows with use), and keeps its per-thread arenas few: so what the
/// daemon holds follows what its requests hold, and the memory budget is
/// what bounds it. For the process that runs the daemon.
pub fn tune_allocator() {
    // SAFETY: mallopt only sets allocator parameters.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 << 10);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 256 << 10);
        libc::mallopt(libc::M_ARENA_MAX, 4);
    }
}
