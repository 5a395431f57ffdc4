//! The read-only views: `lsmod`, `ksyms`, `dmesg`, `cat`.

use serde::Serialize;
use umod_client::{Client, View};
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

/// Standard output, buffered; a closed pipe (`umod lsmod | head`) ends
/// the listing quietly.
struct Out {
    w: std::io::BufWriter<std::io::StdoutLock<'static>>,
    closed: bool,
}

impl Out {
    fn new() -> Out {
        Out {
            w: std::io::BufWriter::new(std::io::stdout().lock()),
            closed: false,
        }
    }

    /// Writes `bytes`; false once the reader has gone.
    fn put(&mut self, bytes: &[u8]) -> bool {
        use std::io::Write;
        self.closed = self.closed || self.w.write_all(bytes).is_err();
        !self.closed
    }

    fn finish(mut self) {
        use std::io::Write;
        let _ = self.w.flush();
    }
}

/// Prints a JSON array whose items arrive chunk by chunk (the same text
/// `serde_json::to_string_pretty` makes of the whole list).
fn json_array<T: Serialize>(
    client: &mut Client,
    view: View,
    tool: &str,
    mut items: impl FnMut(&[u8]) -> Vec<T>,
) -> Result<(), Failure> {
    use serde::ser::{SerializeSeq, Serializer};
    let mut out = Out::new();
    let mut ser = serde_json::Serializer::pretty(&mut out.w);
    let mut seq = ser.serialize_seq(None).expect("writing to a buffer");
    let mut failed = false;
    client
        .read_view(view, |chunk| {
            failed = items(chunk)
                .iter()
                .any(|item| seq.serialize_element(item).is_err());
            !failed
        })
        .map_err(|e| refused(tool, e))?;
    if !failed && seq.end().is_ok() {
        out.put(b"\n");
    }
    out.finish();
    Ok(())
}

/// `lsmod [--json]`: the listing travels in chunks, printed as they come.
pub fn lsmod(client: &mut Client, json: bool) -> Result<(), Failure> {
    if json {
        return json_array(client, View::Modules, "lsmod", |chunk| {
            parse_modules(&String::from_utf8_lossy(chunk))
        });
    }
    let taint = client.taint().map_err(|e| refused("lsmod", e))?;
    let mut out = Out::new();
    out.put(render::lsmod_header(taint).as_bytes());
    client
        .read_view(View::Modules, |chunk| out.put(chunk))
        .map_err(|e| refused("lsmod", e))?;
    out.finish();
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

/// The `ksyms --json` entries of `/proc/ksyms` lines.
fn parse_symbols(text: &str) -> Vec<SymbolLine> {
    text.lines()
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
        .collect()
}

/// `ksyms [-a] [--json]`, printed chunk by chunk.
pub fn ksyms(client: &mut Client, all: bool, json: bool) -> Result<(), Failure> {
    if json {
        return json_array(client, View::Ksyms, "ksyms", |chunk| {
            parse_symbols(&render::ksyms(chunk, all))
        });
    }
    let mut out = Out::new();
    client
        .read_view(View::Ksyms, |chunk| {
            out.put(render::ksyms(chunk, all).as_bytes())
        })
        .map_err(|e| refused("ksyms", e))?;
    out.finish();
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
    let failed = |e| refused(&format!("cat: {path}"), e);
    let mut out = Out::new();
    let view = match path {
        "/proc/modules" => Some(View::Modules),
        "/proc/ksyms" => Some(View::Ksyms),
        _ => None,
    };
    if let Some(view) = view {
        client
            .read_view(view, |chunk| out.put(chunk))
            .map_err(failed)?;
    } else {
        let Some(name) = path.strip_prefix("/proc/") else {
            return Err(Failure::new(format!(
                "cat: {path}: not a /proc path of the module host"
            )));
        };
        let text = client.read_proc(name).map_err(failed)?;
        out.put(&text);
    }
    out.finish();
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
