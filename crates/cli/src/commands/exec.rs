//! `umod exec`: run an unmodified program whose legacy module syscalls are
//! served by the daemon (or `--embedded`, a private host).

use std::ffi::OsString;
use std::path::Path;

use umod_client::{socket_path, Client};
use umod_daemon::Embedded;
use umod_host::Host;
use umod_intercept::{exec, Backend, ExecConfig};

use crate::Failure;

/// Runs `argv`; exits with its status.
pub fn run(
    socket: Option<&Path>,
    embedded: bool,
    uname_release: Option<String>,
    proc_views: bool,
    null: bool,
    floor: bool,
    argv: Vec<OsString>,
) -> Result<(), Failure> {
    let backend = if embedded || null || floor {
        Backend::Embedded(Embedded::new(
            Host::new().map_err(|e| Failure::new(format!("exec: cannot start a host: {e}")))?,
        ))
    } else {
        let socket = socket_path(socket);
        let client = Client::connect(&socket).map_err(|e| Failure::new(format!("exec: {e}")))?;
        Backend::Daemon(client, socket)
    };
    let config = ExecConfig {
        argv,
        uname_release,
        proc_views,
        null,
        floor,
    };
    let code = exec(config, backend).map_err(|e| Failure::new(format!("exec: {e}")))?;
    std::process::exit(code);
}
