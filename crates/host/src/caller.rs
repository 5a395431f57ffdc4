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

/// Who opens a file (a /proc entry): what 2.4's `permission()` looked at.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileCreds {
    /// File-system user id (the effective one).
    pub uid: u32,
    /// File-system group id (the effective one).
    pub gid: u32,
    /// Supplementary groups.
    pub groups: Vec<u32>,
    /// Holds `CAP_DAC_OVERRIDE`: any mode is no obstacle.
    pub dac_override: bool,
    /// Holds `CAP_DAC_READ_SEARCH`: any file may be read.
    pub dac_read_search: bool,
}

/// Read permission (`MAY_READ`).
pub const MAY_READ: u32 = 4;
/// Write permission (`MAY_WRITE`).
pub const MAY_WRITE: u32 = 2;

impl FileCreds {
    /// Root, with every override: the embedding program reading its own
    /// host.
    pub fn root() -> FileCreds {
        FileCreds {
            dac_override: true,
            dac_read_search: true,
            ..FileCreds::default()
        }
    }

    /// 2.4's `vfs_permission`: the owner's bits if the uid matches, else
    /// the group's if a group matches, else the others'; then the
    /// capability overrides. `want` is `MAY_READ` and/or `MAY_WRITE`.
    pub fn may(&self, mode: u32, uid: u32, gid: u32, want: u32) -> bool {
        let bits = if self.uid == uid {
            mode >> 6
        } else if self.gid == gid || self.groups.contains(&gid) {
            mode >> 3
        } else {
            mode
        };
        bits & want & 7 == want || self.dac_override || (want == MAY_READ && self.dac_read_search)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permission_follows_owner_group_other_then_capabilities() {
        let user = FileCreds {
            uid: 1000,
            gid: 100,
            groups: vec![20],
            ..FileCreds::default()
        };
        assert!(user.may(0o400, 1000, 0, MAY_READ), "owner bits");
        assert!(
            !user.may(0o044, 1000, 100, MAY_READ),
            "owner bits only, even if group allows"
        );
        assert!(user.may(0o040, 0, 20, MAY_READ), "a supplementary group");
        assert!(!user.may(0o400, 0, 0, MAY_READ), "0400 root's");
        assert!(user.may(0o444, 0, 0, MAY_READ));
        assert!(!user.may(0o444, 0, 0, MAY_WRITE));
        let reader = FileCreds {
            dac_read_search: true,
            ..user.clone()
        };
        assert!(reader.may(0o000, 0, 0, MAY_READ) && !reader.may(0o000, 0, 0, MAY_WRITE));
        assert!(FileCreds::root().may(0o000, 5, 5, MAY_READ | MAY_WRITE));
    }
}
