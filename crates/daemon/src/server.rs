//! `umod serve`: one host for the whole machine behind a Unix socket.
//!
//! Each connection gets its own thread, so a slow or broken client holds
//! up nobody else; every request runs as the peer's credentials
//! (`SO_PEERCRED`, `CAP_SYS_MODULE` from its effective set). SIGTERM or
//! SIGINT stops accepting, lets requests in flight finish, removes every
//! module (users first, running their `cleanup`) and the socket.

use std::io::{self, Read};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use umod_abi::{Errno, UTS_RELEASE};
use umod_host::{Caller, Host, HostConfig, LoadOptions, Personality, ScratchSpace};

use crate::creds;
use crate::protocol::{self, CallKind, LogLine, MapLine, Request, Response, WireError};

/// How to run the daemon.
#[derive(Clone, Debug)]
pub struct DaemonConfig {
    /// Where to listen.
    pub socket: PathBuf,
    /// The host's configuration.
    pub host: HostConfig,
    /// Largest request accepted from a caller holding CAP_SYS_MODULE (an
    /// object or image travels in one request), in bytes.
    pub max_frame: u32,
    /// Largest request accepted from any other caller (they can only
    /// query), in bytes: what an unprivileged client can make the daemon
    /// allocate per connection.
    pub max_unprivileged_frame: u32,
    /// Most connections served at once.
    pub max_clients: usize,
}

impl DaemonConfig {
    /// Defaults for `socket`.
    pub fn new(socket: PathBuf) -> DaemonConfig {
        DaemonConfig {
            socket,
            host: HostConfig::default(),
            max_frame: protocol::DEFAULT_MAX_FRAME,
            max_unprivileged_frame: 1 << 20,
            max_clients: 256,
        }
    }
}

/// Why the daemon could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A live daemon answers on the socket already.
    #[error("another umod daemon is already serving on {0}")]
    AlreadyServing(PathBuf),
    /// The socket could not be set up.
    #[error("cannot listen on {path}: {source}")]
    Socket {
        /// The socket path.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The host could not start.
    #[error("cannot start the module host: {0}")]
    Host(io::Error),
}

/// A bound daemon, ready to serve.
pub struct Daemon {
    listener: UnixListener,
    path: PathBuf,
    host: Arc<Host>,
    config: DaemonConfig,
}

/// How waiting for a request notices a stop: the read timeout between
/// requests.
const POLL: Duration = Duration::from_millis(100);
/// How long a client may take to send the rest of a request it started.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

impl Daemon {
    /// Starts the host and binds the socket (mode 0666). A socket file
    /// nobody answers on is stale and replaced; a live one is not touched.
    pub fn bind(config: DaemonConfig) -> Result<Daemon, StartError> {
        let path = config.socket.clone();
        let sock_err = |source| StartError::Socket {
            path: path.clone(),
            source,
        };
        if path.exists() {
            if UnixStream::connect(&path).is_ok() {
                return Err(StartError::AlreadyServing(path));
            }
            std::fs::remove_file(&path).map_err(sock_err)?;
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(sock_err)?;
        }
        let host = Host::with_config(config.host.clone()).map_err(StartError::Host)?;
        let listener = UnixListener::bind(&path).map_err(sock_err)?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666))
            .map_err(sock_err)?;
        listener.set_nonblocking(true).map_err(sock_err)?;
        Ok(Daemon {
            listener,
            path,
            host: Arc::new(host),
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
        tracing::info!(socket = %self.path.display(), "serving");
        let active = Arc::new(AtomicUsize::new(0));
        let mut workers: Vec<JoinHandle<()>> = Vec::new();
        while !stop.load(Ordering::SeqCst) {
            match self.listener.accept() {
                Ok((stream, _)) => {
                    workers.retain(|w| !w.is_finished());
                    if active.load(Ordering::SeqCst) >= self.config.max_clients {
                        refuse(stream, Errno::EAGAIN, "too many clients");
                        continue;
                    }
                    let (host, stop, active) = (
                        Arc::clone(&self.host),
                        Arc::clone(&stop),
                        Arc::clone(&active),
                    );
                    let limits = (self.config.max_frame, self.config.max_unprivileged_frame);
                    active.fetch_add(1, Ordering::SeqCst);
                    let worker = std::thread::Builder::new()
                        .name("umod-client".into())
                        .spawn(move || {
                            serve_client(stream, &host, limits, &stop);
                            active.fetch_sub(1, Ordering::SeqCst);
                        });
                    match worker {
                        Ok(w) => workers.push(w),
                        Err(e) => tracing::error!("cannot start a client thread: {e}"),
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                Err(e) => tracing::warn!("accept: {e}"),
            }
        }
        tracing::info!("stopping: no new connections");
        drop(self.listener);
        let _ = std::fs::remove_file(&self.path);
        for w in workers {
            let _ = w.join();
        }
        // What the modules' cleanups say goes to our log, as klogd would.
        let before = self.host.dmesg().last().map(|r| r.seq + 1).unwrap_or(0);
        let removed = self
            .host
            .shutdown()
            .map_err(|e| io::Error::other(e.to_string()))?
            .into_iter()
            .map(|n| String::from_utf8_lossy(&n).into_owned())
            .collect::<Vec<_>>();
        for name in &removed {
            tracing::info!(module = %name, "removed at shutdown");
        }
        for r in self.host.dmesg().into_iter().filter(|r| r.seq >= before) {
            tracing::info!(level = r.level, "kernel: {}", r.text);
        }
        Ok(removed)
    }
}

fn refuse(mut stream: UnixStream, errno: Errno, why: &str) {
    let resp = Response::Error {
        errno: errno.0,
        message: why.as_bytes().to_vec(),
    };
    let _ = protocol::write_frame(&mut stream, &resp.encode());
}

/// Reads a request, noticing `stop` while none has started.
fn next_request(
    stream: &mut UnixStream,
    max_frame: u32,
    stop: &AtomicBool,
) -> Result<Option<Vec<u8>>, WireError> {
    let mut first = [0u8; 1];
    loop {
        stream.set_read_timeout(Some(POLL))?;
        match stream.read(&mut first) {
            Ok(0) => return Ok(None),
            Ok(_) => break,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                if stop.load(Ordering::SeqCst) {
                    return Ok(None);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    stream.set_read_timeout(Some(REQUEST_TIMEOUT))?;
    let mut rest = (&first[..]).chain(&mut *stream);
    match protocol::read_frame(&mut rest, max_frame)? {
        Some(frame) => Ok(Some(frame)),
        None => Err(WireError::Malformed("connection closed inside a frame")),
    }
}

fn serve_client(
    mut stream: UnixStream,
    host: &Host,
    (max_frame, max_unprivileged): (u32, u32),
    stop: &AtomicBool,
) {
    let caller = match creds::peer(&stream) {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!("no peer credentials: {e}");
            return;
        }
    };
    tracing::debug!(
        pid = caller.pid,
        uid = caller.uid,
        cap = caller.cap_sys_module,
        "client connected"
    );
    // Only a privileged caller may send objects and images; everyone else
    // gets a limit fit for queries.
    let max_frame = if caller.cap_sys_module {
        max_frame
    } else {
        max_unprivileged
    };
    loop {
        let payload = match next_request(&mut stream, max_frame, stop) {
            Ok(Some(p)) => p,
            Ok(None) => return,
            Err(e) => {
                tracing::debug!(pid = caller.pid, "dropping client: {e}");
                if matches!(
                    e,
                    WireError::Malformed(_) | WireError::TooLarge(_) | WireError::Version(_)
                ) {
                    refuse(stream, Errno::EPROTO, &e.to_string());
                }
                return;
            }
        };
        let response = match Request::decode(&payload) {
            Ok(req) => dispatch(host, &caller, req),
            Err(e) => {
                tracing::debug!(pid = caller.pid, "bad request: {e}");
                Response::Error {
                    errno: Errno::EPROTO.0,
                    message: e.to_string().into_bytes(),
                }
            }
        };
        if protocol::write_frame(&mut stream, &response.encode()).is_err() {
            return;
        }
    }
}

fn error(errno: Errno, message: impl Into<String>) -> Response {
    Response::Error {
        errno: errno.0,
        message: message.into().into_bytes(),
    }
}

/// Runs one request as `caller`.
pub fn dispatch(host: &Host, caller: &Caller, req: Request) -> Response {
    match req {
        Request::Call {
            call,
            args,
            regions,
            on_behalf_of,
            on_behalf_cap,
        } => {
            let caller = if on_behalf_of == 0 {
                *caller
            } else {
                // The host looks at nothing but the capability, so the ids
                // stay the connection's. The forwarded process's capability
                // is the client's reading (see `on_behalf_cap`), and never
                // more privilege than the client itself has.
                Caller {
                    pid: on_behalf_of,
                    cap_sys_module: on_behalf_cap && caller.cap_sys_module,
                    ..*caller
                }
            };
            run_call(host, &caller, call, args, &regions)
        }
        Request::Load {
            name,
            object,
            args,
            flags,
        } => {
            let name = String::from_utf8_lossy(&name).into_owned();
            let options = LoadOptions {
                args: args
                    .iter()
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect(),
                autoclean: flags.autoclean,
                no_default_exports: flags.no_default_exports,
                force: flags.force,
                map: flags.map,
            };
            match host.load_object(caller, &name, &object, &options) {
                Ok(loaded) => {
                    let lines = |v: &[umod_loader::MapEntry]| {
                        v.iter()
                            .map(|e| MapLine {
                                name: e.name.clone().into_bytes(),
                                addr: e.addr,
                                size: e.size,
                            })
                            .collect()
                    };
                    let (sections, symbols) = match &loaded.map {
                        Some(m) => (lines(&m.sections), lines(&m.symbols)),
                        None => (Vec::new(), Vec::new()),
                    };
                    Response::Loaded {
                        addr: loaded.addr,
                        size: loaded.image.header.size,
                        relocations: loaded.image.relocations as u64,
                        sections,
                        symbols,
                    }
                }
                Err(e) => error(e.errno(), e.to_string()),
            }
        }
        Request::Dmesg { clear } => {
            if clear && !caller.cap_sys_module {
                return error(Errno::EPERM, "clearing the kernel log needs CAP_SYS_MODULE");
            }
            let lines = host
                .dmesg()
                .into_iter()
                .map(|r| LogLine {
                    seq: r.seq,
                    level: r.level,
                    time_ns: r.time.as_nanos() as u64,
                    text: r.text.into_bytes(),
                })
                .collect();
            if clear {
                host.clear_dmesg();
            }
            Response::Log(lines)
        }
        Request::ProcModules => text(host.proc_modules()),
        Request::ProcKsyms => text(host.proc_ksyms()),
        Request::ReadProc { name } => text(host.read_proc(&String::from_utf8_lossy(&name))),
        Request::AddTaint {
            bits,
            on_behalf_of,
            on_behalf_cap,
        } => {
            let allowed = caller.cap_sys_module && (on_behalf_of == 0 || on_behalf_cap);
            if !allowed {
                return error(Errno::EPERM, "tainting the host needs CAP_SYS_MODULE");
            }
            host.add_taint(bits);
            Response::Text(format!("{}\n", host.taint()).into_bytes())
        }
        Request::Status => {
            let usage = host.window_usage();
            Response::Status {
                personality: match host.personality() {
                    Personality::Linux24 => b"2.4".to_vec(),
                    Personality::Linux26 => b"2.6".to_vec(),
                    Personality::NoModules => b"none".to_vec(),
                },
                release: UTS_RELEASE.as_bytes().to_vec(),
                window_base: usage.base,
                window_capacity: usage.capacity,
                window_in_use: usage.in_use,
                modules: usage.blocks,
                taint: host.taint(),
            }
        }
    }
}

fn text(r: Result<Vec<u8>, Errno>) -> Response {
    match r {
        Ok(t) => Response::Text(t),
        Err(e) => error(e, e.description()),
    }
}

/// Rebuilds the caller's memory from `regions`, runs the call, and answers
/// with its return value and the writable regions as they are afterwards.
fn run_call(
    host: &Host,
    caller: &Caller,
    call: CallKind,
    args: [u64; 5],
    regions: &[protocol::Region],
) -> Response {
    let Some(mut mem) = caller_memory(regions) else {
        return error(Errno::EINVAL, "a memory region leaves user space");
    };
    let ret: i64 = match call {
        CallKind::Create => host
            .create_module(caller, &mem, args[0], args[1])
            .map_or_else(|e| e.as_negative(), |a| a as i64),
        CallKind::Init => host
            .init_module(caller, &mem, args[0], args[1])
            .map_or_else(|e| e.as_negative(), |()| 0),
        CallKind::Delete => host
            .delete_module(caller, &mem, args[0])
            .map_or_else(|e| e.as_negative(), |()| 0),
        CallKind::Query => host
            .query_module(
                caller,
                &mut mem,
                args[0],
                args[1] as i32,
                args[2],
                args[3],
                args[4],
            )
            .map_or_else(|e| e.as_negative(), |()| 0),
        CallKind::KernelSyms => host
            .get_kernel_syms(caller, &mut mem, args[0])
            .unwrap_or_else(|e| e.as_negative()),
    };
    let writes = regions
        .iter()
        .filter(|r| r.writable)
        .filter_map(|r| mem.peek(r.addr, r.bytes.len()).map(|b| (r.addr, b)))
        .collect();
    Response::CallResult { ret, writes }
}

/// Rebuilds the caller's memory from the regions it sent. Memory is mapped
/// and protected in pages, so regions that share a page (a name and a
/// buffer on the same stack page) share it here too.
fn caller_memory(regions: &[protocol::Region]) -> Option<ScratchSpace> {
    use std::collections::BTreeMap;
    const PAGE: u64 = umod_abi::PAGE_SIZE;
    // Which pages the regions touch, and whether any of them is writable.
    let mut pages: BTreeMap<u64, bool> = BTreeMap::new();
    for r in regions {
        let end = r.addr.checked_add(r.bytes.len() as u64)?;
        if end > umod_abi::TASK_SIZE {
            return None;
        }
        let last = end.max(r.addr + 1).div_ceil(PAGE);
        for page in r.addr / PAGE..last {
            *pages.entry(page * PAGE).or_default() |= r.writable;
        }
    }
    // Runs of adjacent pages with one protection, zero-filled, then each
    // region's bytes copied straight into the run that holds them.
    let mut runs: Vec<(u64, Vec<u8>, bool)> = Vec::new();
    for (page, writable) in pages {
        match runs.last_mut() {
            Some((start, data, w)) if *start + data.len() as u64 == page && *w == writable => {
                data.resize(data.len() + PAGE as usize, 0)
            }
            _ => runs.push((page, vec![0u8; PAGE as usize], writable)),
        }
    }
    for r in regions {
        let mut at = r.addr;
        let end = r.addr + r.bytes.len() as u64;
        while at < end {
            let run = runs.partition_point(|(start, _, _)| *start <= at) - 1;
            let (start, data, _) = &mut runs[run];
            let stop = end.min(*start + data.len() as u64);
            let from = (at - r.addr) as usize;
            data[(at - *start) as usize..(stop - *start) as usize]
                .copy_from_slice(&r.bytes[from..from + (stop - at) as usize]);
            at = stop;
        }
    }
    let mut mem = ScratchSpace::new();
    for (start, data, writable) in runs {
        mem.map_owned(start, data, writable).ok()?;
    }
    Some(mem)
}

/// The socket path: the explicit one, else `$UMOD_SOCKET`, else
/// `/run/umod/umod.sock`.
pub fn socket_path(explicit: Option<&Path>) -> PathBuf {
    match explicit {
        Some(p) => p.to_path_buf(),
        None => std::env::var_os("UMOD_SOCKET")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("/run/umod/umod.sock")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use umod_host::UserMemory;

    fn region(addr: u64, bytes: &[u8], writable: bool) -> protocol::Region {
        protocol::Region {
            addr,
            bytes: bytes.to_vec(),
            writable,
        }
    }

    #[test]
    fn caller_memory_merges_pages_and_keeps_each_region() {
        // A name at a page's end, a writable buffer across the next
        // boundary, and a read-only region far away.
        let regions = [
            region(0x1000_0ffc, b"abc\0", false),
            region(0x1000_1ff0, &[9u8; 0x20], true),
            region(0x7000_0000, b"far", false),
        ];
        let mut mem = caller_memory(&regions).unwrap();
        let mut name = [0u8; 4];
        mem.read(0x1000_0ffc, &mut name).unwrap();
        assert_eq!(&name, b"abc\0");
        let mut buf = [0u8; 0x20];
        mem.read(0x1000_1ff0, &mut buf).unwrap();
        assert_eq!(buf, [9u8; 0x20]);
        assert!(mem.write(0x1000_2000, b"w").is_ok(), "buffer page writable");
        assert!(mem.write(0x7000_0000, b"w").is_err(), "read-only stays so");
        let mut far = [0u8; 3];
        mem.read(0x7000_0000, &mut far).unwrap();
        assert_eq!(&far, b"far");
        assert!(mem.read(0x1000_3000, &mut [0u8; 1]).is_err(), "unmapped");
    }

    #[test]
    fn a_forwarded_call_is_privileged_only_if_both_the_client_and_the_process_are() {
        let host = Host::with_config(umod_host::HostConfig {
            window_size: 8 << 20,
            ..Default::default()
        })
        .unwrap();
        let name = 0x1000_0000;
        let create = |client: bool, process: bool| {
            let client = Caller {
                cap_sys_module: client,
                ..Caller::root()
            };
            let req = Request::Call {
                call: CallKind::Create,
                args: [name, 4096, 0, 0, 0],
                regions: vec![region(name, b"forwarded\0", false)],
                on_behalf_of: 4242,
                on_behalf_cap: process,
            };
            match dispatch(&host, &client, req) {
                Response::CallResult { ret, .. } => ret,
                other => panic!("{other:?}"),
            }
        };
        let eperm = Errno::EPERM.as_negative();
        assert_eq!(create(false, true), eperm, "a claim cannot lend privilege");
        assert_eq!(create(true, false), eperm, "the process's reading narrows");
        assert!(create(true, true) > 0, "both privileged: created");
    }

    #[test]
    fn caller_memory_refuses_kernel_addresses() {
        assert!(caller_memory(&[region(umod_abi::TASK_SIZE - 1, b"xy", false)]).is_none());
        assert!(caller_memory(&[region(u64::MAX, b"x", false)]).is_none());
    }
}
