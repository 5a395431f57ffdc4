//! The five calls as umod's insmod drives them (the loader's
//! [`ModuleCalls`]), over a daemon connection: for the tools, not for
//! libumod (feature `insmod`).

use serde_bytes::ByteBuf;
use umod_abi::user::ScratchSpace;
use umod_abi::{Errno, QueryAnswer};
use umod_loader::insmod::ModuleCalls;
use umod_loader::symbols::{Export, Provider};
use umod_loader::SymbolSource;

use crate::protocol::{CallKind, Request, Response, MAX_RESOLVE};
use crate::{Client, ClientError};

fn call_errno(e: ClientError) -> Errno {
    e.errno()
}

impl ModuleCalls for Client {
    fn request_limit(&mut self) -> Option<u64> {
        self.limits().ok().map(|(max, _)| max)
    }

    fn resolve(&mut self, names: &[&[u8]]) -> Option<Result<SymbolSource, Errno>> {
        // More names than one request carries: the 2.4 way, which has no
        // such limit.
        if names.len() > MAX_RESOLVE {
            return None;
        }
        let names = names.iter().map(|n| ByteBuf::from(n.to_vec())).collect();
        Some(match self.request(&Request::Resolve { names }) {
            Ok(Response::Resolved { providers, symbols }) => {
                let providers = providers
                    .into_iter()
                    .map(|p| Provider {
                        name: p.name,
                        addr: p.addr,
                    })
                    .collect();
                let exports = symbols.into_iter().map(|s| {
                    let export = Export {
                        value: s.value,
                        provider: usize::try_from(s.provider).unwrap_or(usize::MAX),
                        gpl_only: s.gpl_only,
                    };
                    (s.name, export)
                });
                SymbolSource::from_parts(providers, exports).ok_or(Errno::EPROTO)
            }
            Ok(_) => Err(Errno::EPROTO),
            Err(e) => Err(e.errno()),
        })
    }

    fn create_module(&mut self, name: &str, size: u64) -> Result<u64, Errno> {
        let mut mem = ScratchSpace::new();
        let n = mem.put_cstr(name.as_bytes());
        // Tied: if this tool dies or its connection breaks before the
        // image is in, the daemon removes the entry.
        let ret = self
            .call_tied(CallKind::Create, [n, size, 0, 0, 0], &mut mem, true)
            .map_err(call_errno)?;
        Client::errno_of(ret).map(|a| a as u64)
    }

    fn init_module(&mut self, name: &str, image: &[u8]) -> Result<(), Errno> {
        let mut mem = ScratchSpace::new();
        let n = mem.put_cstr(name.as_bytes());
        let i = mem.put_read_only(image);
        let ret = self
            .call(CallKind::Init, [n, i, 0, 0, 0], &mut mem)
            .map_err(call_errno)?;
        Client::errno_of(ret).map(|_| ())
    }

    fn delete_module(&mut self, name: Option<&str>) -> Result<(), Errno> {
        let mut mem = ScratchSpace::new();
        let n = name.map_or(0, |n| mem.put_cstr(n.as_bytes()));
        let ret = self
            .call(CallKind::Delete, [n, 0, 0, 0, 0], &mut mem)
            .map_err(call_errno)?;
        Client::errno_of(ret).map(|_| ())
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
            match Client::errno_of(r) {
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
