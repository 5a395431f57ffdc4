//! Serving one request as its requester: the five calls over the caller's
//! memory rebuilt from the regions it sent, one-shot loads, the log and
//! the /proc views.

use std::cell::{OnceCell, RefCell};

use umod_abi::{Errno, UTS_RELEASE};
use umod_host::{
    Caller, FileCreds, Host, LoadOptions, Personality, ScratchSpace, ViewChunk, ViewPos,
};

use crate::creds::{Caps, Peer, CAP_SYSLOG, CAP_SYS_MODULE};
use umod_client::protocol::{
    self, CallKind, LogLine, MapLine, ProviderLine, Request, Response, SymbolLine,
};

/// Who a request comes from.
pub enum Identity<'a> {
    /// A client of the daemon: the connection's peer, and the process that
    /// sent this request (`None` when its bytes came from more than one,
    /// or one the daemon cannot name).
    Connection {
        /// The peer as of connect.
        peer: &'a Peer,
        /// The sender of this request.
        sender: Option<u32>,
    },
    /// The process a host is embedded in, as it is now.
    Local {
        /// Its identity and CAP_SYS_MODULE.
        caller: Caller,
        /// Its effective capabilities.
        caps: Caps,
        /// Its supplementary groups.
        groups: Vec<u32>,
    },
}

/// A request's requester: its identity, the capabilities it holds (read
/// once, on first need: queries never pay for them), its request limit,
/// and where the entries it ties to its connection are noted.
pub struct Requester<'a> {
    identity: Identity<'a>,
    caps: OnceCell<Caps>,
    /// The largest request it may send.
    pub max_request: u64,
    /// Entries created with `tied` on its connection.
    tied: Option<&'a RefCell<Vec<u64>>>,
}

impl<'a> Requester<'a> {
    /// A requester; `tied` collects the ids of entries tied to its
    /// connection (none for a local one).
    pub fn new(
        identity: Identity<'a>,
        max_request: u64,
        tied: Option<&'a RefCell<Vec<u64>>>,
    ) -> Requester<'a> {
        Requester {
            identity,
            caps: OnceCell::new(),
            max_request,
            tied,
        }
    }

    /// The capabilities it holds now.
    pub fn caps(&self) -> Caps {
        *self.caps.get_or_init(|| match &self.identity {
            Identity::Connection { peer, sender } => peer.capabilities(*sender),
            Identity::Local { caps, .. } => *caps,
        })
    }

    /// The caller the host sees, with CAP_SYS_MODULE as it holds it now.
    pub fn caller(&self) -> Caller {
        let caps = self.caps();
        match &self.identity {
            Identity::Connection { peer, sender } => peer.caller(*sender, caps),
            Identity::Local { caller, .. } => *caller,
        }
    }

    /// The caller for a request that needs no privilege (no capability is
    /// read).
    fn caller_without_privilege(&self) -> Caller {
        match &self.identity {
            Identity::Connection { peer, sender } => peer.caller(*sender, Caps::default()),
            Identity::Local { caller, .. } => Caller {
                cap_sys_module: false,
                ..*caller
            },
        }
    }

    /// Who it is when it opens a /proc entry.
    fn file_creds(&self) -> FileCreds {
        match &self.identity {
            Identity::Connection { peer, .. } => peer.file_creds(self.caps()),
            Identity::Local {
                caller,
                caps,
                groups,
            } => FileCreds {
                uid: caller.uid,
                gid: caller.gid,
                groups: groups.clone(),
                dac_override: caps.has(crate::creds::CAP_DAC_OVERRIDE),
                dac_read_search: caps.has(crate::creds::CAP_DAC_READ_SEARCH),
            },
        }
    }

    /// Whether it may see the host's own addresses in the log (as
    /// `kptr_restrict` allows CAP_SYSLOG).
    fn sees_host_addresses(&self) -> bool {
        let caps = self.caps();
        caps.has(CAP_SYSLOG) || caps.has(CAP_SYS_MODULE)
    }
}

fn error(errno: Errno, message: impl Into<String>) -> Response {
    Response::Error {
        errno: errno.0,
        message: message.into().into_bytes(),
    }
}

/// Runs one request for `who`.
pub fn dispatch(host: &Host, who: &Requester<'_>, req: Request) -> Response {
    match req {
        Request::Call {
            call,
            args,
            regions,
            on_behalf_of,
            on_behalf_cap,
            tied,
        } => {
            let needs_privilege =
                matches!(call, CallKind::Create | CallKind::Init | CallKind::Delete);
            let own = if needs_privilege {
                who.caller()
            } else {
                who.caller_without_privilege()
            };
            let caller = if on_behalf_of == 0 {
                own
            } else {
                // The host looks at nothing but the capability, so the ids
                // stay the connection's. The forwarded process's capability
                // is the client's reading (see `on_behalf_cap`), and never
                // more privilege than the client itself has.
                Caller {
                    pid: on_behalf_of,
                    cap_sys_module: on_behalf_cap && own.cap_sys_module,
                    ..own
                }
            };
            let response = run_call(host, &caller, call, args, &regions);
            if let (true, CallKind::Create, Some(list)) = (tied, call, who.tied) {
                if let Response::CallResult { ret, .. } = &response {
                    if let Some(id) = u64::try_from(*ret).ok().and_then(|a| host.entry_id(a)) {
                        list.borrow_mut().push(id);
                    }
                }
            }
            response
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
            match host.load_object(&who.caller(), &name, &object, &options) {
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
            if clear && !who.caller().cap_sys_module {
                return error(Errno::EPERM, "clearing the kernel log needs CAP_SYS_MODULE");
            }
            let privileged = who.sees_host_addresses();
            let lines = host
                .dmesg()
                .into_iter()
                .map(|r| LogLine {
                    seq: r.seq,
                    level: r.level,
                    time_ns: u64::try_from(r.time.as_nanos()).unwrap_or(u64::MAX),
                    text: r.text_for(privileged).as_bytes().to_vec(),
                })
                .collect();
            if clear {
                host.clear_dmesg();
            }
            Response::Log(lines)
        }
        Request::ProcModules { from, max } => {
            chunk(host.proc_modules_chunk(view_pos(from), view_max(max)))
        }
        Request::ProcKsyms { from, max } => {
            chunk(host.proc_ksyms_chunk(view_pos(from), view_max(max)))
        }
        Request::Resolve { names } => {
            let names: Vec<&[u8]> = names.iter().map(|n| n.as_slice()).collect();
            match host.resolve_symbols(&who.caller(), &names) {
                Ok(source) => resolved(&source),
                Err(e) => error(e, e.description()),
            }
        }
        Request::ReadProc { name } => {
            text(host.read_proc_as(&who.file_creds(), &String::from_utf8_lossy(&name)))
        }
        Request::RaiseIrq { irq } => {
            if !who.caller().cap_sys_module {
                return error(Errno::EPERM, "raising an interrupt needs CAP_SYS_MODULE");
            }
            match host.raise_irq(u64::from(irq)) {
                Ok(()) => Response::Text(Vec::new()),
                Err(e) if e == Errno::ENODEV => error(e, format!("no handler on IRQ {irq}")),
                Err(e) if e == Errno::EINVAL => error(e, "no such line"),
                Err(e) => error(e, e.description()),
            }
        }
        Request::AddTaint {
            bits,
            replace,
            on_behalf_of,
            on_behalf_cap,
        } => {
            let allowed = who.caller().cap_sys_module && (on_behalf_of == 0 || on_behalf_cap);
            if !allowed {
                return error(Errno::EPERM, "tainting the host needs CAP_SYS_MODULE");
            }
            if replace {
                host.set_taint(bits);
            } else {
                host.add_taint(bits);
            }
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
                max_request: who.max_request,
                privileged: who.caller().cap_sys_module,
            }
        }
    }
}

/// The most bytes of a listing one answer carries, whatever was asked:
/// a listing of any size costs the daemon this much at a time.
pub const MAX_VIEW_CHUNK: usize = 256 << 10;

fn view_pos(c: protocol::Cursor) -> ViewPos {
    ViewPos::from_raw(c.entry, c.line)
}

fn view_max(max: u32) -> usize {
    usize::try_from(max)
        .unwrap_or(usize::MAX)
        .min(MAX_VIEW_CHUNK)
}

fn chunk(r: Result<ViewChunk, Errno>) -> Response {
    match r {
        Ok(c) => Response::Chunk {
            text: c.text,
            next: c.next.map(|p| {
                let (entry, line) = p.raw();
                protocol::Cursor { entry, line }
            }),
        },
        Err(e) => error(e, e.description()),
    }
}

fn resolved(source: &umod_loader::SymbolSource) -> Response {
    let providers = source
        .providers()
        .iter()
        .map(|p| ProviderLine {
            name: p.name.clone(),
            addr: p.addr,
        })
        .collect();
    let symbols = source
        .exports()
        .map(|(name, e)| SymbolLine {
            name: name.to_vec(),
            value: e.value,
            provider: u32::try_from(e.provider).expect("fewer providers than names"),
            gpl_only: e.gpl_only,
        })
        .collect();
    Response::Resolved { providers, symbols }
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
        .filter_map(|r| {
            mem.peek(r.addr, r.bytes.len())
                .map(|b| (r.addr, serde_bytes::ByteBuf::from(b)))
        })
        .collect();
    Response::CallResult { ret, writes }
}

/// Rebuilds the caller's memory from the regions it sent. Memory is mapped
/// and protected in pages, so regions that share a page (a name and a
/// buffer on the same stack page) share it here too. What this allocates
/// is the regions' bytes plus at most two pages of padding per region
/// (and there are at most [`protocol::MAX_REGIONS`]), and a few words of
/// bookkeeping per page.
pub fn caller_memory(regions: &[protocol::Region]) -> Option<ScratchSpace> {
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
    // Runs of adjacent pages with one protection, each allocated once,
    // zero-filled, then each region's bytes copied straight into the run
    // that holds them.
    let mut spans: Vec<(u64, u64, bool)> = Vec::new();
    for (page, writable) in pages {
        match spans.last_mut() {
            Some((start, end, w)) if *end == page && *w == writable => *end = page + PAGE,
            _ => spans.push((page, page + PAGE, writable)),
        }
    }
    let mut runs: Vec<(u64, Vec<u8>, bool)> = spans
        .into_iter()
        .map(|(start, end, w)| (start, vec![0u8; (end - start) as usize], w))
        .collect();
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
            let caller = Caller {
                cap_sys_module: client,
                ..Caller::root()
            };
            let who = Requester::new(
                Identity::Local {
                    caller,
                    caps: Caps(u64::from(client) << CAP_SYS_MODULE),
                    groups: Vec::new(),
                },
                1 << 20,
                None,
            );
            let req = Request::Call {
                call: CallKind::Create,
                args: [name, 4096, 0, 0, 0],
                regions: vec![region(name, b"forwarded\0", false)],
                on_behalf_of: 4242,
                on_behalf_cap: process,
                tied: false,
            };
            match dispatch(&host, &who, req) {
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
