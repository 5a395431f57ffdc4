//! `umod serve`: the machine-wide daemon, in the foreground, on its own
//! socket or one a service manager passed (systemd's socket activation),
//! with a boot-time module list (`--preload`).

use std::io::IsTerminal;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use umod_daemon::preload::{self, PreloadList};
use umod_daemon::{socket_path, Daemon, DaemonConfig};
use umod_host::Personality;

/// Parses a size with an optional K, M or G suffix.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let (digits, mult) = match s.char_indices().last() {
        Some((i, 'k' | 'K')) => (&s[..i], 1u64 << 10),
        Some((i, 'm' | 'M')) => (&s[..i], 1 << 20),
        Some((i, 'g' | 'G')) => (&s[..i], 1 << 30),
        _ => (s, 1),
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .ok_or_else(|| format!("bad size `{s}` (a number with an optional K, M or G)"))
}

/// Parses a duration in seconds (fractions allowed).
pub fn parse_seconds(s: &str) -> Result<Duration, String> {
    s.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v > 0.0 && *v < 1e9)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| format!("bad duration `{s}` (seconds, more than 0)"))
}

/// `umod serve`'s options, each with a safe default (see
/// `docs/security.md` for what each limit guards).
#[derive(clap::Args, Debug)]
pub struct Limits {
    /// Module window size (K, M or G suffix); default 256M.
    #[arg(long, value_name = "SIZE")]
    pub window: Option<String>,
    /// Kernel generation to impersonate: 2.4 (default) or 2.6.
    #[arg(long, value_name = "2.4|2.6")]
    pub personality: Option<String>,
    /// Largest request from a caller that was root when it connected
    /// (default 64M).
    #[arg(long, value_name = "SIZE")]
    pub max_request: Option<String>,
    /// Largest request from any other caller (default 1M).
    #[arg(long, value_name = "SIZE")]
    pub max_unprivileged_request: Option<String>,
    /// Connections open at once from callers that were not root when they
    /// connected, all users together (default 128).
    #[arg(long, value_name = "N")]
    pub max_clients: Option<usize>,
    /// Connections open at once from one such user (default 16).
    #[arg(long, value_name = "N")]
    pub max_clients_per_user: Option<usize>,
    /// Connections open at once from root, kept apart (default 32).
    #[arg(long, value_name = "N")]
    pub max_root_clients: Option<usize>,
    /// Memory the requests of callers without privilege may take at once,
    /// all users together (default 48M).
    #[arg(long, value_name = "SIZE")]
    pub unprivileged_memory: Option<String>,
    /// Memory one such user's requests may take at once (default 16M).
    #[arg(long, value_name = "SIZE")]
    pub memory_per_user: Option<String>,
    /// Close a connection idle this long, in seconds (default 60).
    #[arg(long, value_name = "SECONDS")]
    pub idle_timeout: Option<String>,
    /// A request must arrive whole within this many seconds (default 10).
    #[arg(long, value_name = "SECONDS")]
    pub request_timeout: Option<String>,
    /// Stop module code (init, cleanup, a timer...) that runs longer than
    /// this many seconds, and report a soft lockup (default 5).
    #[arg(long, value_name = "SECONDS")]
    pub watchdog: Option<String>,
    /// On SIGTERM, exit within this many seconds whatever module code
    /// does (default 10).
    #[arg(long, value_name = "SECONDS")]
    pub stop_timeout: Option<String>,
    /// Most modules (default 1024).
    #[arg(long, value_name = "N")]
    pub max_modules: Option<usize>,
    /// Do not keep /tmp/perf-PID.map, the list of module functions that
    /// perf reads to name samples in module code.
    #[arg(long)]
    pub no_perf_map: bool,
}

fn frame_size(s: &str) -> Result<u32, String> {
    u32::try_from(parse_size(s)?).map_err(|_| format!("request size {s} is over 4G"))
}

/// The daemon's configuration from the options.
pub fn config(socket: Option<&Path>, o: &Limits) -> Result<DaemonConfig, String> {
    let mut config = DaemonConfig::new(socket_path(socket));
    let l = &mut config.limits;
    if let Some(w) = &o.window {
        config.host.window_size = parse_size(w)?;
    }
    if let Some(p) = &o.personality {
        config.host.personality = p.parse::<Personality>()?;
    }
    if let Some(m) = o.max_modules {
        config.host.max_modules = m;
    }
    if let Some(w) = &o.watchdog {
        config.host.watchdog = parse_seconds(w)?;
    }
    if o.no_perf_map {
        config.host.perf_map = false;
    }
    if let Some(r) = &o.max_request {
        l.max_request = frame_size(r)?;
    }
    if let Some(r) = &o.max_unprivileged_request {
        l.max_unprivileged_request = frame_size(r)?;
    }
    if let Some(c) = o.max_clients {
        l.unprivileged_connections = c;
    }
    if let Some(c) = o.max_clients_per_user {
        l.connections_per_user = c;
    }
    if let Some(c) = o.max_root_clients {
        l.privileged_connections = c;
    }
    if let Some(m) = &o.unprivileged_memory {
        l.unprivileged_memory = parse_size(m)?;
    }
    if let Some(m) = &o.memory_per_user {
        l.memory_per_user = parse_size(m)?;
    }
    if let Some(t) = &o.idle_timeout {
        l.idle = parse_seconds(t)?;
    }
    if let Some(t) = &o.request_timeout {
        l.request_time = parse_seconds(t)?;
    }
    if let Some(t) = &o.stop_timeout {
        config.stop_deadline = parse_seconds(t)?;
    }
    let worst = umod_daemon::Limits::request_cost(l.max_unprivileged_request);
    if worst > l.memory_per_user {
        return Err(format!(
            "--memory-per-user {} MiB cannot hold one request of --max-unprivileged-request \
             ({} MiB with what serving it takes)",
            l.memory_per_user >> 20,
            worst.div_ceil(1 << 20)
        ));
    }
    Ok(config)
}

/// Runs the daemon until SIGTERM or SIGINT: on the socket a service
/// manager passed, if it passed one, else on `socket`; with the modules
/// of the `preload` list loaded before the first client is served.
pub fn run(socket: Option<&Path>, preload: Option<&Path>, options: &Limits) -> Result<(), String> {
    // SAFETY: the first thing `umod serve` does, so no other thread runs
    // yet (the host, and the stop watchdog, start theirs below; the
    // logger and the signal flags start none).
    let inherited =
        unsafe { umod_daemon::activation::listener_from_env() }.map_err(|e| e.to_string())?;
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let config = config(socket, options)?;
    umod_daemon::tune_allocator();
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(sig, Arc::clone(&stop))
            .map_err(|e| format!("cannot handle signals: {e}"))?;
    }
    let list = preload
        .map(PreloadList::read)
        .transpose()
        .map_err(|e| e.to_string())?;
    let daemon = match inherited {
        Some(listening) => {
            let bound = listening.listener.local_addr().ok();
            let bound = bound.as_ref().and_then(|a| a.as_pathname());
            if let Some(asked) = socket.filter(|&s| Some(s) != bound) {
                tracing::warn!(
                    "--socket {} ignored: serving on the socket the service manager passed",
                    asked.display()
                );
            }
            Daemon::with_listener(config, listening)
        }
        None => Daemon::bind(config),
    }
    .map_err(|e| e.to_string())?;
    if let Some(list) = &list {
        let loaded = preload::load(daemon.host(), list);
        tracing::info!(
            "preloaded {} of {} module(s) listed in {}",
            loaded.len(),
            list.entries.len(),
            list.path.display()
        );
    }
    let removed = daemon.serve(stop).map_err(|e| format!("serve: {e}"))?;
    tracing::info!("stopped; {} module(s) removed", removed.len());
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes() {
        assert_eq!(super::parse_size("64M"), Ok(64 << 20));
        assert_eq!(super::parse_size("4096"), Ok(4096));
        assert_eq!(super::parse_size("1g"), Ok(1 << 30));
        assert!(super::parse_size("x").is_err());
    }

    #[test]
    fn seconds() {
        assert_eq!(
            super::parse_seconds("1.5"),
            Ok(std::time::Duration::from_millis(1500))
        );
        assert!(super::parse_seconds("0").is_err());
        assert!(super::parse_seconds("-1").is_err());
        assert!(super::parse_seconds("inf").is_err());
    }
}
