//! The tools' side of the socket.

use std::io;
use std::os::unix::net::UnixStream;
use std::path::Path;

use umod_abi::{Errno, KernelSym, QueryAnswer};
use umod_host::ScratchSpace;
use umod_loader::insmod::ModuleCalls;

use crate::protocol::{
    self, CallKind, LoadFlags, LogLine, MapLine, Region, Request, Response, WireError,
};

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// No daemon, or the connection broke.
    #[error("cannot reach the umod daemon at {path}: {source}")]
    Connect {
        /// The socket path.
        path: String,
        /// Why.
        source: io::Error,
    },
    /// The exchange failed.
    #[error("{0}")]
    Wire(#[from] WireError),
    /// The daemon refused: errno and its message.
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
            _ => Errno::EPROTO,
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

/// A connection to the daemon.
pub struct Client {
    stream: UnixStream,
}

impl Client {
    /// Connects to the daemon at `path`.
    pub fn connect(path: &Path) -> Result<Client, ClientError> {
        let stream = UnixStream::connect(path).map_err(|source| ClientError::Connect {
            path: path.display().to_string(),
            source,
        })?;
        Ok(Client { stream })
    }

    /// Sends one request and reads its answer; an `Error` answer becomes
    /// `Err(Refused)`.
    pub fn request(&mut self, req: &Request) -> Result<Response, ClientError> {
        let sent = protocol::write_frame(&mut self.stream, &req.encode());
        // A daemon that refuses a request (too large) answers and closes
        // while we are still writing: its answer says why.
        let payload = match (protocol::read_frame(&mut self.stream, u32::MAX), sent) {
            (Ok(Some(p)), _) => p,
            (_, Err(e)) => return Err(WireError::Io(e).into()),
            (Ok(None), Ok(())) => return Err(WireError::Malformed("connection closed").into()),
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

    fn errno_of(ret: i64) -> Result<i64, Errno> {
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
            args: args.iter().map(|a| a.as_bytes().to_vec()).collect(),
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

    /// `/proc/modules`.
    pub fn proc_modules(&mut self) -> Result<Vec<u8>, ClientError> {
        self.text(Request::ProcModules)
    }

    /// `/proc/ksyms`.
    pub fn proc_ksyms(&mut self) -> Result<Vec<u8>, ClientError> {
        self.text(Request::ProcKsyms)
    }

    /// A module's `/proc` entry.
    pub fn read_proc(&mut self, name: &str) -> Result<Vec<u8>, ClientError> {
        self.text(Request::ReadProc {
            name: name.as_bytes().to_vec(),
        })
    }

    /// The daemon's state.
    pub fn status(&mut self) -> Result<Response, ClientError> {
        self.request(&Request::Status)
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
        let (on_behalf_of, on_behalf_cap) = on_behalf.unwrap_or((0, false));
        self.request(&Request::AddTaint {
            bits,
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

fn call_errno(e: ClientError) -> Errno {
    e.errno()
}

impl ModuleCalls for Client {
    fn create_module(&mut self, name: &str, size: u64) -> Result<u64, Errno> {
        let mut mem = ScratchSpace::new();
        let n = mem.put_cstr(name.as_bytes());
        let ret = self
            .call(CallKind::Create, [n, size, 0, 0, 0], &mut mem)
            .map_err(call_errno)?;
        Self::errno_of(ret).map(|a| a as u64)
    }

    fn init_module(&mut self, name: &str, image: &[u8]) -> Result<(), Errno> {
        let mut mem = ScratchSpace::new();
        let n = mem.put_cstr(name.as_bytes());
        let i = mem.put_read_only(image);
        let ret = self
            .call(CallKind::Init, [n, i, 0, 0, 0], &mut mem)
            .map_err(call_errno)?;
        Self::errno_of(ret).map(|_| ())
    }

    fn delete_module(&mut self, name: Option<&str>) -> Result<(), Errno> {
        let mut mem = ScratchSpace::new();
        let n = name.map_or(0, |n| mem.put_cstr(n.as_bytes()));
        let ret = self
            .call(CallKind::Delete, [n, 0, 0, 0, 0], &mut mem)
            .map_err(call_errno)?;
        Self::errno_of(ret).map(|_| ())
    }

    fn query_module(&mut self, name: Option<&str>, which: i32) -> Result<QueryAnswer, Errno> {
        let mut size = 1024u64;
        loop {
            let mut mem = ScratchSpace::new();
            let n = name.map_or(0, |n| mem.put_cstr(n.as_bytes()));
            let buf = mem.alloc(size as usize);
            let ret = mem.alloc(8);
            let r = self
                .call(
                    CallKind::Query,
                    [n, which as u32 as u64, buf, size, ret],
                    &mut mem,
                )
                .map_err(call_errno)?;
            let needed = mem.peek_u64(ret).unwrap_or(0);
            match Self::errno_of(r) {
                Ok(_) => {
                    let bytes = mem.peek(buf, size as usize).unwrap_or_default();
                    return QueryAnswer::decode(which, &bytes, needed).ok_or(Errno::EPROTO);
                }
                Err(Errno::ENOSPC) if needed > size => size = needed,
                Err(e) => return Err(e),
            }
        }
    }
}
