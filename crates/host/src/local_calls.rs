//! The five calls of an embedded host as a 2.4 insmod sees them, so the
//! loader's 2.4 sequence can drive an in-process host; optionally with
//! umod's one-request symbol resolution, as umod's own tools use it.

use umod_abi::{Errno, QueryAnswer};
use umod_loader::insmod::ModuleCalls;
use umod_loader::SymbolSource;

use crate::caller::Caller;
use crate::host::Host;

/// An in-process host plus the caller the calls are made as.
#[derive(Debug, Clone, Copy)]
pub struct LocalCalls<'a> {
    /// The host.
    pub host: &'a Host,
    /// Who is calling.
    pub caller: Caller,
    /// Resolve symbols in one request ([`Host::resolve_symbols`]) instead
    /// of reading every module's table with `query_module`.
    pub resolve: bool,
}

impl<'a> LocalCalls<'a> {
    /// The five calls on `host` as `caller`, as a 2.4 insmod made them.
    pub fn new(host: &'a Host, caller: Caller) -> LocalCalls<'a> {
        LocalCalls {
            host,
            caller,
            resolve: false,
        }
    }

    /// The calls on `host` as `caller`, symbols resolved in one request.
    pub fn resolving(host: &'a Host, caller: Caller) -> LocalCalls<'a> {
        LocalCalls {
            resolve: true,
            ..LocalCalls::new(host, caller)
        }
    }
}

impl ModuleCalls for LocalCalls<'_> {
    fn create_module(&mut self, name: &str, size: u64) -> Result<u64, Errno> {
        self.host.create(&self.caller, name, size)
    }

    fn init_module(&mut self, name: &str, image: &[u8]) -> Result<(), Errno> {
        self.host.init(&self.caller, name, image)
    }

    fn delete_module(&mut self, name: Option<&str>) -> Result<(), Errno> {
        self.host.delete(&self.caller, name)
    }

    fn query_module(&mut self, name: Option<&str>, which: i32) -> Result<QueryAnswer, Errno> {
        self.host.query(name, which)
    }

    fn resolve(&mut self, names: &[&[u8]]) -> Option<Result<SymbolSource, Errno>> {
        self.resolve
            .then(|| self.host.resolve_symbols(&self.caller, names))
    }
}
