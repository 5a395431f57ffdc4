//! One client connection: requests read as they arrive, charged before
//! they are read, served, answered; closed when idle, when a request is
//! too slow to arrive, or when the daemon stops.
//!
//! Each request is stamped with the process that sent it (every byte; see
//! `creds.rs`). A request from a connection that cannot hold privilege is
//! charged to its user's memory budget before its body is read, and its
//! body is read in chunks as it arrives, so the daemon never holds more
//! for it than the bytes that came plus what the budget allows.

use std::cell::RefCell;
use std::io::Write;
use std::os::fd::BorrowedFd;
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use umod_abi::Errno;
use umod_host::Host;

use crate::creds::Peer;
use crate::dispatch::{dispatch, Identity, Requester};
use crate::limits::{Budget, Charge, Limits};
use crate::sockopt;
use umod_client::protocol::{self, Request, Response, READ_CHUNK};

/// How long a request may wait for memory other requests hold.
const BUDGET_WAIT: Duration = Duration::from_secs(2);

/// What a connection needs of the daemon.
pub struct Context<'a> {
    /// The host.
    pub host: &'a Host,
    /// The limits.
    pub limits: &'a Limits,
    /// The memory budget of callers without privilege.
    pub budget: &'a Budget,
    /// Becomes readable when the daemon stops (the read end of a pipe
    /// whose write end the daemon closes then), so a waiting connection
    /// wakes at once, and not before.
    pub stop: BorrowedFd<'a>,
}

/// A request as it arrived.
struct Incoming<'b> {
    payload: Vec<u8>,
    /// The one process that sent every byte of it, if there was one.
    sender: Option<u32>,
    /// What it was charged (dropped once it is answered).
    _charge: Option<Charge<'b>>,
}

/// Why no request came.
enum NoRequest {
    /// The client closed the connection.
    Closed,
    /// The daemon is stopping.
    Stopping,
    /// Tell the client why, then close.
    Refuse(Errno, String),
}

/// Serves `stream` from `peer` until it closes, idles out or the daemon
/// stops; then removes the entries the client tied to the connection and
/// did not initialize.
pub fn serve(stream: UnixStream, peer: &Peer, cx: &Context<'_>) {
    let tied = RefCell::new(Vec::new());
    let _ = stream.set_write_timeout(Some(cx.limits.request_time));
    loop {
        let incoming = match next_request(&stream, peer, cx) {
            Ok(r) => r,
            Err(NoRequest::Closed | NoRequest::Stopping) => break,
            Err(NoRequest::Refuse(errno, why)) => {
                tracing::debug!(pid = peer.pid, uid = peer.uid, "closing: {why}");
                let _ = answer(&stream, &error(errno, why));
                break;
            }
        };
        let max_request = u64::from(max_request(peer, incoming.sender, cx.limits));
        let response = match Request::decode(&incoming.payload) {
            Ok(req) => {
                let who = Requester::new(
                    Identity::Connection {
                        peer,
                        sender: incoming.sender,
                    },
                    max_request,
                    Some(&tied),
                );
                dispatch(cx.host, &who, req)
            }
            Err(e) => {
                tracing::debug!(pid = peer.pid, "bad request: {e}");
                error(Errno::EPROTO, e.to_string())
            }
        };
        drop(incoming.payload);
        if answer(&stream, &response).is_err() {
            break;
        }
    }
    for id in tied.into_inner() {
        if let Some(name) = cx.host.discard_uninitialized(id) {
            let name = String::from_utf8_lossy(&name);
            tracing::info!(module = %name, "removed: its client went away before initializing it");
            cx.host.printk(
                umod_host::services::KERN_WARNING,
                &format!("{name}: removed: its client went away before initializing it"),
            );
        }
    }
}

fn error(errno: Errno, message: impl Into<String>) -> Response {
    Response::Error {
        errno: errno.0,
        message: message.into().into_bytes(),
    }
}

fn answer(mut stream: &UnixStream, response: &Response) -> std::io::Result<()> {
    protocol::write_frame(&mut stream, &response.encode())?;
    stream.flush()
}

/// The largest request a connection's sender may send.
fn max_request(peer: &Peer, sender: Option<u32>, limits: &Limits) -> u32 {
    if peer.root_at_connect() && sender == Some(peer.pid) {
        limits.max_request
    } else {
        limits.max_unprivileged_request
    }
}

/// Waits until `stream` is readable or `deadline` passes (`false`),
/// giving up when the daemon stops.
fn wait_readable(
    stream: &UnixStream,
    deadline: Instant,
    stop: BorrowedFd<'_>,
) -> Result<bool, NoRequest> {
    use rustix::event::{poll, PollFd, PollFlags};
    loop {
        let now = Instant::now();
        if now >= deadline {
            return Ok(false);
        }
        let wait = deadline - now;
        let timeout = rustix::time::Timespec {
            tv_sec: wait.as_secs() as i64,
            tv_nsec: i64::from(wait.subsec_nanos()),
        };
        let mut fds = [
            PollFd::new(stream, PollFlags::IN),
            PollFd::new(&stop, PollFlags::IN),
        ];
        match poll(&mut fds, Some(&timeout)) {
            Ok(0) | Err(rustix::io::Errno::INTR) => continue,
            Ok(_) if !fds[1].revents().is_empty() => return Err(NoRequest::Stopping),
            Ok(_) => return Ok(true),
            Err(_) => return Err(NoRequest::Closed),
        }
    }
}

/// Receives up to `buf.len()` bytes before `deadline`, noting who sent
/// them in `sender` (several, once two processes have).
fn receive(
    stream: &UnixStream,
    buf: &mut [u8],
    deadline: Instant,
    stop: BorrowedFd<'_>,
    sender: &mut SenderSeen,
) -> Result<usize, NoRequest> {
    if !wait_readable(stream, deadline, stop)? {
        return Err(NoRequest::Refuse(
            Errno::ETIMEDOUT,
            "closed: the request did not arrive in time".into(),
        ));
    }
    match sockopt::recv_with_sender(stream, buf) {
        Ok((0, _)) => Err(NoRequest::Closed),
        Ok((n, from)) => {
            sender.saw(from);
            Ok(n)
        }
        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => Ok(0),
        Err(_) => Err(NoRequest::Closed),
    }
}

/// The sender of a request's bytes so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SenderSeen {
    Nobody,
    One(Option<u32>),
    Several,
}

impl SenderSeen {
    fn saw(&mut self, from: Option<u32>) {
        *self = match *self {
            SenderSeen::Nobody => SenderSeen::One(from),
            SenderSeen::One(s) if s == from => SenderSeen::One(s),
            _ => SenderSeen::Several,
        };
    }

    fn sender(self) -> Option<u32> {
        match self {
            SenderSeen::One(s) => s,
            _ => None,
        }
    }
}

/// Reads the next request: waits for its first byte (closing the
/// connection after `limits.idle`), checks its length against the
/// sender's limit, charges it, and reads the rest as it arrives (within
/// `limits.request_time`).
fn next_request<'b>(
    stream: &UnixStream,
    peer: &Peer,
    cx: &Context<'b>,
) -> Result<Incoming<'b>, NoRequest> {
    let limits = cx.limits;
    let idle_deadline = Instant::now() + limits.idle;
    if !wait_readable(stream, idle_deadline, cx.stop)? {
        return Err(NoRequest::Refuse(
            Errno::ETIMEDOUT,
            format!(
                "closed: no request for {} s (the idle limit)",
                limits.idle.as_secs()
            ),
        ));
    }
    let deadline = Instant::now() + limits.request_time;
    let mut sender = SenderSeen::Nobody;
    let mut header = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        got += receive(stream, &mut header[got..], deadline, cx.stop, &mut sender)?;
    }
    let len = u32::from_le_bytes(header);
    let trusted = peer.root_at_connect() && sender.sender() == Some(peer.pid);
    let limit = max_request(peer, sender.sender(), limits);
    if len > limit {
        return Err(NoRequest::Refuse(
            Errno::EMSGSIZE,
            format!("a request of {len} bytes is over this caller's limit of {limit} bytes"),
        ));
    }
    // Callers that cannot hold privilege pay for their request before any
    // of it is kept.
    let charge = if trusted {
        None
    } else {
        let cost = Limits::request_cost(len);
        match cx.budget.charge(peer.uid, cost, BUDGET_WAIT) {
            Ok(c) => Some(c),
            Err(why) => return Err(NoRequest::Refuse(Errno::EAGAIN, why.to_string())),
        }
    };
    let len = len as usize;
    let mut payload = Vec::with_capacity(len.min(READ_CHUNK));
    while payload.len() < len {
        let old = payload.len();
        payload.resize(old + (len - old).min(READ_CHUNK), 0);
        let n = receive(stream, &mut payload[old..], deadline, cx.stop, &mut sender)?;
        payload.truncate(old + n);
    }
    if sender == SenderSeen::Several && charge.is_none() {
        // Sized as a privileged request, written partly by another process.
        return Err(NoRequest::Refuse(
            Errno::EPROTO,
            "a request written by more than one process".into(),
        ));
    }
    Ok(Incoming {
        payload,
        sender: sender.sender(),
        _charge: charge,
    })
}

/// Writes a refusal to a connection that will not be served, and closes it.
pub fn refuse(stream: UnixStream, errno: Errno, why: &str) {
    let _ = stream.set_write_timeout(Some(Duration::from_millis(200)));
    let _ = answer(&stream, &error(errno, why));
}
