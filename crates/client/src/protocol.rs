//! The wire protocol between the tools and the daemon (documented in
//! `docs/protocol.md`).
//!
//! A message is a frame: a little-endian `u32` length, then that many
//! bytes of payload: a little-endian `u16` protocol version, then the
//! message, encoded by its derived `serde` implementation in postcard
//! (integers as varints, byte strings and lists as a varint length and
//! their items, an enum as its variant's index and its fields).
//!
//! The five calls travel with the caller's memory they touch: a list of
//! regions (address, bytes, writable). The daemon rebuilds that memory,
//! runs the call exactly as the kernel would (so `EFAULT` comes out where
//! it would), and answers with the return value and the writable regions'
//! bytes after the call (a partial `query_module` buffer and `*ret`
//! included).

#![warn(clippy::cast_possible_truncation)]

use std::io::{self, Read, Write};

use serde::de::{Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;

/// Protocol version this build speaks.
pub const VERSION: u16 = 6;

/// Most regions a `Call` carries: the five calls touch at most three
/// (a name, a buffer and `*ret`), so more is malformed. This bounds what
/// rebuilding a caller's memory costs beyond the bytes it sent.
pub const MAX_REGIONS: usize = 8;

/// Largest frame accepted by default (an object or image travels in one).
pub const DEFAULT_MAX_FRAME: u32 = 64 << 20;

/// Which of the five calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
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

/// A piece of the caller's memory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Region {
    /// Its address in the caller.
    pub addr: u64,
    /// Its bytes.
    #[serde(with = "serde_bytes")]
    pub bytes: Vec<u8>,
    /// Whether the call may write it.
    pub writable: bool,
}

/// Options of a one-shot load.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
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

/// What a client asks. The order of the variants is the wire's message
/// kind (0 `Call` ... 7 `AddTaint`, 8 `Resolve`, 9 `RaiseIrq`): append,
/// never reorder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Request {
    /// One of the five calls, with its raw arguments and memory.
    Call {
        /// Which call.
        call: CallKind,
        /// Its arguments as the registers held them.
        args: [u64; 5],
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
        /// The caller's memory the call may touch (at most
        /// [`MAX_REGIONS`]).
        #[serde(deserialize_with = "bounded::<_, Region, MAX_REGIONS>")]
        regions: Vec<Region>,
    },
    /// A one-shot load of an object.
    Load {
        /// Module name.
        #[serde(with = "serde_bytes")]
        name: Vec<u8>,
        /// The relocatable object.
        #[serde(with = "serde_bytes")]
        object: Vec<u8>,
        /// `name=value` arguments (at most [`MAX_ARGS`]).
        #[serde(deserialize_with = "bounded::<_, ByteBuf, MAX_ARGS>")]
        args: Vec<ByteBuf>,
        /// Options.
        flags: LoadFlags,
    },
    /// The kernel log; `clear` empties it after reading.
    Dmesg {
        /// `dmesg -c`
        clear: bool,
    },
    /// `/proc/modules` lines from `from`, about `max` bytes of them (the
    /// daemon may send fewer): answered by a [`Response::Chunk`].
    ProcModules {
        /// Where to start: [`Cursor::START`], or a chunk's `next`.
        from: Cursor,
        /// Bytes wanted.
        max: u32,
    },
    /// `/proc/ksyms` lines, as `ProcModules`.
    ProcKsyms {
        /// Where to start.
        from: Cursor,
        /// Bytes wanted.
        max: u32,
    },
    /// A module's `/proc` entry.
    ReadProc {
        /// Entry name.
        #[serde(with = "serde_bytes")]
        name: Vec<u8>,
    },
    /// The daemon's state at a glance.
    Status,
    /// Adds taint flags (2.4's insmod did it for proprietary and forced
    /// modules), or with `replace` stores them as the whole value (a
    /// write to /proc/sys/kernel/tainted, a plain integer in 2.4). Needs
    /// CAP_SYS_MODULE.
    AddTaint {
        /// Flags to add, or the value to store.
        bits: u64,
        /// Store `bits` instead of adding them.
        replace: bool,
        /// As in `Call`: the process the write is forwarded for, or 0.
        on_behalf_of: u32,
        /// As in `Call`: whether that process held CAP_SYS_MODULE, as the
        /// client read it.
        on_behalf_cap: bool,
    },
    /// The exports that define `names` (at most [`MAX_RESOLVE`]), as a
    /// 2.4 insmod would have found them reading every module's table:
    /// answered by [`Response::Resolved`]. umod's tools ask this once
    /// instead of one `query_module` per module.
    Resolve {
        /// The names.
        #[serde(deserialize_with = "bounded::<_, ByteBuf, MAX_RESOLVE>")]
        names: Vec<ByteBuf>,
    },
    /// Raises software interrupt line `irq` (below 224), as a device
    /// would; answered once its handlers have returned (`ENODEV` when the
    /// line has none, `EINVAL` past the last line). Needs CAP_SYS_MODULE.
    RaiseIrq {
        /// The line.
        irq: u32,
    },
}

/// A listing the daemon produces in chunks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    /// `/proc/modules`.
    Modules,
    /// `/proc/ksyms`.
    Ksyms,
}

impl View {
    /// The request for the chunk of about `max` bytes at `from`.
    pub fn request(self, from: Cursor, max: u32) -> Request {
        match self {
            View::Modules => Request::ProcModules { from, max },
            View::Ksyms => Request::ProcKsyms { from, max },
        }
    }
}

/// Where a listing goes on (opaque: send back what a chunk said).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// The next entry.
    pub entry: u64,
    /// The next line within it.
    pub line: u64,
}

impl Cursor {
    /// The start of a listing.
    pub const START: Cursor = Cursor {
        entry: u64::MAX,
        line: 0,
    };
}

/// A module (or, with an empty name, the kernel) that defines resolved names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderLine {
    /// Module name; empty for the kernel.
    #[serde(with = "serde_bytes")]
    pub name: Vec<u8>,
    /// Header address; 0 for the kernel.
    pub addr: u64,
}

/// A resolved name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SymbolLine {
    /// The name asked for.
    #[serde(with = "serde_bytes")]
    pub name: Vec<u8>,
    /// Its value.
    pub value: u64,
    /// Index into the answer's providers.
    pub provider: u32,
    /// Exported for GPL-compatible modules only.
    pub gpl_only: bool,
}

/// One kernel log line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    /// Sequence number.
    pub seq: u64,
    /// Level 0..=7.
    pub level: u8,
    /// Nanoseconds since the host started.
    pub time_ns: u64,
    /// Text.
    #[serde(with = "serde_bytes")]
    pub text: Vec<u8>,
}

/// A placed section or symbol of a loaded module.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MapLine {
    /// Name.
    #[serde(with = "serde_bytes")]
    pub name: Vec<u8>,
    /// Address.
    pub addr: u64,
    /// Size.
    pub size: u64,
}

/// What the daemon answers. The order of the variants is the wire's
/// message kind: append, never reorder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Response {
    /// A call's result: the return value (`-errno` on failure) and the
    /// writable regions after the call.
    CallResult {
        /// Return value.
        ret: i64,
        /// (address, bytes) of every writable region.
        writes: Vec<(u64, ByteBuf)>,
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
    Text(#[serde(with = "serde_bytes")] Vec<u8>),
    /// The request failed: errno and a message naming the cause.
    Error {
        /// Errno.
        errno: i32,
        /// Message.
        #[serde(with = "serde_bytes")]
        message: Vec<u8>,
    },
    /// The daemon's state.
    Status {
        /// "2.4", "2.6" or "none".
        #[serde(with = "serde_bytes")]
        personality: Vec<u8>,
        /// Reported release.
        #[serde(with = "serde_bytes")]
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
    /// Lines of a listing, and where the next chunk starts (`None`: the
    /// listing is complete).
    Chunk {
        /// Whole lines.
        #[serde(with = "serde_bytes")]
        text: Vec<u8>,
        /// Where to go on.
        next: Option<Cursor>,
    },
    /// The answer to `Resolve`: the providers newest module first, the
    /// kernel last, and the names that something exports.
    Resolved {
        /// Who defines them.
        providers: Vec<ProviderLine>,
        /// What each defines.
        symbols: Vec<SymbolLine>,
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
    Malformed(String),
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

/// Most arguments a one-shot load carries.
pub const MAX_ARGS: usize = 1024;

/// Most names one `Resolve` asks for (a module with more undefined
/// symbols than this is resolved in several requests).
pub const MAX_RESOLVE: usize = 1 << 16;

/// A list of at most `MAX` items, refused as soon as it announces more:
/// a hostile count makes the decoder allocate nothing.
fn bounded<'de, D, T, const MAX: usize>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    struct Bounded<T, const MAX: usize>(std::marker::PhantomData<T>);
    impl<'de, T: Deserialize<'de>, const MAX: usize> Visitor<'de> for Bounded<T, MAX> {
        type Value = Vec<T>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "at most {MAX} items")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            let announced = seq.size_hint().unwrap_or(0);
            if announced > MAX {
                return Err(serde::de::Error::invalid_length(announced, &self));
            }
            let mut out = Vec::with_capacity(announced);
            while let Some(item) = seq.next_element()? {
                if out.len() == MAX {
                    return Err(serde::de::Error::invalid_length(MAX + 1, &self));
                }
                out.push(item);
            }
            Ok(out)
        }
    }
    d.deserialize_seq(Bounded::<T, MAX>(std::marker::PhantomData))
}

/// A payload: the version, then the message in postcard.
fn encode<T: Serialize>(message: &T) -> Vec<u8> {
    let mut out = VERSION.to_le_bytes().to_vec();
    postcard::to_io(message, &mut out).expect("writing to a Vec cannot fail");
    out
}

/// The message of a payload: the version first, then exactly one message
/// and nothing after it.
fn decode<'de, T: Deserialize<'de>>(payload: &'de [u8]) -> Result<T, WireError> {
    let (version, body) = payload
        .split_first_chunk::<2>()
        .ok_or(WireError::Malformed("truncated".into()))?;
    let version = u16::from_le_bytes(*version);
    if version != VERSION {
        return Err(WireError::Version(version));
    }
    let (message, rest) = postcard::take_from_bytes(body).map_err(|e| {
        WireError::Malformed(match e {
            // What serde's derives and `bounded` refuse reaches postcard
            // without its words.
            postcard::Error::SerdeDeCustom => {
                "an unknown kind, or a list longer than the protocol allows".into()
            }
            e => e.to_string(),
        })
    })?;
    if !rest.is_empty() {
        return Err(WireError::Malformed("trailing bytes".into()));
    }
    Ok(message)
}

impl Request {
    /// The request's kind, as `docs/protocol.md` names it.
    pub fn kind(&self) -> &'static str {
        match self {
            Request::Call { .. } => "Call",
            Request::Load { .. } => "Load",
            Request::Dmesg { .. } => "Dmesg",
            Request::ProcModules { .. } => "ProcModules",
            Request::ProcKsyms { .. } => "ProcKsyms",
            Request::ReadProc { .. } => "ReadProc",
            Request::Status => "Status",
            Request::AddTaint { .. } => "AddTaint",
            Request::Resolve { .. } => "Resolve",
            Request::RaiseIrq { .. } => "RaiseIrq",
        }
    }

    /// Encodes the payload (without the length prefix).
    pub fn encode(&self) -> Vec<u8> {
        encode(self)
    }

    /// Decodes a payload. What decoding allocates follows the bytes the
    /// payload holds: byte strings are copied as long as they are, and a
    /// list that announces more items than it may hold is refused before
    /// anything is allocated for it.
    pub fn decode(payload: &[u8]) -> Result<Request, WireError> {
        decode(payload)
    }
}

impl Response {
    /// Encodes the payload (without the length prefix).
    pub fn encode(&self) -> Vec<u8> {
        encode(self)
    }

    /// Decodes a payload.
    pub fn decode(payload: &[u8]) -> Result<Response, WireError> {
        decode(payload)
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
                Err(WireError::Malformed(
                    "connection closed inside a frame".into(),
                ))
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
            Ok(0) => {
                return Err(WireError::Malformed(
                    "connection closed inside a frame".into(),
                ))
            }
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
                args: vec![b"a=1".to_vec().into()],
                flags: LoadFlags {
                    autoclean: true,
                    map: true,
                    ..Default::default()
                },
            },
            Request::Dmesg { clear: true },
            Request::ProcModules {
                from: Cursor::START,
                max: 4096,
            },
            Request::ProcKsyms {
                from: Cursor { entry: 3, line: 7 },
                max: 1,
            },
            Request::ReadProc {
                name: b"x".to_vec(),
            },
            Request::Status,
            Request::AddTaint {
                bits: 1,
                replace: true,
                on_behalf_of: 7,
                on_behalf_cap: true,
            },
            Request::RaiseIrq { irq: 5 },
            Request::Resolve {
                names: vec![b"printk".to_vec().into(), b"".to_vec().into()],
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
                writes: vec![(0x10, b"xy".to_vec().into())],
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
            Response::Chunk {
                text: b"a\n".to_vec(),
                next: Some(Cursor { entry: 1, line: 2 }),
            },
            Response::Chunk {
                text: Vec::new(),
                next: None,
            },
            Response::Resolved {
                providers: vec![ProviderLine {
                    name: b"m".to_vec(),
                    addr: 0x1000,
                }],
                symbols: vec![SymbolLine {
                    name: b"f".to_vec(),
                    value: 0x1010,
                    provider: 0,
                    gpl_only: true,
                }],
            },
        ];
        for r in resps {
            assert_eq!(Response::decode(&r.encode()).unwrap(), r);
        }
    }

    /// A payload: the version, then the postcard bytes `body`.
    fn payload(body: &[u8]) -> Vec<u8> {
        let mut p = VERSION.to_le_bytes().to_vec();
        p.extend_from_slice(body);
        p
    }

    #[test]
    fn garbage_and_other_versions_are_refused() {
        assert!(matches!(Request::decode(&[]), Err(WireError::Malformed(_))));
        // Message kind 99 does not exist.
        assert!(matches!(
            Request::decode(&payload(&[99])),
            Err(WireError::Malformed(_))
        ));
        // Earlier versions had other layouts: refused, never misread.
        for old in [1u16, 2, 3, 4] {
            let mut p = old.to_le_bytes().to_vec();
            p.push(6);
            assert!(matches!(Request::decode(&p), Err(WireError::Version(v)) if v == old));
        }
        // A flag byte other than 0 or 1.
        let mut dmesg = Request::Dmesg { clear: true }.encode();
        *dmesg.last_mut().unwrap() = 2;
        assert!(matches!(
            Request::decode(&dmesg),
            Err(WireError::Malformed(_))
        ));
        // Trailing bytes after a whole message.
        let mut status = Request::Status.encode();
        status.push(0);
        assert!(matches!(
            Request::decode(&status),
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

    /// A Call payload up to its region count, which the caller appends.
    fn call_up_to_regions() -> Vec<u8> {
        let call = Request::Call {
            call: CallKind::Query,
            args: [0; 5],
            regions: Vec::new(),
            on_behalf_of: 0,
            on_behalf_cap: false,
            tied: false,
        }
        .encode();
        // The empty region list is the last byte (a varint 0).
        assert_eq!(call.last(), Some(&0));
        call[..call.len() - 1].to_vec()
    }

    #[test]
    fn counts_are_bounded_before_anything_is_allocated() {
        // A region count of 2^32-1 with nothing behind it.
        let mut evil = call_up_to_regions();
        evil.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0x0f]);
        assert!(matches!(
            Request::decode(&evil),
            Err(WireError::Malformed(_))
        ));
        // Nine empty regions: more than any call touches.
        let mut many = call_up_to_regions();
        many.push(9);
        for _ in 0..9 {
            many.extend_from_slice(&[0, 0, 1]);
        }
        match Request::decode(&many) {
            Err(WireError::Malformed(why)) => assert!(why.contains("a list longer"), "{why}"),
            other => panic!("{other:?}"),
        }
        // Eight are fine.
        let mut eight = call_up_to_regions();
        eight.push(8);
        for _ in 0..8 {
            eight.extend_from_slice(&[0, 0, 1]);
        }
        assert!(
            matches!(Request::decode(&eight), Ok(Request::Call { regions, .. }) if regions.len() == 8)
        );
        // A byte string longer than what is left.
        let mut long = call_up_to_regions();
        long.extend_from_slice(&[1, 0, 0xff, 0xff, 0x03]);
        assert!(matches!(
            Request::decode(&long),
            Err(WireError::Malformed(_))
        ));
    }
}
