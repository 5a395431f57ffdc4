//! Capabilities of a process, as `capget(2)` reports them: what a client
//! forwarding another process's call reads about that process before it
//! re-checks that the process is still the caller.

/// Bit of `CAP_DAC_OVERRIDE` in a capability set.
pub const CAP_DAC_OVERRIDE: u32 = 1;
/// Bit of `CAP_DAC_READ_SEARCH` in a capability set.
pub const CAP_DAC_READ_SEARCH: u32 = 2;
/// Bit of `CAP_SYS_MODULE` in a capability set.
pub const CAP_SYS_MODULE: u32 = 16;
/// Bit of `CAP_SYS_ADMIN` in a capability set.
pub const CAP_SYS_ADMIN: u32 = 21;
/// Bit of `CAP_SYSLOG` in a capability set.
pub const CAP_SYSLOG: u32 = 34;

/// The effective capability set of process `pid` (`capget`, one system
/// call), or `None` if it is gone.
pub fn effective(pid: u32) -> Option<u64> {
    let pid = rustix::process::Pid::from_raw(i32::try_from(pid).ok()?)?;
    rustix::thread::capabilities(Some(pid))
        .ok()
        .map(|c| c.effective.bits())
}

/// Whether process `pid` holds capability number `cap` in its effective
/// set. A process that is gone holds nothing.
pub fn has(pid: u32, cap: u32) -> bool {
    effective(pid).is_some_and(|caps| caps & (1 << cap) != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capget_agrees_with_proc_status() {
        let pid = std::process::id();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        let line = status.lines().find(|l| l.starts_with("CapEff:")).unwrap();
        let eff = u64::from_str_radix(line["CapEff:".len()..].trim(), 16).unwrap();
        assert_eq!(effective(pid), Some(eff));
        assert_eq!(effective(0x7fff_fff0), None, "no such process");
        assert_eq!(has(pid, CAP_SYS_MODULE), eff & (1 << CAP_SYS_MODULE) != 0);
    }
}
