//! Launching the program under the filter, and serving its notifications.

use std::ffi::{CString, OsString};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;

use umod_abi::Errno;
use umod_client::forward::{self as raw, Backend as CallBackend};
use umod_client::procmem::ProcessMemory;
use umod_client::protocol::{Cursor, Request, Response, View};
use umod_client::VIEW_CHUNK;

use crate::filter::{self, SYS_OPEN, SYS_OPENAT, SYS_UNAME};
use crate::sys;

/// Where the intercepted calls go.
pub enum Backend {
    /// The machine's daemon, and its socket (helper threads connect too).
    Daemon(umod_client::Client, PathBuf),
    /// A private host in the supervisor.
    Embedded(umod_daemon::Embedded),
}

impl Backend {
    /// Something a helper thread can hand taint flags to, as process `pid`.
    /// Call it before re-checking the notification: it reads the process's
    /// CAP_SYS_MODULE now, while `pid` still names the caller. Flags from a
    /// process without it are dropped, as the daemon refuses them.
    /// Where the values process `pid` writes to /proc/sys/kernel/tainted
    /// go: each is stored whole, as 2.4's integer sysctl stored it.
    fn taint_sink(&self, pid: u32) -> Box<dyn FnMut(u64) + Send> {
        let privileged = || umod_client::caps::has(pid, umod_client::caps::CAP_SYS_MODULE);
        match self {
            Backend::Daemon(_, socket) => {
                let privileged = privileged();
                let socket = socket.clone();
                let mut client = None;
                Box::new(move |value| {
                    if client.is_none() {
                        client = umod_client::Client::connect(&socket).ok();
                    }
                    if let Some(c) = client.as_mut() {
                        let _ = c.write_taint(value, false, Some((pid, privileged)));
                    }
                })
            }
            Backend::Embedded(e) => {
                let host = std::sync::Arc::clone(&e.host);
                // The host's owner bounds the writer, as for calls.
                let allowed = e.cap_sys_module() && privileged();
                Box::new(move |value| {
                    if allowed {
                        host.set_taint(value);
                    }
                })
            }
        }
    }
}

impl CallBackend for Backend {
    fn request(&mut self, req: Request) -> Result<Response, Errno> {
        match self {
            Backend::Daemon(c, _) => CallBackend::request(c, req),
            Backend::Embedded(e) => e.request(req),
        }
    }
}

/// What to run and how.
pub struct ExecConfig {
    /// The program and its arguments.
    pub argv: Vec<OsString>,
    /// Release `uname` reports to the program, if any.
    pub uname_release: Option<String>,
    /// Serve `/proc/modules` and `/proc/ksyms` opens from the host.
    pub proc_views: bool,
    /// Answer every module call with 0 at once, doing nothing: for
    /// measuring what the interception itself costs.
    pub null: bool,
    /// Answer every module call with 0 after only what serving it costs
    /// whoever serves it: reading the memory the call names from the
    /// caller, its capabilities, and re-checking the notification. For
    /// measuring the floor under a served call.
    pub floor: bool,
}

/// Why the program could not be run.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// No program given, or not found.
    #[error("{0}")]
    Program(String),
    /// The filter could not be installed.
    #[error(
        "cannot install the seccomp filter: {0} (needs Linux 5.9+ with seccomp user notification)"
    )]
    Filter(std::io::Error),
    /// Another system failure.
    #[error("{0}")]
    System(#[from] std::io::Error),
}

/// Finds `prog` the way a shell would (a path with a `/` as it is).
fn resolve(prog: &Path) -> Option<PathBuf> {
    if prog.as_os_str().as_bytes().contains(&b'/') {
        return Some(prog.to_path_buf());
    }
    std::env::var_os("PATH")
        .map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join(prog))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
        .into_iter()
        .find(|c| c.is_file())
}

fn cstring(s: &[u8]) -> Result<CString, ExecError> {
    CString::new(s).map_err(|_| ExecError::Program("an argument holds a NUL byte".into()))
}

/// Runs the program, serving its module syscalls from `backend`; returns
/// its exit code (128 + signal if it was killed).
pub fn exec(config: ExecConfig, mut backend: Backend) -> Result<i32, ExecError> {
    let prog = config
        .argv
        .first()
        .ok_or_else(|| ExecError::Program("no program to run".into()))?;
    let path = resolve(Path::new(prog)).ok_or_else(|| {
        ExecError::Program(format!("{}: command not found", prog.to_string_lossy()))
    })?;
    let path = cstring(path.as_os_str().as_bytes())?;
    let argv = config
        .argv
        .iter()
        .map(|a| cstring(a.as_bytes()))
        .collect::<Result<Vec<_>, _>>()?;
    let env = std::env::vars_os()
        .map(|(k, v)| {
            let mut kv = k.as_bytes().to_vec();
            kv.push(b'=');
            kv.extend_from_slice(v.as_bytes());
            cstring(&kv)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let program = filter::program(&filter::syscalls(
        config.uname_release.is_some(),
        config.proc_views,
    ));
    // Without CAP_SYS_ADMIN a process may only install a filter under
    // no_new_privs.
    use umod_client::caps::{has as has_cap, CAP_SYS_ADMIN};
    let need_nnp = !has_cap(std::process::id(), CAP_SYS_ADMIN);
    let (ours, theirs) = UnixStream::pair()?;

    // The exec failure message is made before forking: the child may not
    // allocate (the errno's text is a static string).
    let exec_failed = format!("umod exec: {}: ", path.to_string_lossy());
    let exec_args = sys::ExecArgs::new(path, argv, env);
    // SAFETY: from here to exec the child makes only system calls through
    // rustix and libc, on data made before the fork.
    let pid = unsafe { sys::fork() }?;
    if pid == 0 {
        let fd = theirs.as_fd();
        if need_nnp && sys::set_no_new_privs().is_err() {
            sys::write_all(fd, b"E");
            sys::exit_child(127);
        }
        match sys::install_filter(&program) {
            Ok(listener) => {
                if sys::send_fd(fd, listener.as_fd()).is_err() {
                    sys::exit_child(127);
                }
            }
            Err(e) => {
                let code = e.raw_os_error().unwrap_or(0);
                sys::write_all(fd, &[b'F', code as u8]);
                sys::exit_child(127);
            }
        }
        let err = exec_args.exec();
        let stderr = std::io::stderr();
        sys::write_all(stderr.as_fd(), exec_failed.as_bytes());
        let text = Errno(err.raw_os_error().unwrap_or(0)).description();
        sys::write_all(stderr.as_fd(), text.as_bytes());
        sys::write_all(stderr.as_fd(), b"\n");
        sys::exit_child(127);
    }
    drop(theirs);
    let listener = match sys::recv_fd(ours.as_fd()) {
        Ok(l) => l,
        Err(_) => {
            let mut why = [0u8; 2];
            let n = std::io::Read::read(&mut &ours, &mut why).unwrap_or(0);
            let _ = wait_exit(pid);
            return Err(ExecError::Filter(match (n, why[0]) {
                (2, b'F') => std::io::Error::from_raw_os_error(i32::from(why[1])),
                (_, b'E') => std::io::Error::other("cannot set no_new_privs"),
                _ => std::io::Error::other("the child did not send the listener"),
            }));
        }
    };
    sys::notif_sync_wakeup(&listener);
    serve(&listener, pid, &config, &mut backend)
}

fn wait_exit(pid: libc::pid_t) -> Result<i32, ExecError> {
    loop {
        if let Some(status) = sys::try_wait(pid)? {
            return Ok(exit_code(status));
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

fn exit_code(status: i32) -> i32 {
    if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else if libc::WIFSIGNALED(status) {
        128 + libc::WTERMSIG(status)
    } else {
        1
    }
}

/// Serves notifications. While the program runs, the supervisor blocks in
/// the receive itself: that is where the kernel's synchronous wake-up
/// (`SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP`) keeps the program and the
/// supervisor on one CPU, several times cheaper than a cross-CPU hand-off.
/// A watcher thread waits for the program and interrupts the receive when
/// it exits; then whatever it left running under the filter is served
/// until the listener hangs up, and the program's exit code is returned.
fn serve(
    listener: &OwnedFd,
    pid: libc::pid_t,
    config: &ExecConfig,
    backend: &mut Backend,
) -> Result<i32, ExecError> {
    sys::install_wake_handler()?;
    let mut helpers = Helpers::default();
    let exited = Arc::new(AtomicI32::new(RUNNING));
    let main = sys::this_thread();
    let watcher = {
        let exited = Arc::clone(&exited);
        std::thread::spawn(move || {
            let status = sys::wait(pid).unwrap_or(0);
            exited.store(exit_code(status), Ordering::SeqCst);
            // Keep knocking until the supervisor has seen it (a signal sent
            // just before it blocks would otherwise be lost).
            while exited.load(Ordering::SeqCst) != ACKNOWLEDGED {
                sys::wake(main);
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
        })
    };
    let code = loop {
        let code = exited.load(Ordering::SeqCst);
        if code != RUNNING {
            exited.store(ACKNOWLEDGED, Ordering::SeqCst);
            break code;
        }
        // An error is the watcher's interruption, or a target that died
        // between notifying and our receive: look again.
        if let Ok(n) = sys::notif_recv(listener) {
            handle(listener, &n, config, backend, &mut helpers);
        }
    };
    let _ = watcher.join();
    // The program is gone; serve what it left under the filter.
    loop {
        let (readable, hung_up) = sys::poll_in(listener.as_fd(), 50)?;
        if readable {
            if let Ok(n) = sys::notif_recv(listener) {
                handle(listener, &n, config, backend, &mut helpers);
            }
        } else if hung_up {
            helpers.wait(HELPERS_LIMIT);
            return Ok(code);
        }
    }
}

/// How long an open of /proc/sys/kernel/tainted waits for the writes of
/// descriptors opened before it (one the program still holds is not
/// waited for beyond this).
const SETTLE_LIMIT: std::time::Duration = std::time::Duration::from_millis(500);

/// How long `umod exec` waits, when the program is gone, for what its
/// writes of /proc/sys/kernel/tainted still have to deliver.
const HELPERS_LIMIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Threads finishing what a program started through a descriptor the
/// supervisor handed it (writes of /proc/sys/kernel/tainted): waited for
/// before `umod exec` exits, so a program that writes and exits at once
/// loses nothing.
#[derive(Default)]
struct Helpers(Vec<std::sync::mpsc::Receiver<()>>);

impl Helpers {
    fn spawn(&mut self, work: impl FnOnce() + Send + 'static) {
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            work();
            let _ = done.send(());
        });
        self.0.push(finished);
    }

    /// Waits for every helper, `limit` at most in all: a descriptor that a
    /// child of the program still holds keeps its helper reading.
    fn wait(mut self, limit: std::time::Duration) {
        self.settle(limit);
    }

    /// Waits, `limit` at most in all, for the helpers to finish, and
    /// forgets those that did: writes through a descriptor the program
    /// closed are delivered before what it does next.
    fn settle(&mut self, limit: std::time::Duration) {
        let deadline = std::time::Instant::now() + limit;
        self.0.retain(|finished| {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            finished.recv_timeout(left).is_err()
        });
    }
}

/// `/proc/sys/kernel/tainted` is the host's. Opened to read, the program
/// gets a memory file with the flags. Opened to write (or read and
/// write), it gets one end of a socket pair: reads give the flags, and
/// each line it writes is stored whole as the flags (2.4's tainted was a
/// plain integer sysctl: root's writes replaced it, 0 included), by a
/// helper thread reading the other end.
fn serve_tainted(
    listener: &OwnedFd,
    n: &sys::Notif,
    read_only: bool,
    backend: &mut Backend,
    helpers: &mut Helpers,
) {
    // What the program wrote through a descriptor it has closed comes
    // first (a shell's `echo 1 > f; echo 4 > f` stores 4).
    helpers.settle(SETTLE_LIMIT);
    let taint = match backend.request(Request::Status) {
        Ok(Response::Status { taint, .. }) => taint,
        _ => 0,
    };
    let text = format!("{taint}\n");
    let fd = if read_only {
        sys::memfd_filled("umod-tainted", |f| {
            std::io::Write::write_all(f, text.as_bytes())
        })
        .ok()
    } else {
        match sys::half_duplex_pair(text.as_bytes()) {
            Ok((ours, theirs)) => {
                let mut sink = backend.taint_sink(n.pid);
                helpers.spawn(move || {
                    use std::io::BufRead;
                    let lines = std::io::BufReader::new(std::fs::File::from(ours)).lines();
                    for line in lines.map_while(Result::ok) {
                        if let Ok(value) = line.trim().parse::<u64>() {
                            sink(value);
                        }
                    }
                });
                Some(theirs)
            }
            Err(_) => None,
        }
    };
    let served = fd.is_some_and(|fd| {
        sys::notif_id_valid(listener, n.id) && sys::notif_addfd_send(listener, n.id, &fd).is_ok()
    });
    if !served {
        let _ = sys::notif_send(listener, n.id, 0, 0, true);
    }
}

const RUNNING: i32 = i32::MIN;
const ACKNOWLEDGED: i32 = i32::MIN + 1;

/// Writes a listing to `out` chunk by chunk as the host produces it; a
/// failed request ends the text where it is.
fn write_view(
    backend: &mut Backend,
    view: View,
    out: &mut impl std::io::Write,
) -> std::io::Result<()> {
    let mut from = Some(Cursor::START);
    while let Some(at) = from {
        match backend.request(view.request(at, VIEW_CHUNK)) {
            Ok(Response::Chunk { text, next }) => {
                out.write_all(&text)?;
                from = next;
            }
            _ => break,
        }
    }
    Ok(())
}

fn reply(listener: &OwnedFd, id: u64, ret: i64) {
    let _ = match Errno::from_return(ret) {
        Some(e) => sys::notif_send(listener, id, 0, -e.0, false),
        None => sys::notif_send(listener, id, ret, 0, false),
    };
}

fn handle(
    listener: &OwnedFd,
    n: &sys::Notif,
    config: &ExecConfig,
    backend: &mut Backend,
    helpers: &mut Helpers,
) {
    let args = n.data.args;
    let nr = n.data.nr;
    if config.null && raw::call_of(i64::from(nr)).is_some() {
        reply(listener, n.id, 0);
        return;
    }
    if let (true, Some(call)) = (config.floor, raw::call_of(i64::from(nr))) {
        let mem = ProcessMemory::of(n.pid);
        std::hint::black_box(raw::regions_for(call, args, &mem, || 0));
        std::hint::black_box(umod_client::caps::has(
            n.pid,
            umod_client::caps::CAP_SYS_MODULE,
        ));
        if sys::notif_id_valid(listener, n.id) {
            reply(listener, n.id, 0);
        }
        return;
    }
    if let Some(call) = raw::call_of(i64::from(nr)) {
        let mut valid = || sys::notif_id_valid(listener, n.id);
        if let Some(ret) = raw::forward(backend, n.pid, n.pid, call, args, &mut valid) {
            reply(listener, n.id, ret);
        }
        return;
    }
    match nr {
        SYS_UNAME => {
            let Some(release) = &config.uname_release else {
                let _ = sys::notif_send(listener, n.id, 0, 0, true);
                return;
            };
            let ret = match sys::uname_bytes() {
                Ok(mut u) => {
                    let field = &mut u[130..195];
                    field.fill(0);
                    let r = release.as_bytes();
                    let len = r.len().min(64);
                    field[..len].copy_from_slice(&r[..len]);
                    if ProcessMemory::of(n.pid).write(args[0], &u) {
                        0
                    } else {
                        Errno::EFAULT.as_negative()
                    }
                }
                Err(_) => Errno::EFAULT.as_negative(),
            };
            if sys::notif_id_valid(listener, n.id) {
                reply(listener, n.id, ret);
            }
        }
        SYS_OPEN | SYS_OPENAT => {
            let (path_arg, flags) = if nr == SYS_OPEN {
                (args[0], args[1])
            } else {
                (args[1], args[2])
            };
            let path = ProcessMemory::of(n.pid).name(path_arg);
            let path = path.split(|&c| c == 0).next().unwrap_or_default();
            let read_only = flags as i32 & libc::O_ACCMODE == libc::O_RDONLY;
            if path == b"/proc/sys/kernel/tainted" {
                serve_tainted(listener, n, read_only, backend, helpers);
                return;
            }
            let view = match path {
                b"/proc/modules" => Some(View::Modules),
                b"/proc/ksyms" => Some(View::Ksyms),
                _ => None,
            };
            match view.filter(|_| read_only) {
                Some(view) => {
                    let served = sys::notif_id_valid(listener, n.id)
                        && sys::memfd_filled("umod-proc", |f| write_view(backend, view, f))
                            .and_then(|fd| sys::notif_addfd_send(listener, n.id, &fd))
                            .is_ok();
                    if !served {
                        let _ = sys::notif_send(listener, n.id, 0, 0, true);
                    }
                }
                // Any other file: the real open.
                None => {
                    let _ = sys::notif_send(listener, n.id, 0, 0, true);
                }
            }
        }
        _ => {
            let _ = sys::notif_send(listener, n.id, 0, 0, true);
        }
    }
}
