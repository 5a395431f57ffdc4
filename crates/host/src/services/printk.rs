//! `printk` and the kernel log ring (`dmesg`).
//!
//! Text arrives already formatted (the variadic front end is C, see
//! `services.c`). A line may start with a `<N>` level marker; text without
//! a trailing newline is continued by the next `printk`, as in Linux.

use std::collections::VecDeque;
use std::ffi::c_char;
use std::time::Duration;

/// The level of a line without a `<N>` marker (`KERN_WARNING`).
pub const DEFAULT_MESSAGE_LOGLEVEL: u8 = 4;

/// Default ring size in bytes of text.
pub const DEFAULT_LOG_BUF_LEN: usize = 64 << 10;

/// One line of the kernel log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogRecord {
    /// Sequence number, counting from 0 for the host's first line.
    pub seq: u64,
    /// Console level 0 (`KERN_EMERG`) to 7 (`KERN_DEBUG`).
    pub level: u8,
    /// Time since the host started.
    pub time: Duration,
    /// The text, without level marker or newline.
    pub text: String,
    /// What readers without privilege see instead, when the text names
    /// addresses of the host itself (an oops in host code, a fault
    /// address on the host's stack or heap); `None` when they see `text`.
    pub redacted: Option<String>,
}

impl LogRecord {
    /// The text a reader sees: `privileged` readers see host addresses.
    pub fn text_for(&self, privileged: bool) -> &str {
        match (&self.redacted, privileged) {
            (Some(r), false) => r,
            _ => &self.text,
        }
    }
}

/// A bounded ring of log lines; the oldest lines go first when it is full.
#[derive(Debug)]
pub struct LogRing {
    records: VecDeque<LogRecord>,
    bytes: usize,
    capacity: usize,
    next_seq: u64,
    open_line: bool,
}

impl LogRing {
    /// A ring holding at most `capacity` bytes of text.
    pub fn new(capacity: usize) -> LogRing {
        LogRing {
            records: VecDeque::new(),
            bytes: 0,
            capacity: capacity.max(1),
            next_seq: 0,
            open_line: false,
        }
    }

    /// Appends formatted `printk` output at time `time`.
    pub fn emit(&mut self, text: &[u8], time: Duration) {
        let text = String::from_utf8_lossy(text);
        let mut rest: &str = &text;
        while !rest.is_empty() {
            let (line, ended, tail) = match rest.find('\n') {
                Some(i) => (&rest[..i], true, &rest[i + 1..]),
                None => (rest, false, ""),
            };
            if self.open_line {
                if let Some(last) = self.records.back_mut() {
                    last.text.push_str(line);
                    self.bytes += line.len();
                }
            } else {
                let (level, body) = split_level(line);
                self.push(level, body.to_string(), time, None);
            }
            self.open_line = !ended;
            rest = tail;
        }
        self.trim();
    }

    /// Appends one complete line at `level` (the host's own messages),
    /// with what readers without privilege see instead, if it differs.
    pub fn log(&mut self, level: u8, text: &str, time: Duration, redacted: Option<String>) {
        self.open_line = false;
        self.push(level.min(7), text.to_string(), time, redacted);
        self.trim();
    }

    fn push(&mut self, level: u8, text: String, time: Duration, redacted: Option<String>) {
        self.bytes += text.len() + redacted.as_ref().map_or(0, String::len);
        self.records.push_back(LogRecord {
            seq: self.next_seq,
            level,
            time,
            text,
            redacted,
        });
        self.next_seq += 1;
    }

    fn trim(&mut self) {
        while self.bytes > self.capacity && self.records.len() > 1 {
            let old = self.records.pop_front().expect("non-empty");
            self.bytes -= old.text.len() + old.redacted.as_ref().map_or(0, String::len);
        }
    }

    /// The lines in the ring, oldest first.
    pub fn records(&self) -> Vec<LogRecord> {
        self.records.iter().cloned().collect()
    }

    /// Empties the ring (`dmesg -c`); sequence numbers keep counting.
    pub fn clear(&mut self) {
        self.records.clear();
        self.bytes = 0;
        self.open_line = false;
    }
}

/// Splits a leading `<N>` marker (N in 0..=7) off a line.
fn split_level(line: &str) -> (u8, &str) {
    let b = line.as_bytes();
    if b.len() >= 3 && b[0] == b'<' && (b'0'..=b'7').contains(&b[1]) && b[2] == b'>' {
        (b[1] - b'0', &line[3..])
    } else {
        (DEFAULT_MESSAGE_LOGLEVEL, line)
    }
}

/// Called by the C `printk` with its formatted text.
///
/// # Safety
/// `text` points to `len` readable bytes (the C side's stack buffer).
#[no_mangle]
pub unsafe extern "C" fn umod_printk_emit(text: *const c_char, len: usize) {
    // SAFETY: guaranteed by the C caller, see above.
    let bytes = unsafe { super::c_bytes(text, len) };
    match super::context::current() {
        Some(frame) => frame.kernel.printk_raw(bytes),
        None => eprint!(
            "umod: printk outside module code: {}",
            String::from_utf8_lossy(bytes)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_continuations_and_bounds() {
        let mut r = LogRing::new(40);
        let t = Duration::ZERO;
        r.emit(b"<1>alert\nplain ", t);
        r.emit(b"continued\n<7>", t);
        r.emit(b"debug line\n", t);
        let recs = r.records();
        assert_eq!(recs.len(), 3);
        assert_eq!((recs[0].level, recs[0].text.as_str()), (1, "alert"));
        assert_eq!(
            (recs[1].level, recs[1].text.as_str()),
            (4, "plain continued")
        );
        assert_eq!((recs[2].level, recs[2].text.as_str()), (7, "debug line"));
        r.emit(b"0123456789012345678901234567890123456789\n", t);
        let recs = r.records();
        assert_eq!(recs.len(), 1, "older lines dropped to stay within 40 bytes");
        assert_eq!(recs[0].seq, 3);
        r.clear();
        assert!(r.records().is_empty());
    }
}
