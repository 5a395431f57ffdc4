//! `printk` with Rust formatting: each message is formatted into a line
//! of at most [`LINE`] bytes on the stack (longer ones are cut) and handed
//! to `printk("%s")` with its level, so no allocation is needed and no
//! `%` in the text is taken for a conversion.

use core::fmt::{self, Write};

/// Bytes of one message (2.4's printk cut at 1024).
pub const LINE: usize = 512;

struct Line {
    buf: [u8; LINE],
    len: usize,
}

impl Write for Line {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        // Keep one byte for the NUL; cut, don't fail.
        let room = LINE - 1 - self.len;
        let n = s.len().min(room);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

/// Prints `args` at `level` (`b"<6>"` is `KERN_INFO`); a message that does
/// not end in a newline gets one, as `pr_info!` users expect.
pub fn print(level: &[u8; 3], args: fmt::Arguments<'_>) {
    let mut line = Line {
        buf: [0; LINE],
        len: 0,
    };
    let _ = line.write_str(core::str::from_utf8(level).unwrap_or("<6>"));
    let _ = line.write_fmt(args);
    if line.buf[line.len - 1] != b'\n' {
        let _ = line.write_str("\n");
    }
    line.buf[line.len] = 0;
    // SAFETY: "%s" and a NUL-terminated buffer that outlives the call.
    unsafe {
        crate::ffi::printk(c"%s".as_ptr(), line.buf.as_ptr());
    }
}

/// `printk(KERN_INFO ...)` with Rust formatting.
#[macro_export]
macro_rules! pr_info {
    ($($arg:tt)*) => { $crate::print::print(b"<6>", format_args!($($arg)*)) };
}

/// `printk(KERN_NOTICE ...)`.
#[macro_export]
macro_rules! pr_notice {
    ($($arg:tt)*) => { $crate::print::print(b"<5>", format_args!($($arg)*)) };
}

/// `printk(KERN_WARNING ...)`.
#[macro_export]
macro_rules! pr_warn {
    ($($arg:tt)*) => { $crate::print::print(b"<4>", format_args!($($arg)*)) };
}

/// `printk(KERN_ERR ...)`.
#[macro_export]
macro_rules! pr_err {
    ($($arg:tt)*) => { $crate::print::print(b"<3>", format_args!($($arg)*)) };
}

/// `printk(KERN_ALERT ...)`.
#[macro_export]
macro_rules! pr_alert {
    ($($arg:tt)*) => { $crate::print::print(b"<1>", format_args!($($arg)*)) };
}

/// `printk(KERN_DEBUG ...)`.
#[macro_export]
macro_rules! pr_debug {
    ($($arg:tt)*) => { $crate::print::print(b"<7>", format_args!($($arg)*)) };
}
