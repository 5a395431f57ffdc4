//! `system_utsname` (2.4's `struct new_utsname`): six `char[65]` fields,
//! exported data filled once: "Linux", this machine's host name, the kit's
//! `UTS_RELEASE`, a version string, "x86_64", "(none)".

use crate::exports::{ExportError, ExportTable};
use crate::window::Window;

/// Bytes in each field.
pub const FIELD: usize = 65;

/// The release the kit's `<linux/version.h>` names (`UTS_RELEASE`).
pub fn release() -> String {
    let header = umod_loader::kit::FILES
        .iter()
        .find(|(rel, _)| *rel == "linux/version.h")
        .map(|(_, bytes)| String::from_utf8_lossy(bytes).into_owned())
        .unwrap_or_default();
    header
        .lines()
        .find_map(|l| l.trim().strip_prefix("#define UTS_RELEASE"))
        .map(|v| v.trim().trim_matches('"').to_string())
        .unwrap_or_else(|| "2.4.22".into())
}

/// This machine's host name, as `uname -n` says it.
fn nodename() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "(none)".into())
}

/// The six fields, in order.
pub fn fields() -> [String; 6] {
    [
        "Linux".into(),
        nodename(),
        release(),
        "#1 SMP umod".into(),
        "x86_64".into(),
        "(none)".into(),
    ]
}

/// Exports `system_utsname`, filled.
pub(crate) fn export_data(exports: &mut ExportTable, window: &Window) -> Result<u64, ExportError> {
    let addr = exports.export_data(window, b"system_utsname", (FIELD * 6) as u64, 8)?;
    for (i, f) in fields().iter().enumerate() {
        let bytes = f.as_bytes();
        let n = bytes.len().min(FIELD - 1);
        window
            .mapping()
            .write(addr + (i * FIELD) as u64, &bytes[..n]);
    }
    Ok(addr)
}
