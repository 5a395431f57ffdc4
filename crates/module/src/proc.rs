//! Read-only `/proc` entries: a function writes the text, with Rust
//! formatting, into the page the host hands it (as a `read_proc` that
//! writes the whole text from offset 0 did). The entry goes when the
//! [`ProcEntry`] is dropped.

use core::ffi::{c_char, c_int, c_ulong, c_void, CStr};
use core::fmt;

use crate::error::{Error, Result};
use crate::ffi;

/// The page a read writes into.
#[derive(Debug)]
pub struct Page<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl Page<'_> {
    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is written yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl fmt::Write for Page<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        // The page holds what fits; the rest is cut, as sprintf into a
        // page would have overflowed it.
        let n = s.len().min(self.buf.len() - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

/// What renders an entry's text.
pub type Render = fn(&mut Page<'_>) -> Result;

/// A registered `/proc` entry.
#[derive(Debug)]
pub struct ProcEntry {
    name: &'static CStr,
}

/// Bytes of the page the host hands a read function.
const PAGE: usize = 4096;

impl ProcEntry {
    /// Registers `/proc/NAME` with `mode` (0444 for everyone), its text
    /// made by `render` at each read.
    pub fn new(name: &'static CStr, mode: u32, render: Render) -> Result<ProcEntry> {
        // SAFETY: a NUL-terminated name for the module's life; `read` is
        // this crate's function, `render` a plain function pointer.
        let entry = unsafe {
            ffi::create_proc_read_entry(
                name.as_ptr(),
                mode,
                core::ptr::null_mut(),
                read,
                render as *mut c_void,
            )
        };
        if entry.is_null() {
            return Err(Error::ENOMEM);
        }
        Ok(ProcEntry { name })
    }
}

impl Drop for ProcEntry {
    fn drop(&mut self) {
        // SAFETY: the name this entry was registered with.
        unsafe { ffi::remove_proc_entry(self.name.as_ptr(), core::ptr::null_mut()) }
    }
}

/// The `read_proc` of every entry of this crate: the whole text from
/// offset 0 into the page, then end of file.
unsafe extern "C" fn read(
    page: *mut c_char,
    _start: *mut *mut c_char,
    off: c_ulong,
    count: c_int,
    eof: *mut c_int,
    data: *mut c_void,
) -> c_int {
    // SAFETY: `data` is the `Render` given to `new`; the host hands a
    // page of PAGE writable bytes.
    let (render, buf) = unsafe {
        (
            core::mem::transmute::<*mut c_void, Render>(data),
            core::slice::from_raw_parts_mut(page.cast::<u8>(), PAGE),
        )
    };
    let mut p = Page { buf, len: 0 };
    if let Err(e) = render(&mut p) {
        return e.to_return();
    }
    // The end of the text is in this read: say so, as 2.4's readers did.
    let asked = usize::try_from(off)
        .unwrap_or(usize::MAX)
        .saturating_add(usize::try_from(count).unwrap_or(0));
    // SAFETY: the host's eof word for this call.
    unsafe { *eof = c_int::from(asked >= p.len) };
    c_int::try_from(p.len).unwrap_or(c_int::MAX)
}
