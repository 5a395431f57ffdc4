//! The wire protocol between the tools and the daemon (documented in
//! `docs/protocol.md`).
//!
//! A message is a frame: a little-endian `u32` length, then that many
//! bytes: `u16` protocol version, `u16` message kind, and the kind's body.
//! Integers are little endian; byte strings are a `u32` length and the
//! bytes; lists are a `u32` count and the items.
//!
//! The five calls travel with the caller's memory they touch: a list of
//! regions (address, bytes, writable). The daemon rebuilds that memory,
//! runs the call exactly as the kernel would (so `EFAULT` comes out where
//! it would), and answers with the return value and the writable regions'
//! bytes after the call (a partial `query_module` buffer and `*ret`
//! included).

use std::io::{self, Read, Write};

/// Protocol version this build speaks.
pub const VERSION: u16 = 3;

/// Most regions a `Call` carries: the five calls touch at most three
/// (a name, a buffer and `*ret`), so more is malformed. This bounds what
/// rebuilding a caller's memory costs beyond the bytes it sent.
pub const MAX_REGIONS: usize = 8;

/// Largest frame accepted by default (an object or image travels in one).
pub const DEFAULT_MAX_FRAME: u32 = 64 << 20;

/// Which of the five calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum CallKind {
    /// `create_module(name, size)`.
    Create = 0,
    /// `init_module(name, image)`.
    Init = 1,
    /// `delete_module(name)`.
    Delete = 2,
    /// `query_module(name, which, buf, bufsize, ret)`.
    Query = 3,
    /// `get_kernel_syms(table)`.
    KernelSyms = 4,
}

impl CallKind {
    fn from_u8(v: u8) -> Option<CallKind> {
        Some(match v {
            0 => CallKind::Create,
            1 => CallKind::Init,
            2 => CallKind::Delete,
            3 => CallKind::Query,
            4 => CallKind::KernelSyms,
            _ => return None,
        })
    }
}

/// A piece of the caller's memory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Region {
    /// Its address in the caller.
    pub addr: u64,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// Whether the call may write it.
    pub writable: bool,
}

/// Options of a one-shot load.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoadFlags {
    /// `-k`
    pub autoclean: bool,
    /// `-x`
    pub no_default_exports: bool,
    /// `-f`
    pub force: bool,
    /// `-m`: answer with the load map.
    pub map: bool,
}

/// What a client asks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// One of the five calls, with its raw arguments and memory.
    Call {
        /// Which call.
        call: CallKind,
        /// Its arguments as the registers held them.
        args: [u64; 5],
        /// The caller's memory the call may touch.
        regions: Vec<Region>,
        /// The process the call is made for, when the client forwards a
        /// call of another process (`umod exec`); 0 for the client itself.
        /// It can only narrow privilege: the call holds CAP_SYS_MODULE if
        /// both the client and that process do.
        on_behalf_of: u32,
        /// Whether `on_behalf_of` held CAP_SYS_MODULE, as the client read
        /// it before making sure the process is still the one that made
        /// the call. The daemon does not read it itself: by the time the
        /// request arrives the pid may name another process. Claiming it
        /// gains nothing: the client's own privilege still bounds the call.
        on_behalf_cap: bool,
        /// For `create_module`: the entry belongs to this connection until
        /// it is initialized. If the connection closes first (the tool
        /// died, or gave up), the daemon removes it: a failed insmod leaves
        /// nothing behind. Unmodified programs do not ask for this, as 2.4
        /// kept such entries.
        tied: bool,
    },
    /// A one-shot load of an object.
    Load {
        /// Module name.
        name: Vec<u8>,
        /// The relocatable object.
        object: Vec<u8>,
        /// `name=value` arguments.
        args: Vec<Vec<u8>>,
        /// Options.
        flags: LoadFlags,
    },
    /// The kernel log; `clear` empties it after reading.
    Dmesg {
        /// `dmesg -c`
        clear: bool,
    },
    /// `/proc/modules`.
    ProcModules,
    /// `/proc/ksyms`.
    ProcKsyms,
    /// A module's `/proc` entry.
    ReadProc {
        /// Entry name.
        name: Vec<u8>,
    },
    /// The daemon's state at a glance.
    Status,
    /// Adds taint flags (a write to /proc/sys/kernel/tainted; 2.4's insmod
    /// did it for proprietary and forced modules). Needs CAP_SYS_MODULE.
    AddTaint {
        /// Flags to add.
        bits: u64,
        /// As in `Call`: the process the write is forwarded for, or 0.
        on_behalf_of: u32,
        /// As in `Call`: whether that process held CAP_SYS_MODULE, as the
        /// client read it.
        on_behalf_cap: bool,
    },
}

/// One kernel log line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogLine {
    /// Sequence number.
    pub seq: u64,
    /// Level 0..=7.
    pub level: u8,
    /// Nanoseconds since the host started.
    pub time_ns: u64,
    /// Text.
    pub text: Vec<u8>,
}

/// A placed section or symbol of a loaded module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapLine {
    /// Name.
    pub name: Vec<u8>,
    /// Address.
    pub addr: u64,
    /// Size.
    pub size: u64,
}

/// What the daemon answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Response {
    /// A call's result: the return value (`-errno` on failure) and the
    /// writable regions after the call.
    CallResult {
        /// Return value.
        ret: i64,
        /// (address, bytes) of every writable region.
        writes: Vec<(u64, Vec<u8>)>,
    },
    /// A one-shot load succeeded.
    Loaded {
        /// Header address.
        addr: u64,
        /// Image size.
        size: u64,
        /// Relocations applied.
        relocations: u64,
        /// Sections then symbols, when the map was asked for.
        sections: Vec<MapLine>,
        /// Symbols.
        symbols: Vec<MapLine>,
    },
    /// Log lines.
    Log(Vec<LogLine>),
    /// A text view.
    Text(Vec<u8>),
    /// The request failed: errno and a message naming the cause.
    Error {
        /// Errno.
        errno: i32,
        /// Message.
        message: Vec<u8>,
    },
    /// The daemon's state.
    Status {
        /// "2.4", "2.6" or "none".
        personality: Vec<u8>,
        /// Reported release.
        release: Vec<u8>,
        /// Window base.
        window_base: u64,
        /// Bytes available to modules.
        window_capacity: u64,
        /// Bytes in use.
        window_in_use: u64,
        /// Modules.
        modules: u64,
        /// Taint flags (what /proc/sys/kernel/tainted reads).
        taint: u64,
        /// The largest request this caller may send, in bytes.
        max_request: u64,
        /// Whether this caller's requests hold CAP_SYS_MODULE now.
        privileged: bool,
    },
}

/// Why a frame could not be read.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    /// The connection failed or closed.
    #[error("connection: {0}")]
    Io(#[from] io::Error),
    /// The peer sent bytes that are not a message of this protocol.
    #[error("malformed message: {0}")]
    Malformed(&'static str),
    /// A frame larger than allowed.
    #[error("frame of {0} bytes is larger than the limit")]
    TooLarge(u32),
    /// Another protocol version.
    #[error("protocol version {0} (this is version {VERSION})")]
    Version(u16),
}

impl WireError {
    /// The errno a caller should see for it.
    pub fn errno(&self) -> umod_abi::Errno {
        use umod_abi::Errno;
        match self {
            WireError::Io(e) if e.kind() == io::ErrorKind::TimedOut => Errno::ETIMEDOUT,
            WireError::Io(e) if e.kind() == io::ErrorKind::WouldBlock => Errno::ETIMEDOUT,
            WireError::TooLarge(_) => Errno::EMSGSIZE,
            _ => Errno::EPROTO,
        }
    }
}

struct Writer(Vec<u8>);

impl Writer {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u16(&mut self, v: u16) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn bytes(&mut self, b: &[u8]) {
        self.u32(b.len() as u32);
        self.0.extend_from_slice(b);
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        if self.0.len() < n {
            return Err(WireError::Malformed("truncated"));
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }
    fn u8(&mut self) -> Result<u8, WireError> {
        Ok(self.take(1)?[0])
    }
    /// A flag byte: 0 or 1 and nothing else, so every message has exactly
    /// one encoding.
    fn bool(&mut self) -> Result<bool, WireError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(WireError::Malformed("flag byte other than 0 or 1")),
        }
    }
    fn u16(&mut self) -> Result<u16, WireError> {
        Ok(u16::from_le_bytes(self.take(2)?.try_into().expect("2")))
    }
    fn u32(&mut self) -> Result<u32, WireError> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().expect("4")))
    }
    fn u64(&mut self) -> Result<u64, WireError> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().expect("8")))
    }
    fn bytes(&mut self) -> Result<Vec<u8>, WireError> {
        let n = self.u32()? as usize;
        Ok(self.take(n)?.to_vec())
    }
    /// A count of items each at least `min` bytes long, checked against
    /// what is left, so a hostile count cannot make us allocate.
    fn count(&mut self, min: usize) -> Result<usize, WireError> {
        let n = self.u32()? as usize;
        if n.saturating_mul(min.max(1)) > self.0.len() {
            return Err(WireError::Malformed("count larger than the message"));
        }
        Ok(n)
    }
    fn end(&self) -> Result<(), WireError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(WireError::Malformed("trailing bytes"))
        }
    }
}

fn header(kind: u16) -> Writer {
    let mut w = Writer(Vec::new());
    w.u16(VERSION);
    w.u16(kind);
    w
}

impl Request {
    /// Encodes the payload (without the length prefix).
    pub fn encode(&self) -> Vec<u8> {
        let w = match self {
            Request::Call {
                call,
                args,
                regions,
                on_behalf_of,
                on_behalf_cap,
                tied,
            } => {
                let mut w = header(1);
                w.u8(*call as u8);
                for a in args {
                    w.u64(*a);
                }
                w.u32(*on_behalf_of);
                w.u8(u8::from(*on_behalf_cap));
                w.u8(u8::from(*tied));
                w.u32(regions.len() as u32);
                for r in regions {
                    w.u64(r.addr);
                    w.u8(u8::from(r.writable));
                    w.bytes(&r.bytes);
                }
                w
            }
            Request::Load {
                name,
                object,
                args,
                flags,
            } => {
                let mut w = header(2);
                w.bytes(name);
                w.bytes(object);
                w.u32(args.len() as u32);
                for a in args {
                    w.bytes(a);
                }
                w.u8(u8::from(flags.autoclean)
                    | u8::from(flags.no_default_exports) << 1
                    | u8::from(flags.force) << 2
                    | u8::from(flags.map) << 3);
                w
            }
            Request::Dmesg { clear } => {
                let mut w = header(3);
                w.u8(u8::from(*clear));
                w
            }
            Request::ProcModules => header(4),
            Request::ProcKsyms => header(5),
            Request::ReadProc { name } => {
                let mut w = header(6);
                w.bytes(name);
                w
            }
            Request::Status => header(7),
            Request::AddTaint {
                bits,
                on_behalf_of,
                on_behalf_cap,
            } => {
                let mut w = header(8);
                w.u64(*bits);
                w.u32(*on_behalf_of);
                w.u8(u8::from(*on_behalf_cap));
                w
            }
        };
        w.0
    }

    /// Decodes a payload.
    pub fn decode(payload: &[u8]) -> Result<Request, WireError> {
        let mut r = Reader(payload);
        let version = r.u16()?;
        if version != VERSION {
            return Err(WireError::Version(version));
        }
        let req = match r.u16()? {
            1 => {
                let call =
                    CallKind::from_u8(r.u8()?).ok_or(WireError::Malformed("unknown call"))?;
                let mut args = [0u64; 5];
                for a in &mut args {
                    *a = r.u64()?;
                }
                let on_behalf_of = r.u32()?;
                let on_behalf_cap = r.bool()?;
                let tied = r.bool()?;
                let n = r.count(13)?;
                if n > MAX_REGIONS {
                    return Err(WireError::Malformed("more regions than any call touches"));
                }
                let mut regions = Vec::with_capacity(n);
                for _ in 0..n {
                    let addr = r.u64()?;
                    let writable = r.bool()?;
                    let bytes = r.bytes()?;
                    regions.push(Region {
                        addr,
                        bytes,
                        writable,
                    });
                }
                Request::Call {
                    call,
                    args,
                    regions,
                    on_behalf_of,
                    on_behalf_cap,
                    tied,
                }
            }
            2 => {
                let name = r.bytes()?;
                let object = r.bytes()?;
                let n = r.count(4)?;
                let mut args = Vec::with_capacity(n);
                for _ in 0..n {
                    args.push(r.bytes()?);
                }
                let f = r.u8()?;
                if f & !0xf != 0 {
                    return Err(WireError::Malformed("unknown load flags"));
                }
                Request::Load {
                    name,
                    object,
                    args,
                    flags: LoadFlags {
                        autoclean: f & 1 != 0,
                        no_default_exports: f & 2 != 0,
                        force: f & 4 != 0,
                        map: f & 8 != 0,
                    },
                }
            }
            3 => Request::Dmesg { clear: r.bool()? },
            4 => Request::ProcModules,
            5 => Request::ProcKsyms,
            6 => Request::ReadProc { name: r.bytes()? },
            7 => Request::Status,
            8 => Request::AddTaint {
                bits: r.u64()?,
                on_behalf_of: r.u32()?,
                on_behalf_cap: r.bool()?,
            },
            _ => return Err(WireError::Malformed("unknown request")),
        };
        r.end()?;
        Ok(req)
    }
}

fn write_map(w: &mut Writer, lines: &[MapLine]) {
    w.u32(lines.len() as u32);
    for l in lines {
        w.bytes(&l.name);
        w.u64(l.addr);
        w.u64(l.size);
    }
}

fn read_map(r: &mut Reader<'_>) -> Result<Vec<MapLine>, WireError> {
    let n = r.count(20)?;
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        v.push(MapLine {
            name: r.bytes()?,
            addr: r.u64()?,
            size: r.u64()?,
        });
    }
    Ok(v)
}

impl Response {
    /// Encodes the payload (without the length prefix).
    pub fn encode(&self) -> Vec<u8> {
        let w = match self {
            Response::CallResult { ret, writes } => {
                let mut w = header(101);
                w.u64(*ret as u64);
                w.u32(writes.len() as u32);
                for (addr, bytes) in writes {
                    w.u64(*addr);
                    w.bytes(bytes);
                }
                w
            }
            Response::Loaded {
                addr,
                size,
                relocations,
                sections,
                symbols,
            } => {
                let mut w = header(102);
                w.u64(*addr);
                w.u64(*size);
                w.u64(*relocations);
                write_map(&mut w, sections);
                write_map(&mut w, symbols);
                w
            }
            Response::Log(lines) => {
                let mut w = header(103);
                w.u32(lines.len() as u32);
                for l in lines {
                    w.u64(l.seq);
                    w.u8(l.level);
                    w.u64(l.time_ns);
                    w.bytes(&l.text);
                }
                w
            }
            Response::Text(t) => {
                let mut w = header(104);
                w.bytes(t);
                w
            }
            Response::Error { errno, message } => {
                let mut w = header(105);
                w.u32(*errno as u32);
                w.bytes(message);
                w
            }
            Response::Status {
                personality,
                release,
                window_base,
                window_capacity,
                window_in_use,
                modules,
                taint,
                max_request,
                privileged,
            } => {
                let mut w = header(106);
                w.bytes(personality);
                w.bytes(release);
                w.u64(*window_base);
                w.u64(*window_capacity);
                w.u64(*window_in_use);
                w.u64(*modules);
                w.u64(*taint);
                w.u64(*max_request);
                w.u8(u8::from(*privileged));
                w
            }
        };
        w.0
    }

    /// Decodes a payload.
    pub fn decode(payload: &[u8]) -> Result<Response, WireError> {
        let mut r = Reader(payload);
        let version = r.u16()?;
        if version != VERSION {
            return Err(WireError::Version(version));
        }
        let resp = match r.u16()? {
            101 => {
                let ret = r.u64()? as i64;
                let n = r.count(12)?;
                let mut writes = Vec::with_capacity(n);
                for _ in 0..n {
                    writes.push((r.u64()?, r.bytes()?));
                }
                Response::CallResult { ret, writes }
            }
            102 => Response::Loaded {
                addr: r.u64()?,
                size: r.u64()?,
                relocations: r.u64()?,
                sections: read_map(&mut r)?,
                symbols: read_map(&mut r)?,
            },
            103 => {
                let n = r.count(21)?;
                let mut lines = Vec::with_capacity(n);
                for _ in 0..n {
                    lines.push(LogLine {
                        seq: r.u64()?,
                        level: r.u8()?,
                        time_ns: r.u64()?,
                        text: r.bytes()?,
                    });
                }
                Response::Log(lines)
            }
            104 => Response::Text(r.bytes()?),
            105 => Response::Error {
                errno: r.u32()? as i32,
                message: r.bytes()?,
            },
            106 => Response::Status {
                personality: r.bytes()?,
                release: r.bytes()?,
                window_base: r.u64()?,
                window_capacity: r.u64()?,
                window_in_use: r.u64()?,
                modules: r.u64()?,
                taint: r.u64()?,
                max_request: r.u64()?,
                privileged: r.bool()?,
            },
            _ => return Err(WireError::Malformed("unknown response")),
        };
        r.end()?;
        Ok(resp)
    }
}

/// Writes one frame.
pub fn write_frame(w: &mut impl Write, payload: &[u8]) -> io::Result<()> {
    let len = u32::try_from(payload.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "message too large"))?;
    let mut frame = Vec::with_capacity(4 + payload.len());
    frame.extend_from_slice(&len.to_le_bytes());
    frame.extend_from_slice(payload);
    w.write_all(&frame)
}

/// Reads one frame of at most `max` bytes; `Ok(None)` at a clean end of
/// stream between frames.
pub fn read_frame(r: &mut impl Read, max: u32) -> Result<Option<Vec<u8>>, WireError> {
    let mut len = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        let n = r.read(&mut len[got..])?;
        if n == 0 {
            return if got == 0 {
                Ok(None)
            } else {
                Err(WireError::Malformed("connection closed inside a frame"))
            };
        }
        got += n;
    }
    let len = u32::from_le_bytes(len);
    if len > max {
        return Err(WireError::TooLarge(len));
    }
    read_payload(r, len as usize).map(Some)
}

/// Bytes a payload buffer grows by at a time: memory follows the bytes
/// that actually arrive, not the length a peer announced.
pub const READ_CHUNK: usize = 64 << 10;

/// Reads `len` bytes, growing the buffer as they arrive.
pub fn read_payload(r: &mut impl Read, len: usize) -> Result<Vec<u8>, WireError> {
    let mut payload = Vec::with_capacity(len.min(READ_CHUNK));
    while payload.len() < len {
        let old = payload.len();
        let want = (len - old).min(READ_CHUNK);
        payload.resize(old + want, 0);
        match r.read(&mut payload[old..]) {
            Ok(0) => return Err(WireError::Malformed("connection closed inside a frame")),
            Ok(n) => payload.truncate(old + n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => payload.truncate(old),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip() {
        let reqs = [
            Request::Call {
                call: CallKind::Query,
                args: [1, 2, 3, 4, 5],
                regions: vec![Region {
                    addr: 0x1000,
                    bytes: b"abc".to_vec(),
                    writable: true,
                }],
                on_behalf_of: 42,
                on_behalf_cap: true,
                tied: true,
            },
            Request::Load {
                name: b"m".to_vec(),
                object: vec![1, 2, 3],
                args: vec![b"a=1".to_vec()],
                flags: LoadFlags {
                    autoclean: true,
                    map: true,
                    ..Default::default()
                },
            },
            Request::Dmesg { clear: true },
            Request::ProcModules,
            Request::ProcKsyms,
            Request::ReadProc {
                name: b"x".to_vec(),
            },
            Request::Status,
            Request::AddTaint {
                bits: 1,
                on_behalf_of: 7,
                on_behalf_cap: true,
            },
        ];
        for r in reqs {
            assert_eq!(Request::decode(&r.encode()).unwrap(), r);
        }
    }

    #[test]
    fn responses_round_trip() {
        let resps = [
            Response::CallResult {
                ret: -28,
                writes: vec![(0x10, b"xy".to_vec())],
            },
            Response::Loaded {
                addr: 1,
                size: 2,
                relocations: 3,
                sections: vec![MapLine {
                    name: b".text".to_vec(),
                    addr: 4,
                    size: 5,
                }],
                symbols: vec![],
            },
            Response::Log(vec![LogLine {
                seq: 1,
                level: 6,
                time_ns: 7,
                text: b"hi".to_vec(),
            }]),
            Response::Text(b"t".to_vec()),
            Response::Error {
                errno: 1,
                message: b"no".to_vec(),
            },
            Response::Status {
                personality: b"2.4".to_vec(),
                release: b"r".to_vec(),
                window_base: 1,
                window_capacity: 2,
                window_in_use: 3,
                taint: 128,
                modules: 4,
                max_request: 1 << 20,
                privileged: true,
            },
        ];
        for r in resps {
            assert_eq!(Response::decode(&r.encode()).unwrap(), r);
        }
    }

    #[test]
    fn garbage_is_refused_without_allocating() {
        assert!(matches!(
            Request::decode(&[3, 0, 1, 0, 3]),
            Err(WireError::Malformed(_))
        ));
        // Earlier versions lack fields: refused, never misread.
        for old in [1, 2] {
            assert!(matches!(
                Request::decode(&[old, 0, 1, 0, 3]),
                Err(WireError::Version(v)) if v == u16::from(old)
            ));
        }
        assert!(matches!(
            Request::decode(&[9, 0, 1, 0]),
            Err(WireError::Version(9))
        ));
        // A region count of 2^32-1 with nothing behind it.
        let mut evil = header(1).0;
        evil.push(0);
        evil.extend_from_slice(&[0; 46]);
        evil.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(
            Request::decode(&evil),
            Err(WireError::Malformed("count larger than the message"))
        ));
        // Nine empty regions, each only 13 bytes on the wire: more than
        // any call touches.
        let mut many = header(1).0;
        many.push(0);
        many.extend_from_slice(&[0; 46]);
        many.extend_from_slice(&9u32.to_le_bytes());
        for i in 0..9u64 {
            many.extend_from_slice(&(i << 20).to_le_bytes());
            many.extend_from_slice(&[0, 0, 0, 0, 0]);
        }
        assert!(matches!(
            Request::decode(&many),
            Err(WireError::Malformed("more regions than any call touches"))
        ));
        // An on_behalf_cap byte other than 0 or 1.
        let mut two = header(1).0;
        two.push(0);
        two.extend_from_slice(&[0; 44]);
        two.push(2);
        two.push(0);
        two.extend_from_slice(&0u32.to_le_bytes());
        assert!(matches!(
            Request::decode(&two),
            Err(WireError::Malformed(_))
        ));
        let mut r: &[u8] = &[0xff, 0xff, 0xff, 0x7f];
        assert!(matches!(
            read_frame(&mut r, 1024),
            Err(WireError::TooLarge(_))
        ));
        let mut empty: &[u8] = &[];
        assert!(read_frame(&mut empty, 1024).unwrap().is_none());
    }
}
