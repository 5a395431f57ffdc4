//! `umod serve`: the machine-wide daemon, in the foreground.

use std::io::IsTerminal;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

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

/// `umod serve`'s sizing options (each with a safe default).
#[derive(clap::Args, Debug)]
pub struct Limits {
    /// Module window size (K, M or G suffix); default 256M.
    #[arg(long, value_name = "SIZE")]
    pub window: Option<String>,
    /// Kernel generation to impersonate: 2.4 (default) or 2.6.
    #[arg(long, value_name = "2.4|2.6")]
    pub personality: Option<String>,
    /// Largest request from a caller with CAP_SYS_MODULE (default 64M).
    #[arg(long, value_name = "SIZE")]
    pub max_request: Option<String>,
    /// Largest request from any other caller (default 1M).
    #[arg(long, value_name = "SIZE")]
    pub max_unprivileged_request: Option<String>,
    /// Most clients served at once (default 256).
    #[arg(long, value_name = "N")]
    pub max_clients: Option<usize>,
    /// Most modules (default 1024).
    #[arg(long, value_name = "N")]
    pub max_modules: Option<usize>,
}

fn frame_size(s: &str) -> Result<u32, String> {
    u32::try_from(parse_size(s)?).map_err(|_| format!("request size {s} is over 4G"))
}

/// Runs the daemon until SIGTERM or SIGINT.
pub fn run(socket: Option<&Path>, limits: &Limits) -> Result<(), String> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let mut config = DaemonConfig::new(socket_path(socket));
    if let Some(w) = &limits.window {
        config.host.window_size = parse_size(w)?;
    }
    if let Some(p) = &limits.personality {
        config.host.personality = p.parse::<Personality>()?;
    }
    if let Some(m) = limits.max_modules {
        config.host.max_modules = m;
    }
    if let Some(r) = &limits.max_request {
        config.max_frame = frame_size(r)?;
    }
    if let Some(r) = &limits.max_unprivileged_request {
        config.max_unprivileged_frame = frame_size(r)?;
    }
    if let Some(c) = limits.max_clients {
        config.max_clients = c;
    }
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(sig, Arc::clone(&stop))
            .map_err(|e| format!("cannot handle signals: {e}"))?;
    }
    let daemon = Daemon::bind(config).map_err(|e| e.to_string())?;
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
}
