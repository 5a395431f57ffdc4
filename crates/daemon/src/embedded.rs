//! A host embedded in this process as a backend for forwarded calls
//! (`umod exec --embedded`): the same dispatch as the daemon's, with this
//! process as the requester.

use umod_abi::Errno;
use umod_client::forward::Backend;
use umod_client::protocol::{Request, Response};

use crate::creds::{effective_caps, of_pid, Caps};
use crate::dispatch::{dispatch, Identity, Requester};

/// A private host in this process, serving the calls (`umod exec
/// --embedded`), as the process that created it.
pub struct Embedded {
    /// The host (shared with helper threads of the supervisor).
    pub host: std::sync::Arc<umod_host::Host>,
    me: umod_host::Caller,
    caps: Caps,
    groups: Vec<u32>,
}

impl Embedded {
    /// Wraps `host`; calls run with this process's credentials, narrowed to
    /// the forwarded process's.
    pub fn new(host: umod_host::Host) -> Embedded {
        let pid = std::process::id();
        let me = of_pid(pid).unwrap_or_else(umod_host::Caller::root);
        let caps = Caps(effective_caps(pid).unwrap_or(0));
        let groups = rustix::process::getgroups()
            .map(|g| g.into_iter().map(|g| g.as_raw()).collect())
            .unwrap_or_default();
        Embedded {
            host: std::sync::Arc::new(host),
            me,
            caps,
            groups,
        }
    }

    /// Whether this process (the host's owner) holds CAP_SYS_MODULE.
    pub fn cap_sys_module(&self) -> bool {
        self.me.cap_sys_module
    }
}

impl Backend for Embedded {
    fn request(&mut self, req: Request) -> Result<Response, Errno> {
        let who = Requester::new(
            Identity::Local {
                caller: self.me,
                caps: self.caps,
                groups: self.groups.clone(),
            },
            u64::from(umod_client::protocol::DEFAULT_MAX_FRAME),
            None,
        );
        Ok(dispatch(&self.host, &who, req))
    }
}
