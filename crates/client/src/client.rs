//! The tools' side of the socket.

use std::io;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use umod_abi::user::ScratchSpace;
use umod_abi::{Errno, KernelSym};

use crate::protocol::{
    self, CallKind, Cursor, LoadFlags, LogLine, MapLine, Region, Request, Response, View, WireError,
};

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// No daemon listens there.
    #[error("cannot reach the umod daemon at {path}: {source}")]
    Connect {
        /// The socket path.
        path: String,
        /// Why.
        source: io::Error,
    },
    /// The daemon did not take the connection in time (its queue of new
    /// connections stayed full).
    #[error("the umod daemon at {path} did not take the connection within {secs} s")]
    ConnectTimeout {
        /// The socket path.
        path: String,
        /// How long we waited.
        secs: u64,
    },
    /// The exchange failed.
    #[error("{0}")]
    Wire(#[from] WireError),
    /// The daemon refused: errno and its message (busy, over a limit,
    /// closed for being idle, not permitted...).
    #[error("{message}")]
    Refused {
        /// Errno.
        errno: Errno,
        /// The daemon's explanation.
        message: String,
    },
    /// An answer of the wrong kind.
    #[error("unexpected answer from the daemon")]
    Unexpected,
}

impl ClientError {
    /// The errno behind the failure.
    pub fn errno(&self) -> Errno {
        match self {
            ClientError::Refused { errno, .. } => *errno,
            ClientError::Connect { .. } => Errno::ENOENT,
            ClientError::ConnectTimeout { .. } => Errno::ETIMEDOUT,
            ClientError::Wire(w) => w.errno(),
            ClientError::Unexpected => Errno::EPROTO,
        }
    }
}

/// A one-shot load's result.
#[derive(Clone, Debug)]
pub struct LoadReply {
    /// Header address.
    pub addr: u64,
    /// Image size.
    pub size: u64,
    /// Relocations applied.
    pub relocations: u64,
    /// Sections (when a map was asked for).
    pub sections: Vec<MapLine>,
    /// Symbols (when a map was asked for).
    pub symbols: Vec<MapLine>,
}

/// How long connecting waits for the daemon to take the connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Bytes of a listing asked for at a time.
pub const VIEW_CHUNK: u32 = 64 << 10;

/// A connection to the daemon.
pub struct Client {
    stream: UnixStream,
    path: PathBuf,
    /// The last failure that was not a call's own errno (the daemon
    /// refused the request, or the connection broke), for tools that
    /// report more than an errno.
    failure: Option<ClientError>,
}

impl Client {
    /// Connects to the daemon at `path`, waiting up to [`CONNECT_TIMEOUT`]
    /// for it to take the connection.
    pub fn connect(path: &Path) -> Result<Client, ClientError> {
        Ok(Client {
            stream: connect_stream(path)?,
            path: path.to_path_buf(),
            failure: None,
        })
    }

    /// The last failure that was not a call's own errno, taken.
    pub fn take_failure(&mut self) -> Option<ClientError> {
        self.failure.take()
    }

    /// Whether the daemon has closed this connection while it was idle
    /// (it says why first: that answer is waiting to be read).
    fn closed_by_daemon(&self) -> bool {
        let mut fds = [rustix::event::PollFd::new(
            &self.stream,
            rustix::event::PollFlags::IN,
        )];
        let now = rustix::time::Timespec::default();
        matches!(rustix::event::poll(&mut fds, Some(&now)), Ok(n) if n > 0)
    }

    /// Sends one request and reads its answer; an `Error` answer becomes
    /// `Err(Refused)`. A connection the daemon closed for being idle is
    /// made again first (the daemon never ran a request sent after it
    /// decided to close).
    pub fn request(&mut self, req: &Request) -> Result<Response, ClientError> {
        #[cfg(feature = "log-requests")]
        tracing::debug!(kind = req.kind(), "request");
        if self.closed_by_daemon() {
            self.stream = connect_stream(&self.path)?;
        }
        let r = self.exchange(req);
        if let Err(e) = &r {
            self.failure = Some(match e {
                ClientError::Refused { errno, message } => ClientError::Refused {
                    errno: *errno,
                    message: message.clone(),
                },
                other => ClientError::Refused {
                    errno: other.errno(),
                    message: other.to_string(),
                },
            });
        }
        r
    }

    fn exchange(&mut self, req: &Request) -> Result<Response, ClientError> {
        let sent = send_frame(&self.stream, &req.encode());
        // A daemon that refuses a request (too large) answers and closes
        // while we are still writing: its answer says why.
        let payload = match (protocol::read_frame(&mut self.stream, u32::MAX), sent) {
            (Ok(Some(p)), _) => p,
            (_, Err(e)) => return Err(WireError::Io(e).into()),
            (Ok(None), Ok(())) => {
                return Err(WireError::Malformed("the daemon closed the connection".into()).into())
            }
            (Err(e), Ok(())) => return Err(e.into()),
        };
        match Response::decode(&payload)? {
            Response::Error { errno, message } => Err(ClientError::Refused {
                errno: Errno(errno),
                message: String::from_utf8_lossy(&message).into_owned(),
            }),
            r => Ok(r),
        }
    }

    /// Runs a raw call with `mem` as the caller's memory; the daemon's
    /// writes are applied to `mem`. Returns the raw return value.
    pub fn call(
        &mut self,
        call: CallKind,
        args: [u64; 5],
        mem: &mut ScratchSpace,
    ) -> Result<i64, ClientError> {
        self.call_tied(call, args, mem, false)
    }

    /// [`Client::call`]; with `tied`, an entry `create_module` makes is
    /// removed by the daemon if this connection closes before it is
    /// initialized.
    pub fn call_tied(
        &mut self,
        call: CallKind,
        args: [u64; 5],
        mem: &mut ScratchSpace,
        tied: bool,
    ) -> Result<i64, ClientError> {
        let regions = mem
            .regions()
            .map(|(addr, bytes, writable)| Region {
                addr,
                bytes: bytes.to_vec(),
                writable,
            })
            .collect();
        match self.request(&Request::Call {
            call,
            args,
            regions,
            on_behalf_of: 0,
            on_behalf_cap: false,
            tied,
        })? {
            Response::CallResult { ret, writes } => {
                for (addr, bytes) in writes {
                    mem.poke(addr, &bytes);
                }
                Ok(ret)
            }
            _ => Err(ClientError::Unexpected),
        }
    }

    pub(crate) fn errno_of(ret: i64) -> Result<i64, Errno> {
        match Errno::from_return(ret) {
            Some(e) => Err(e),
            None => Ok(ret),
        }
    }

    /// A one-shot load.
    pub fn load(
        &mut self,
        name: &str,
        object: &[u8],
        args: &[String],
        flags: LoadFlags,
    ) -> Result<LoadReply, ClientError> {
        let req = Request::Load {
            name: name.as_bytes().to_vec(),
            object: object.to_vec(),
            args: args
                .iter()
                .map(|a| serde_bytes::ByteBuf::from(a.as_bytes().to_vec()))
                .collect(),
            flags,
        };
        match self.request(&req)? {
            Response::Loaded {
                addr,
                size,
                relocations,
                sections,
                symbols,
            } => Ok(LoadReply {
                addr,
                size,
                relocations,
                sections,
                symbols,
            }),
            _ => Err(ClientError::Unexpected),
        }
    }

    /// The kernel log; `clear` empties it.
    pub fn dmesg(&mut self, clear: bool) -> Result<Vec<LogLine>, ClientError> {
        match self.request(&Request::Dmesg { clear })? {
            Response::Log(lines) => Ok(lines),
            _ => Err(ClientError::Unexpected),
        }
    }

    fn text(&mut self, req: Request) -> Result<Vec<u8>, ClientError> {
        match self.request(&req)? {
            Response::Text(t) => Ok(t),
            _ => Err(ClientError::Unexpected),
        }
    }

    /// Reads a listing chunk by chunk (whole lines each), handing each
    /// to `each` until it says stop (`false`): a listing of any size,
    /// never held whole.
    pub fn read_view(
        &mut self,
        view: View,
        mut each: impl FnMut(&[u8]) -> bool,
    ) -> Result<(), ClientError> {
        let mut from = Some(Cursor::START);
        while let Some(at) = from {
            match self.request(&view.request(at, VIEW_CHUNK))? {
                Response::Chunk { text, next } => {
                    let go_on = each(&text);
                    from = next.filter(|_| go_on);
                }
                _ => return Err(ClientError::Unexpected),
            }
        }
        Ok(())
    }

    fn whole_view(&mut self, view: View) -> Result<Vec<u8>, ClientError> {
        let mut text = Vec::new();
        self.read_view(view, |chunk| {
            text.extend_from_slice(chunk);
            true
        })?;
        Ok(text)
    }

    /// The whole `/proc/modules` text.
    pub fn proc_modules(&mut self) -> Result<Vec<u8>, ClientError> {
        self.whole_view(View::Modules)
    }

    /// The whole `/proc/ksyms` text.
    pub fn proc_ksyms(&mut self) -> Result<Vec<u8>, ClientError> {
        self.whole_view(View::Ksyms)
    }

    /// A module's `/proc` entry.
    pub fn read_proc(&mut self, name: &str) -> Result<Vec<u8>, ClientError> {
        self.text(Request::ReadProc {
            name: name.as_bytes().to_vec(),
        })
    }

    /// Raises software interrupt line `irq` and waits for its handlers.
    pub fn raise_irq(&mut self, irq: u32) -> Result<(), ClientError> {
        self.request(&Request::RaiseIrq { irq }).map(drop)
    }

    /// The daemon's state.
    pub fn status(&mut self) -> Result<Response, ClientError> {
        self.request(&Request::Status)
    }

    /// The largest request the daemon takes from this client, and whether
    /// this client's requests hold CAP_SYS_MODULE.
    pub fn limits(&mut self) -> Result<(u64, bool), ClientError> {
        match self.status()? {
            Response::Status {
                max_request,
                privileged,
                ..
            } => Ok((max_request, privileged)),
            _ => Err(ClientError::Unexpected),
        }
    }

    /// The host's taint flags.
    pub fn taint(&mut self) -> Result<u64, ClientError> {
        match self.status()? {
            Response::Status { taint, .. } => Ok(taint),
            _ => Err(ClientError::Unexpected),
        }
    }

    /// Adds taint flags (needs CAP_SYS_MODULE), for this client or, with
    /// `on_behalf`, for another process: its pid and whether it held
    /// CAP_SYS_MODULE (see [`Request::Call`]).
    pub fn add_taint(
        &mut self,
        bits: u64,
        on_behalf: Option<(u32, bool)>,
    ) -> Result<(), ClientError> {
        self.write_taint(bits, true, on_behalf)
    }

    /// Stores `value` as the taint flags (a write of
    /// /proc/sys/kernel/tainted), or with `add` adds it; the rest as
    /// [`Client::add_taint`].
    pub fn write_taint(
        &mut self,
        value: u64,
        add: bool,
        on_behalf: Option<(u32, bool)>,
    ) -> Result<(), ClientError> {
        let (on_behalf_of, on_behalf_cap) = on_behalf.unwrap_or((0, false));
        self.request(&Request::AddTaint {
            bits: value,
            replace: !add,
            on_behalf_of,
            on_behalf_cap,
        })
        .map(drop)
    }

    /// `get_kernel_syms`: count, then fill.
    pub fn kernel_syms(&mut self) -> Result<Vec<KernelSym>, ClientError> {
        let mut mem = ScratchSpace::new();
        let n = self.call(CallKind::KernelSyms, [0; 5], &mut mem)?;
        let n = Self::errno_of(n).map_err(|errno| ClientError::Refused {
            errno,
            message: errno.to_string(),
        })? as usize;
        let table = mem.alloc(n * KernelSym::SIZE);
        let written = self.call(CallKind::KernelSyms, [table, 0, 0, 0, 0], &mut mem)? as usize;
        let bytes = mem
            .peek(table, written * KernelSym::SIZE)
            .unwrap_or_default();
        Ok(bytes
            .chunks_exact(KernelSym::SIZE)
            .map(|c| KernelSym::decode(c.try_into().expect("72 bytes")))
            .collect())
    }
}

/// Connects without blocking for ever: a daemon whose queue of new
/// connections is full makes a blocking connect wait until it drains.
fn connect_stream(path: &Path) -> Result<UnixStream, ClientError> {
    use rustix::net::{AddressFamily, SocketAddrUnix, SocketFlags, SocketType};
    let fail = |source: io::Error| ClientError::Connect {
        path: path.display().to_string(),
        source,
    };
    let addr = SocketAddrUnix::new(path).map_err(|e| fail(e.into()))?;
    let deadline = Instant::now() + CONNECT_TIMEOUT;
    loop {
        let fd = rustix::net::socket_with(
            AddressFamily::UNIX,
            SocketType::STREAM,
            SocketFlags::CLOEXEC | SocketFlags::NONBLOCK,
            None,
        )
        .map_err(|e| fail(e.into()))?;
        match rustix::net::connect(&fd, &addr) {
            Ok(()) => {
                let stream = UnixStream::from(fd);
                stream.set_nonblocking(false).map_err(fail)?;
                return Ok(stream);
            }
            // The daemon's queue is full: try again shortly.
            Err(rustix::io::Errno::AGAIN) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(rustix::io::Errno::AGAIN) => {
                return Err(ClientError::ConnectTimeout {
                    path: path.display().to_string(),
                    secs: CONNECT_TIMEOUT.as_secs(),
                })
            }
            Err(e) => return Err(fail(e.into())),
        }
    }
}

/// Writes one frame without raising SIGPIPE if the daemon closed the
/// connection (a C program linked with libumod keeps its default SIGPIPE
/// action): the answer it left says why.
fn send_frame(stream: &UnixStream, payload: &[u8]) -> io::Result<()> {
    let len = u32::try_from(payload.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "message too large"))?;
    let mut frame = Vec::with_capacity(4 + payload.len());
    frame.extend_from_slice(&len.to_le_bytes());
    frame.extend_from_slice(payload);
    let mut at = 0;
    while at < frame.len() {
        match rustix::net::send(stream, &frame[at..], rustix::net::SendFlags::NOSIGNAL) {
            Ok(n) => at += n,
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
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
