//! The five calls of an embedded host as a 2.4 insmod sees them, so the
//! loader's 2.4 sequence can drive an in-process host.

use umod_abi::{Errno, QueryAnswer};
use umod_loader::insmod::ModuleCalls;

use crate::caller::Caller;
use crate::host::Host;

/// An in-process host plus the caller the calls are made as.
#[derive(Debug, Clone, Copy)]
pub struct LocalCalls<'a> {
    /// The host.
    pub host: &'a Host,
    /// Who is calling.
    pub caller: Caller,
}

impl<'a> LocalCalls<'a> {
    /// Calls on `host` as `caller`.
    pub fn new(host: &'a Host, caller: Caller) -> LocalCalls<'a> {
        LocalCalls { host, caller }
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
}
