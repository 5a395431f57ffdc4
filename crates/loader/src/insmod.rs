//! The 2.4 load sequence, as modutils' and BusyBox's insmod ran it:
//! gather symbols with `query_module`, `create_module` for the planned
//! size, relocate at the address it returned, `init_module`; and
//! `delete_module` on any failure after the create.

use umod_abi::{Errno, QueryAnswer, QM_INFO, QM_MODULES, QM_PROBE, QM_SYMBOLS};

use crate::error::LoadError;
use crate::link::{Image, LinkOptions, LoadMap};
use crate::symbols::SymbolSource;
use crate::ModuleObject;

/// The five calls as a 2.4 insmod sees them (an embedded host, the daemon,
/// or the real syscalls).
pub trait ModuleCalls {
    /// `create_module(name, size)`.
    fn create_module(&mut self, name: &str, size: u64) -> Result<u64, Errno>;
    /// `init_module(name, image)`.
    fn init_module(&mut self, name: &str, image: &[u8]) -> Result<(), Errno>;
    /// `delete_module(name)`; `None` is the autoclean sweep.
    fn delete_module(&mut self, name: Option<&str>) -> Result<(), Errno>;
    /// `query_module(name, which)`, the buffer grown until it fits.
    fn query_module(&mut self, name: Option<&str>, which: i32) -> Result<QueryAnswer, Errno>;
    /// The exports that define `names`, newest module first and then the
    /// kernel, as [`gather_symbols`] would find them, in one request, when
    /// the other side can answer that (umod's hosts can; the 2.4 calls
    /// cannot, so `None`). What is not exported is simply not in the
    /// table.
    fn resolve(&mut self, names: &[&[u8]]) -> Option<Result<SymbolSource, Errno>> {
        let _ = names;
        None
    }

    /// The largest `init_module` request the other side takes, if it has
    /// a limit (a daemon does): an image that cannot travel is refused
    /// before `create_module`, so nothing is left behind.
    fn request_limit(&mut self) -> Option<u64> {
        None
    }
}

/// What an `init_module` request carries besides the image and the name:
/// the frame and message headers and two regions' headers.
pub const INIT_REQUEST_OVERHEAD: u64 = 128;

/// Why an insmod failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InsmodError {
    /// The object could not be linked.
    #[error("{0}")]
    Load(#[from] LoadError),
    /// The host has no 2.1+ module interface (the probe failed).
    #[error("the host has no query_module interface: {0}")]
    NoInterface(Errno),
    /// A call failed.
    #[error("{call}: {errno}")]
    Call {
        /// Which call.
        call: &'static str,
        /// Its errno.
        errno: Errno,
    },
    /// `create_module` said EEXIST.
    #[error("a module named {0} already exists")]
    Exists(String),
    /// `create_module` said ENOMEM.
    #[error("not enough module memory for {0} bytes")]
    NoMemory(u64),
    /// The image cannot travel to the host in one request.
    #[error(
        "the image is {size} bytes, over the module host's limit of {limit} bytes per request \
         (a daemon's --max-request)"
    )]
    TooLarge {
        /// Bytes the image request needs.
        size: u64,
        /// Bytes the host takes.
        limit: u64,
    },
}

impl InsmodError {
    /// The errno behind the failure, for tools that report one.
    pub fn errno(&self) -> Errno {
        match self {
            InsmodError::Load(e) => e.errno(),
            InsmodError::NoInterface(e) => *e,
            InsmodError::Call { errno, .. } => *errno,
            InsmodError::Exists(_) => Errno::EEXIST,
            InsmodError::NoMemory(_) => Errno::ENOMEM,
            InsmodError::TooLarge { .. } => Errno::EMSGSIZE,
        }
    }
}

/// What a successful insmod produced.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// Where the module's header is.
    pub addr: u64,
    /// The image handed to `init_module`.
    pub image: Image,
    /// Where its sections and symbols went.
    pub map: LoadMap,
    /// The modules it depends on.
    pub deps: Vec<Vec<u8>>,
}

/// Gathers every exported symbol the way insmod did: each module's
/// (newest first), then the kernel's.
pub fn gather_symbols(calls: &mut dyn ModuleCalls) -> Result<SymbolSource, InsmodError> {
    calls
        .query_module(None, QM_PROBE)
        .map_err(InsmodError::NoInterface)?;
    let call = |errno| InsmodError::Call {
        call: "query_module",
        errno,
    };
    let mut source = SymbolSource::new();
    let QueryAnswer::Names(modules) = calls.query_module(None, QM_MODULES).map_err(call)? else {
        return Err(call(Errno::EPROTO));
    };
    for module in modules {
        let name = String::from_utf8_lossy(&module).into_owned();
        // A module removed between the calls is skipped, as insmod did.
        let addr = match calls.query_module(Some(&name), QM_INFO) {
            Ok(QueryAnswer::Info(info)) => info.addr,
            Err(Errno::ENOENT) => continue,
            Ok(_) => return Err(call(Errno::EPROTO)),
            Err(e) => return Err(call(e)),
        };
        match calls.query_module(Some(&name), QM_SYMBOLS) {
            Ok(QueryAnswer::Symbols(syms)) => source.add_module(&module, addr, syms),
            Err(Errno::ENOENT) => continue,
            Ok(_) => return Err(call(Errno::EPROTO)),
            Err(e) => return Err(call(e)),
        }
    }
    match calls.query_module(None, QM_SYMBOLS).map_err(call)? {
        QueryAnswer::Symbols(syms) => source.add_kernel(syms),
        _ => return Err(call(Errno::EPROTO)),
    }
    Ok(source)
}

/// Loads `module` with `args` through the 2.4 sequence.
pub fn insmod(
    calls: &mut dyn ModuleCalls,
    module: &ModuleObject<'_>,
    args: &[String],
    options: &LinkOptions,
) -> Result<Loaded, InsmodError> {
    let symbols = match calls.resolve(&module.wanted_symbols()) {
        Some(Ok(symbols)) => symbols,
        Some(Err(errno @ Errno::ENOSYS)) => return Err(InsmodError::NoInterface(errno)),
        Some(Err(errno)) => {
            return Err(InsmodError::Call {
                call: "resolve",
                errno,
            })
        }
        None => gather_symbols(calls)?,
    };
    let plan = module.plan(&symbols, args, options)?;
    let name = module.name.as_str();
    if let Some(limit) = calls.request_limit() {
        let size = plan.size() + name.len() as u64 + INIT_REQUEST_OVERHEAD;
        if size > limit {
            return Err(InsmodError::TooLarge { size, limit });
        }
    }
    let addr = match calls.create_module(name, plan.size()) {
        Ok(addr) => addr,
        Err(Errno::EEXIST) => return Err(InsmodError::Exists(name.to_string())),
        Err(Errno::ENOMEM) => return Err(InsmodError::NoMemory(plan.size())),
        Err(errno) => {
            return Err(InsmodError::Call {
                call: "create_module",
                errno,
            })
        }
    };
    let image = match plan.relocate(addr) {
        Ok(image) => image,
        Err(e) => {
            let _ = calls.delete_module(Some(name));
            return Err(e.into());
        }
    };
    if let Err(errno) = calls.init_module(name, &image.bytes) {
        let _ = calls.delete_module(Some(name));
        return Err(InsmodError::Call {
            call: "init_module",
            errno,
        });
    }
    Ok(Loaded {
        addr,
        map: plan.load_map(addr),
        deps: plan.deps().iter().map(|p| p.name.clone()).collect(),
        image,
    })
}
