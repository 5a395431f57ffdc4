//! The read-only views: `lsmod`, `ksyms`, `dmesg`, `cat`.

use serde::Serialize;
use umod_client::Client;
use umod_host::LogRecord;

use crate::render;
use crate::Failure;

fn refused(tool: &str, e: umod_client::ClientError) -> Failure {
    Failure::errno(tool.into(), e.errno(), e.to_string())
}

/// One `lsmod --json` entry.
#[derive(Serialize, Debug, PartialEq, Eq)]
pub struct ModuleLine {
    /// Module name.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// Use count (absent unless running; -1 when can_unload decides).
    pub used: Option<i64>,
    /// Status words: unused, autoclean, uninitialized, initializing, deleted.
    pub status: Vec<String>,
    /// Modules that use it, newest first.
    pub users: Vec<String>,
}

/// Parses `/proc/modules` lines.
pub fn parse_modules(text: &str) -> Vec<ModuleLine> {
    text.lines()
        .filter_map(|line| {
            let (head, users) = match line.split_once(" [") {
                Some((h, u)) => (
                    h,
                    u.trim_end_matches(']')
                        .split(' ')
                        .map(str::to_string)
                        .collect(),
                ),
                None => (line, Vec::new()),
            };
            let mut status = Vec::new();
            let mut rest = head;
            while let Some(open) = rest.rfind(" (") {
                status.insert(0, rest[open + 2..].trim_end_matches(')').to_string());
                rest = &rest[..open];
            }
            let mut words = rest.split_whitespace();
            let name = words.next()?.to_string();
            let size = words.next()?.parse().ok()?;
            let used = words.next().and_then(|u| u.parse().ok());
            Some(ModuleLine {
                name,
                size,
                used,
                status,
                users,
            })
        })
        .collect()
}

/// `lsmod [--json]`.
pub fn lsmod(client: &mut Client, json: bool) -> Result<(), Failure> {
    let text = client.proc_modules().map_err(|e| refused("lsmod", e))?;
    if json {
        let lines = parse_modules(&String::from_utf8_lossy(&text));
        println!(
            "{}",
            serde_json::to_string_pretty(&lines).expect("serialisable")
        );
    } else {
        let taint = client.taint().map_err(|e| refused("lsmod", e))?;
        print!("{}", render::lsmod(&text, taint));
    }
    Ok(())
}

/// One `ksyms --json` entry.
#[derive(Serialize, Debug, PartialEq, Eq)]
pub struct SymbolLine {
    /// Value as 16 hex digits.
    pub value: String,
    /// Symbol name.
    pub name: String,
    /// Module, absent for the kernel's own symbols.
    pub module: Option<String>,
}

/// `ksyms [-a] [--json]`.
pub fn ksyms(client: &mut Client, all: bool, json: bool) -> Result<(), Failure> {
    let text = client.proc_ksyms().map_err(|e| refused("ksyms", e))?;
    let shown = render::ksyms(&text, all);
    if json {
        let lines: Vec<SymbolLine> = shown
            .lines()
            .filter_map(|l| {
                let (value, rest) = l.split_once(' ')?;
                let (name, module) = match rest.split_once('\t') {
                    Some((n, m)) => (
                        n,
                        Some(m.trim_start_matches('[').trim_end_matches(']').to_string()),
                    ),
                    None => (rest, None),
                };
                Some(SymbolLine {
                    value: value.to_string(),
                    name: name.to_string(),
                    module,
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&lines).expect("serialisable")
        );
    } else {
        print!("{shown}");
    }
    Ok(())
}

/// One `dmesg --json` entry.
#[derive(Serialize)]
struct LogJson {
    seq: u64,
    level: u8,
    time: f64,
    text: String,
}

/// `dmesg [-c] [--json]`.
pub fn dmesg(client: &mut Client, clear: bool, json: bool) -> Result<(), Failure> {
    let lines = client.dmesg(clear).map_err(|e| refused("dmesg", e))?;
    let records: Vec<LogRecord> = lines
        .into_iter()
        .map(|l| LogRecord {
            seq: l.seq,
            level: l.level,
            time: std::time::Duration::from_nanos(l.time_ns),
            text: String::from_utf8_lossy(&l.text).into_owned(),
            redacted: None,
        })
        .collect();
    if json {
        let v: Vec<LogJson> = records
            .iter()
            .map(|r| LogJson {
                seq: r.seq,
                level: r.level,
                time: r.time.as_secs_f64(),
                text: r.text.clone(),
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&v).expect("serialisable")
        );
    } else {
        print!("{}", render::dmesg(&records));
    }
    Ok(())
}

/// `cat PATH`: `/proc/modules`, `/proc/ksyms` or a module's `/proc/NAME`.
pub fn cat(client: &mut Client, path: &str) -> Result<(), Failure> {
    let text = match path {
        "/proc/modules" => client.proc_modules(),
        "/proc/ksyms" => client.proc_ksyms(),
        p => match p.strip_prefix("/proc/") {
            Some(name) => client.read_proc(name),
            None => {
                return Err(Failure::new(format!(
                    "cat: {path}: not a /proc path of the module host"
                )))
            }
        },
    }
    .map_err(|e| refused(&format!("cat: {path}"), e))?;
    use std::io::Write;
    let _ = std::io::stdout().write_all(&text);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_modules_lines_parse() {
        let text = "counter_user             424   0 (unused)\ncounter                  412   0 [counter_user]\nbad                      300 (uninitialized)\nauto                     212   0 (autoclean) (unused)\n";
        let m = parse_modules(text);
        assert_eq!(
            m[0],
            ModuleLine {
                name: "counter_user".into(),
                size: 424,
                used: Some(0),
                status: vec!["unused".into()],
                users: vec![]
            }
        );
        assert_eq!(m[1].users, vec!["counter_user".to_string()]);
        assert_eq!(
            (m[2].used, m[2].status.clone()),
            (None, vec!["uninitialized".to_string()])
        );
        assert_eq!(
            m[3].status,
            vec!["autoclean".to_string(), "unused".to_string()]
        );
    }
}
