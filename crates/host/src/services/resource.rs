//! I/O port and memory regions (2.4's kernel/resource.c): the trees'
//! roots are exported data (`ioport_resource`, `iomem_resource`), the
//! C entry points are in `resource.c`, and `/proc/ioports` and
//! `/proc/iomem` list them as 2.4 did.

use std::ffi::{c_char, c_long, c_ulong, c_void};

use super::{context, Kernel, KERN_WARNING};
use crate::exports::{ExportError, ExportTable};
use crate::window::Window;

/// `sizeof(struct resource)`: name, start, end, flags, parent, sibling,
/// child, 8 bytes each.
pub const RESOURCE_SIZE: u64 = 56;

/// The two roots' addresses.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Roots {
    pub ioport: u64,
    pub iomem: u64,
}

/// Exports the roots: "PCI IO" 0..0xffff and "PCI mem" 0..0xffffffff.
pub(crate) fn export_data(
    exports: &mut ExportTable,
    window: &Window,
) -> Result<Roots, ExportError> {
    let mut root = |name: &str, label: &[u8], end: u64| -> Result<u64, ExportError> {
        let addr = exports.export_data(window, name.as_bytes(), RESOURCE_SIZE, 8)?;
        let text = exports.reserve_data(window, label.len() as u64 + 1, 1)?;
        let w = window.mapping();
        w.write(text, label);
        w.write(addr, &text.to_le_bytes());
        w.write(addr + 16, &end.to_le_bytes());
        // flags: IORESOURCE_IO / IORESOURCE_MEM
        let flags: u64 = if end == 0xffff { 0x100 } else { 0x200 };
        w.write(addr + 24, &flags.to_le_bytes());
        Ok(addr)
    };
    Ok(Roots {
        ioport: root("ioport_resource", b"PCI IO", 0xffff)?,
        iomem: root("iomem_resource", b"PCI mem", 0xffff_ffff)?,
    })
}

/// The module running on this thread, for the regions it requests (−1:
/// none).
#[no_mangle]
pub extern "C" fn umod_current_module() -> c_long {
    context::current()
        .and_then(|f| f.module)
        .map_or(-1, |id| id as c_long)
}

extern "C" {
    fn umod_resource_list(root: *mut c_void, buf: *mut c_char, size: usize) -> usize;
    fn umod_resource_forget(
        root: *mut c_void,
        owner: c_long,
        lo: c_ulong,
        hi: c_ulong,
        start: *mut c_ulong,
        end: *mut c_ulong,
    ) -> i32;
}

/// 2.4's /proc pages: the listing stops 80 bytes before this.
const PROC_PAGE: usize = 4096;

impl Kernel {
    /// The text of `/proc/ioports` or `/proc/iomem`; None for other names.
    pub(crate) fn resource_proc(&self, name: &[u8]) -> Option<Vec<u8>> {
        let roots = self.kapi_data()?.roots;
        let root = match name {
            b"ioports" => roots.ioport,
            b"iomem" => roots.iomem,
            _ => return None,
        };
        let mut page = vec![0u8; PROC_PAGE];
        // SAFETY: `root` is this host's root in its window, mapped for the
        // host's life; resource.c walks the tree under its lock and
        // writes at most `page.len()` bytes into `page`.
        let n = unsafe {
            umod_resource_list(root as *mut c_void, page.as_mut_ptr().cast(), page.len())
        };
        page.truncate(n);
        Some(page)
    }

    /// Releases the regions module `id` left requested (and resources
    /// whose struct lies in its block `[lo, hi)`), logging each.
    pub(crate) fn forget_resources(&self, id: u64, name: &str, lo: u64, hi: u64) {
        let Some(data) = self.kapi_data() else {
            return;
        };
        for (root, what, width) in [
            (data.roots.ioport, "I/O ports", 4),
            (data.roots.iomem, "I/O memory", 8),
        ] {
            let (mut start, mut end): (c_ulong, c_ulong) = (0, 0);
            // SAFETY: as for `resource_proc`; the out-pointers are ours.
            while unsafe {
                umod_resource_forget(
                    root as *mut c_void,
                    id as c_long,
                    lo,
                    hi,
                    &mut start,
                    &mut end,
                )
            } != 0
            {
                self.log(
                    KERN_WARNING,
                    &format!(
                        "{name}: released {what} {start:0width$x}-{end:0width$x} it left requested"
                    ),
                );
            }
        }
    }
}

macro_rules! entry_points {
    ($($name:ident),* $(,)?) => {
        extern "C" {
            $(fn $name();)*
        }
    };
}

entry_points!(
    umod_request_resource,
    umod_release_resource,
    umod_request_region,
    umod_check_region,
    umod_release_region,
);

/// The region services' exports.
pub fn functions() -> Vec<(&'static str, usize)> {
    vec![
        (
            "request_resource",
            umod_request_resource as *const () as usize,
        ),
        (
            "release_resource",
            umod_release_resource as *const () as usize,
        ),
        (
            "__request_region",
            umod_request_region as *const () as usize,
        ),
        ("__check_region", umod_check_region as *const () as usize),
        (
            "__release_region",
            umod_release_region as *const () as usize,
        ),
    ]
}
