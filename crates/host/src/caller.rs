//! Who is making a module call.

/// The identity and privilege of the process behind a call.
///
/// `create_module`, `init_module` and `delete_module` need
/// `CAP_SYS_MODULE`, checked before any pointer is read;
/// `query_module` and `get_kernel_syms` need nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Caller {
    /// Process id.
    pub pid: u32,
    /// Effective user id.
    pub uid: u32,
    /// Effective group id.
    pub gid: u32,
    /// Whether the caller holds `CAP_SYS_MODULE` in its effective set.
    pub cap_sys_module: bool,
}

impl Caller {
    /// A privileged caller (uid 0 with `CAP_SYS_MODULE`) with this process's pid.
    pub fn root() -> Caller {
        Caller {
            pid: std::process::id(),
            uid: 0,
            gid: 0,
            cap_sys_module: true,
        }
    }

    /// An unprivileged caller (no capabilities) with the given ids.
    pub fn user(uid: u32, gid: u32) -> Caller {
        Caller {
            pid: std::process::id(),
            uid,
            gid,
            cap_sys_module: false,
        }
    }
}

/// Which kernel generation the host impersonates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Personality {
    /// Linux 2.4: all five calls with their 2.4 meaning.
    #[default]
    Linux24,
    /// Linux 2.6 and later: `create_module`, `query_module` and
    /// `get_kernel_syms` give `ENOSYS`.
    Linux26,
    /// A 2.4 kernel built without `CONFIG_MODULES`: every call gives
    /// `ENOSYS` except the `query_module(..., 0, ...)` probe, which gives 0.
    NoModules,
}

impl std::str::FromStr for Personality {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "2.4" => Ok(Personality::Linux24),
            "2.6" | "2.6+" => Ok(Personality::Linux26),
            "none" => Ok(Personality::NoModules),
            other => Err(format!(
                "unknown personality `{other}` (expected 2.4, 2.6 or none)"
            )),
        }
    }
}
