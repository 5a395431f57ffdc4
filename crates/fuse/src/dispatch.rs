//! Decoding one request and calling the [`Filesystem`] operation it
//! names, then replying. A request too short for what its opcode needs is
//! logged and answered `EIO`; an opcode the crate does not serve, `ENOSYS`.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::sync::Arc;
use std::time::Duration;

use zerocopy::IntoBytes;

use crate::abi::{self, init_flags, opcode, parse, parse_min, InHeader};
use crate::filesystem::{ConnectionInfo, Entry, Errno, Ioctl, Opened, SetAttr};
use crate::notify::PollHandle;
use crate::reply::DirBuf;
use crate::request::Request;
use crate::session::{Shared, MAX_WRITE};

/// The INIT flags this server asks for when the kernel offers them. Not
/// ASYNC_READ: reads of one file arrive one after the other, in the order
/// the program made them (devices care; no read-ahead into them either).
/// Not FUSE_DIRECT_IO_ALLOW_MMAP (so mmap of a direct-I/O file fails
/// ENODEV) nor READDIRPLUS.
const WANTED: u32 = init_flags::ATOMIC_O_TRUNC | init_flags::BIG_WRITES | init_flags::HAS_IOCTL_DIR;

fn split_secs(d: Duration) -> (u64, u32) {
    (d.as_secs(), d.subsec_nanos())
}

fn entry_out(e: &Entry) -> abi::EntryOut {
    let (entry_valid, entry_valid_nsec) = split_secs(e.entry_valid);
    let (attr_valid, attr_valid_nsec) = split_secs(e.attr_valid);
    abi::EntryOut {
        nodeid: e.attr.ino,
        generation: e.generation,
        entry_valid,
        attr_valid,
        entry_valid_nsec,
        attr_valid_nsec,
        attr: e.attr,
    }
}

fn open_out(o: &Opened) -> abi::OpenOut {
    abi::OpenOut {
        fh: o.fh,
        open_flags: o.flags,
        padding: 0,
    }
}

/// A NUL-terminated name at the start of `body`.
fn name(body: &[u8]) -> Option<&OsStr> {
    let end = body.iter().position(|&b| b == 0)?;
    Some(OsStr::from_bytes(&body[..end]))
}

/// Why a request could not be served as sent.
struct Malformed;

/// Handles one request (`msg`, as read); true when the connection ends.
pub(crate) fn handle(shared: &Arc<Shared>, msg: &[u8]) -> bool {
    let Some((header, body)) = parse::<InHeader>(msg) else {
        tracing::warn!(len = msg.len(), "fuse: request shorter than its header");
        return false;
    };
    if header.len as usize != msg.len() {
        tracing::warn!(
            len = msg.len(),
            header.len,
            header.opcode,
            "fuse: request length mismatch"
        );
        shared.channel.error(header.unique, libc::EIO);
        return false;
    }
    match header.opcode {
        opcode::FORGET => {
            match parse::<abi::ForgetIn>(body) {
                Some((f, _)) => shared.fs.forget(header.nodeid, f.nlookup),
                None => tracing::warn!("fuse: short FORGET"),
            }
            return false;
        }
        opcode::BATCH_FORGET => {
            batch_forget(shared, body);
            return false;
        }
        opcode::INTERRUPT => {
            match parse::<abi::InterruptIn>(body) {
                Some((i, _)) => {
                    shared.inflight.interrupt(i.unique, header.unique);
                }
                None => shared.channel.error(header.unique, libc::EIO),
            }
            return false;
        }
        opcode::INIT => return init(shared, &header, body),
        _ => {}
    }
    if shared.conn.get().is_none() {
        tracing::warn!(header.opcode, "fuse: request before INIT");
        shared.channel.error(header.unique, libc::EIO);
        return false;
    }
    let interrupt = shared.inflight.register(header.unique);
    let req = Request::from_header(&header, interrupt);
    let destroy = header.opcode == opcode::DESTROY;
    // A handler that panics fails its request EIO rather than leaving the
    // caller waiting for an answer that never comes.
    let reply = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        operation(shared, &req, body)
    }))
    .unwrap_or_else(|_| {
        tracing::error!(header.opcode, header.nodeid, "fuse: the handler panicked");
        Ok(Err(Errno::EIO))
    });
    shared.inflight.finish(header.unique);
    match reply {
        Ok(Ok(parts)) => {
            let slices: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
            shared.channel.ok(header.unique, &slices);
        }
        Ok(Err(Errno(errno))) => shared.channel.error(header.unique, errno),
        Err(Malformed) => {
            tracing::warn!(header.opcode, len = msg.len(), "fuse: malformed request");
            shared.channel.error(header.unique, libc::EIO);
        }
    }
    destroy
}

fn batch_forget(shared: &Shared, body: &[u8]) {
    let Some((b, mut rest)) = parse::<abi::BatchForgetIn>(body) else {
        tracing::warn!("fuse: short BATCH_FORGET");
        return;
    };
    for _ in 0..b.count {
        let Some((one, more)) = parse::<abi::ForgetOne>(rest) else {
            tracing::warn!("fuse: BATCH_FORGET shorter than its count");
            return;
        };
        shared.fs.forget(one.nodeid, one.nlookup);
        rest = more;
    }
}

fn init(shared: &Shared, header: &InHeader, body: &[u8]) -> bool {
    let Some((init, _)) = parse_min::<abi::InitIn>(body, abi::COMPAT_INIT_IN_SIZE) else {
        tracing::warn!("fuse: short INIT");
        shared.channel.error(header.unique, libc::EIO);
        return true;
    };
    if init.major > abi::KERNEL_VERSION {
        // The kernel asks again speaking our major.
        let out = abi::InitOut {
            major: abi::KERNEL_VERSION,
            minor: abi::KERNEL_MINOR_VERSION,
            ..Default::default()
        };
        shared.channel.ok(header.unique, &[out.as_bytes()]);
        return false;
    }
    if init.major < abi::KERNEL_VERSION || init.minor < abi::MIN_MINOR {
        tracing::error!(init.major, init.minor, "fuse: kernel protocol too old");
        shared.channel.error(header.unique, libc::EPROTO);
        return true;
    }
    let minor = init.minor.min(abi::KERNEL_MINOR_VERSION);
    let flags = init.flags & WANTED;
    let out = abi::InitOut {
        major: abi::KERNEL_VERSION,
        minor,
        max_readahead: init.max_readahead,
        flags,
        max_background: 16,
        congestion_threshold: 12,
        max_write: MAX_WRITE,
        time_gran: 1,
        ..Default::default()
    };
    let info = ConnectionInfo {
        kernel_minor: init.minor,
        minor,
        kernel_flags: init.flags,
        flags,
        max_write: MAX_WRITE,
    };
    if shared.conn.set(info).is_err() {
        tracing::warn!("fuse: second INIT");
        shared.channel.error(header.unique, libc::EIO);
        return false;
    }
    shared.fs.init(&info);
    let bytes = out.as_bytes();
    let size = if minor < 23 {
        abi::COMPAT_22_INIT_OUT_SIZE
    } else {
        bytes.len()
    };
    shared.channel.ok(header.unique, &[&bytes[..size]]);
    false
}

type Reply = Result<Result<Vec<Vec<u8>>, Errno>, Malformed>;

fn one<T: IntoBytes + zerocopy::Immutable>(value: &T) -> Vec<Vec<u8>> {
    vec![value.as_bytes().to_vec()]
}

fn operation(shared: &Arc<Shared>, req: &Request, body: &[u8]) -> Reply {
    let fs = &*shared.fs;
    let ino = req.nodeid;
    macro_rules! arg {
        ($t:ty) => {
            parse::<$t>(body).ok_or(Malformed)?
        };
    }
    Ok(match req.opcode {
        opcode::LOOKUP => {
            let n = name(body).ok_or(Malformed)?;
            fs.lookup(req, ino, n).map(|e| one(&entry_out(&e)))
        }
        opcode::GETATTR => {
            let (g, _) = arg!(abi::GetattrIn);
            let fh = (g.getattr_flags & 1 != 0).then_some(g.fh);
            fs.getattr(req, ino, fh).map(|a| {
                let (attr_valid, attr_valid_nsec) = split_secs(a.valid);
                one(&abi::AttrOut {
                    attr_valid,
                    attr_valid_nsec,
                    dummy: 0,
                    attr: a.attr,
                })
            })
        }
        opcode::SETATTR => {
            let (s, _) = arg!(abi::SetattrIn);
            let has = |bit| s.valid & bit != 0;
            let set = SetAttr {
                mode: has(abi::fattr::MODE).then_some(s.mode),
                uid: has(abi::fattr::UID).then_some(s.uid),
                gid: has(abi::fattr::GID).then_some(s.gid),
                size: has(abi::fattr::SIZE).then_some(s.size),
                fh: has(abi::fattr::FH).then_some(s.fh),
                raw: s,
            };
            fs.setattr(req, ino, &set).map(|a| {
                let (attr_valid, attr_valid_nsec) = split_secs(a.valid);
                one(&abi::AttrOut {
                    attr_valid,
                    attr_valid_nsec,
                    dummy: 0,
                    attr: a.attr,
                })
            })
        }
        opcode::OPEN => {
            let (o, _) = arg!(abi::OpenIn);
            fs.open(req, ino, o.flags).map(|o| one(&open_out(&o)))
        }
        opcode::OPENDIR => {
            let (o, _) = arg!(abi::OpenIn);
            fs.opendir(req, ino, o.flags).map(|o| one(&open_out(&o)))
        }
        opcode::READ => {
            let (r, _) = arg!(abi::ReadIn);
            fs.read(req, ino, r.fh, r.offset, r.size).map(|mut data| {
                if data.len() > r.size as usize {
                    tracing::warn!(ino, "fuse: read returned more than asked; truncated");
                    data.truncate(r.size as usize);
                }
                vec![data]
            })
        }
        opcode::WRITE => {
            let (w, data) = arg!(abi::WriteIn);
            let data = data.get(..w.size as usize).ok_or(Malformed)?;
            fs.write(req, ino, w.fh, w.offset, data, w.write_flags)
                .map(|size| {
                    one(&abi::WriteOut {
                        size: size.min(w.size),
                        padding: 0,
                    })
                })
        }
        opcode::FLUSH => {
            let (f, _) = arg!(abi::FlushIn);
            fs.flush(req, ino, f.fh, f.lock_owner).map(|()| Vec::new())
        }
        opcode::RELEASE => {
            let (r, _) = arg!(abi::ReleaseIn);
            fs.release(req, ino, r.fh, r.flags).map(|()| Vec::new())
        }
        opcode::RELEASEDIR => {
            let (r, _) = arg!(abi::ReleaseIn);
            fs.releasedir(req, ino, r.fh).map(|()| Vec::new())
        }
        opcode::FSYNC => {
            let (f, _) = arg!(abi::FsyncIn);
            fs.fsync(req, ino, f.fh, f.fsync_flags & 1 != 0)
                .map(|()| Vec::new())
        }
        opcode::READDIR => {
            let (r, _) = arg!(abi::ReadIn);
            let mut buf = DirBuf::new(r.size as usize);
            fs.readdir(req, ino, r.fh, r.offset, &mut buf)
                .map(|()| vec![buf.bytes().to_vec()])
        }
        opcode::STATFS => fs.statfs(req, ino).map(|st| one(&abi::StatfsOut { st })),
        opcode::ACCESS => {
            let (a, _) = arg!(abi::AccessIn);
            fs.access(req, ino, a.mask).map(|()| Vec::new())
        }
        opcode::IOCTL => {
            let (i, input) = arg!(abi::IoctlIn);
            if i.flags & abi::ioctl_flags::UNRESTRICTED != 0 {
                // Only CUSE asks these; retries are not served.
                return Ok(Err(Errno::ENOTTY));
            }
            let input = input.get(..i.in_size as usize).ok_or(Malformed)?;
            let ioctl = Ioctl {
                fh: i.fh,
                flags: i.flags,
                cmd: i.cmd,
                arg: i.arg,
                input,
                out_size: i.out_size,
            };
            fs.ioctl(req, ino, &ioctl).map(|mut r| {
                r.data.truncate(i.out_size as usize);
                let out = abi::IoctlOut {
                    result: r.result,
                    flags: 0,
                    in_iovs: 0,
                    out_iovs: 0,
                };
                vec![out.as_bytes().to_vec(), r.data]
            })
        }
        opcode::POLL => {
            let (p, _) = arg!(abi::PollIn);
            let handle = (p.flags & abi::POLL_SCHEDULE_NOTIFY != 0)
                .then(|| PollHandle::new(p.kh, Arc::clone(&shared.channel)));
            fs.poll(req, ino, p.fh, p.events, handle).map(|revents| {
                one(&abi::PollOut {
                    revents,
                    padding: 0,
                })
            })
        }
        opcode::MKNOD => {
            let (m, rest) = arg!(abi::MknodIn);
            let n = name(rest).ok_or(Malformed)?;
            fs.mknod(req, ino, n, m.mode, m.rdev, m.umask)
                .map(|e| one(&entry_out(&e)))
        }
        opcode::CREATE => {
            let (c, rest) = arg!(abi::CreateIn);
            let n = name(rest).ok_or(Malformed)?;
            fs.create(req, ino, n, c.mode, c.umask, c.flags)
                .map(|(e, o)| {
                    vec![
                        entry_out(&e).as_bytes().to_vec(),
                        open_out(&o).as_bytes().to_vec(),
                    ]
                })
        }
        opcode::UNLINK => {
            let n = name(body).ok_or(Malformed)?;
            fs.unlink(req, ino, n).map(|()| Vec::new())
        }
        opcode::DESTROY => {
            fs.destroy();
            Ok(Vec::new())
        }
        // GETXATTR, LISTXATTR, SETXATTR, REMOVEXATTR: ENOSYS, which the
        // kernel remembers, so `ls` asks once; likewise every other opcode.
        _ => Err(Errno::ENOSYS),
    })
}
