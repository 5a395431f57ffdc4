//! The server against a socket playing the kernel's part: exact INIT
//! negotiation, malformed requests, interrupts. Needs no privilege.

use std::os::fd::{AsFd, OwnedFd};
use std::time::Duration;

use rustix::event::{PollFd, PollFlags};
use rustix::net::{AddressFamily, SocketFlags, SocketType};
use umod_fuse::abi::{self, init_flags, opcode, InHeader, OutHeader};
use umod_fuse::{Errno, Filesystem, Request, Result, Session};
use zerocopy::{FromBytes, IntoBytes};

/// READ sleeps until interrupted (EINTR) or 10 s pass.
struct Sleepy;

impl Filesystem for Sleepy {
    fn statfs(&self, _req: &Request, ino: u64) -> Result<umod_fuse::abi::Kstatfs> {
        assert_ne!(ino, 99, "a handler that panics");
        Ok(umod_fuse::abi::Kstatfs::default())
    }
    fn read(&self, req: &Request, _ino: u64, _fh: u64, _off: u64, _size: u32) -> Result<Vec<u8>> {
        if req.interrupt().wait_timeout(Duration::from_secs(10)) {
            Err(Errno::EINTR)
        } else {
            Ok(b"late".to_vec())
        }
    }
}

fn start() -> (Session, OwnedFd) {
    let (kernel, server) = rustix::net::socketpair(
        AddressFamily::UNIX,
        SocketType::SEQPACKET,
        SocketFlags::CLOEXEC,
        None,
    )
    .unwrap();
    (Session::from_fd(server, Sleepy).unwrap(), kernel)
}

fn send(fd: &OwnedFd, opcode: u32, unique: u64, body: &[u8]) {
    let header = InHeader {
        len: (40 + body.len()) as u32,
        opcode,
        unique,
        nodeid: 1,
        ..Default::default()
    };
    let msg = [header.as_bytes(), body].concat();
    assert_eq!(rustix::io::write(fd, &msg).unwrap(), msg.len());
}

fn recv(fd: &OwnedFd) -> (OutHeader, Vec<u8>) {
    let mut fds = [PollFd::new(fd, PollFlags::IN)];
    let timeout = rustix::time::Timespec {
        tv_sec: 5,
        tv_nsec: 0,
    };
    assert_eq!(
        rustix::event::poll(&mut fds, Some(&timeout)).unwrap(),
        1,
        "no reply within 5 s"
    );
    let mut buf = vec![0u8; 4096];
    let n = rustix::io::read(fd.as_fd(), &mut buf).unwrap();
    let (h, body) = OutHeader::read_from_prefix(&buf[..n]).unwrap();
    assert_eq!(h.len as usize, n, "the header counts the whole reply");
    (h, body.to_vec())
}

fn init(fd: &OwnedFd, minor: u32, flags: u32) -> (OutHeader, Vec<u8>) {
    let init = abi::InitIn {
        major: 7,
        minor,
        max_readahead: 65536,
        flags,
        ..Default::default()
    };
    send(fd, opcode::INIT, 2, &init.as_bytes()[..16]);
    recv(fd)
}

#[test]
fn init_takes_the_wanted_flags_at_minor_31() {
    let (session, k) = start();
    let offered = init_flags::ASYNC_READ
        | init_flags::ATOMIC_O_TRUNC
        | init_flags::BIG_WRITES
        | init_flags::DO_READDIRPLUS;
    let (h, body) = init(&k, 40, offered);
    assert_eq!((h.error, h.unique, body.len()), (0, 2, 64));
    let out = abi::InitOut::read_from_bytes(&body).unwrap();
    assert_eq!((out.major, out.minor), (7, 31));
    assert_eq!(
        out.flags,
        init_flags::ATOMIC_O_TRUNC | init_flags::BIG_WRITES,
        "no ASYNC_READ, no READDIRPLUS"
    );
    assert_eq!(
        (out.max_write, out.max_readahead, out.flags2),
        (128 * 1024, 65536, 0)
    );
    assert_eq!(session.connection().unwrap().minor, 31);
}

#[test]
fn an_older_kernel_gets_the_short_init_reply_and_a_too_old_one_eproto() {
    let (_s, k) = start();
    let (h, body) = init(&k, 22, 0);
    assert_eq!((h.error, body.len()), (0, 24));
    assert_eq!(
        abi::InitOut::read_from_prefix(&body[..])
            .map(|(o, _)| o.minor)
            .ok(),
        None
    );
    assert_eq!(u32::from_ne_bytes(body[4..8].try_into().unwrap()), 22);
    let (session, k) = start();
    let (h, body) = init(&k, 11, 0);
    assert_eq!((h.error, body.len()), (-libc::EPROTO, 0));
    assert!(session.wait_end(Duration::from_secs(5)));
}

#[test]
fn malformed_requests_are_answered_eio_and_xattrs_enosys() {
    let (_s, k) = start();
    send(&k, opcode::GETATTR, 4, &[0; 16]);
    assert_eq!(recv(&k).0.error, -libc::EIO, "a request before INIT");
    init(&k, 31, 0);
    send(&k, opcode::GETATTR, 6, &[0; 4]);
    assert_eq!(
        recv(&k).0,
        OutHeader {
            len: 16,
            error: -libc::EIO,
            unique: 6
        }
    );
    send(&k, opcode::LOOKUP, 8, b"no-terminating-nul");
    assert_eq!(recv(&k).0.error, -libc::EIO);
    let header = InHeader {
        len: 100,
        opcode: opcode::GETATTR,
        unique: 10,
        ..Default::default()
    };
    rustix::io::write(&k, [header.as_bytes(), &[0; 16]].concat().as_slice()).unwrap();
    assert_eq!(
        recv(&k).0,
        OutHeader {
            len: 16,
            error: -libc::EIO,
            unique: 10
        }
    );
    send(&k, opcode::GETXATTR, 12, &[0; 8]);
    assert_eq!(recv(&k).0.error, -libc::ENOSYS);
    send(&k, opcode::GETATTR, 14, &[0; 16]);
    assert_eq!(recv(&k).0.error, -libc::ENOSYS, "the trait's default");
    let header = InHeader {
        len: 40,
        opcode: opcode::STATFS,
        unique: 18,
        nodeid: 99,
        ..Default::default()
    };
    rustix::io::write(&k, header.as_bytes()).unwrap();
    assert_eq!(recv(&k).0.error, -libc::EIO, "a panicking handler");
    send(&k, opcode::LOOKUP, 16, b"x\0");
    assert_eq!(recv(&k).0.error, -libc::ENOENT, "the trait's default");
}

fn read_in() -> Vec<u8> {
    abi::ReadIn {
        size: 64,
        ..Default::default()
    }
    .as_bytes()
    .to_vec()
}

#[test]
fn an_interrupt_interrupts_its_request_even_when_it_comes_first() {
    let (_s, k) = start();
    init(&k, 31, 0);
    send(&k, opcode::READ, 20, &read_in());
    std::thread::sleep(Duration::from_millis(100));
    send(
        &k,
        opcode::INTERRUPT,
        21,
        abi::InterruptIn { unique: 20 }.as_bytes(),
    );
    assert_eq!(
        recv(&k).0,
        OutHeader {
            len: 16,
            error: -libc::EINTR,
            unique: 20
        }
    );
    // The interrupt first, its request just after.
    send(
        &k,
        opcode::INTERRUPT,
        31,
        abi::InterruptIn { unique: 30 }.as_bytes(),
    );
    send(&k, opcode::READ, 30, &read_in());
    assert_eq!(
        recv(&k).0,
        OutHeader {
            len: 16,
            error: -libc::EINTR,
            unique: 30
        }
    );
}

#[test]
fn an_interrupt_whose_request_never_comes_is_answered_eagain() {
    let (_s, k) = start();
    init(&k, 31, 0);
    send(
        &k,
        opcode::INTERRUPT,
        41,
        abi::InterruptIn { unique: 40 }.as_bytes(),
    );
    assert_eq!(
        recv(&k).0,
        OutHeader {
            len: 16,
            error: -libc::EAGAIN,
            unique: 41
        }
    );
}

#[test]
fn a_sleeping_request_does_not_hold_up_the_others() {
    let (session, k) = start();
    init(&k, 31, 0);
    send(&k, opcode::READ, 50, &read_in());
    send(&k, opcode::STATFS, 52, &[]);
    let (h, body) = recv(&k);
    assert_eq!((h.unique, h.error, body.len()), (52, 0, 80));
    assert!(session.threads().1 >= 2, "a second reader served STATFS");
    drop(session);
    // Dropping the session interrupted the sleeping read.
    assert_eq!(
        recv(&k).0,
        OutHeader {
            len: 16,
            error: -libc::EINTR,
            unique: 50
        }
    );
}
