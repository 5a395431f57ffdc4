//! Text the tools print, built from the host's views, shared by the
//! subcommands and the demo.

use umod_host::LogRecord;

/// The taint letters (`P` proprietary module, `F` forced load, `S`
/// unsafe SMP, as 2.4 named them; `D` an oops) and any other flag in hex,
/// or `Not tainted` when no flag is set.
pub fn taint(bits: u64) -> String {
    const LETTERS: [(u64, char); 4] = [(1, 'P'), (2, 'F'), (4, 'S'), (1 << 7, 'D')];
    if bits == 0 {
        return "Not tainted".into();
    }
    let mut text: String = LETTERS
        .iter()
        .filter(|(b, _)| bits & b != 0)
        .map(|(_, l)| *l)
        .collect();
    let others = LETTERS.iter().fold(bits, |rest, (b, _)| rest & !b);
    if others != 0 {
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(&format!("({others:#x})"));
    }
    format!("Tainted: {text}")
}

/// modutils' `lsmod` header line.
pub fn lsmod_header(taint_bits: u64) -> String {
    format!(
        "{:<24}{:>4}  Used by    {}\n",
        "Module",
        "Size",
        taint(taint_bits)
    )
}

/// `lsmod`: modutils' header, then the `/proc/modules` lines.
pub fn lsmod(proc_modules: &[u8], taint_bits: u64) -> String {
    let mut out = lsmod_header(taint_bits);
    out.push_str(&String::from_utf8_lossy(proc_modules));
    out
}

/// `dmesg`: one line per record, with its level marker and time.
pub fn dmesg(records: &[LogRecord]) -> String {
    records
        .iter()
        .map(|r| {
            format!(
                "<{}>[{:>5}.{:06}] {}\n",
                r.level,
                r.time.as_secs(),
                r.time.subsec_micros(),
                r.text
            )
        })
        .collect()
}

/// `ksyms`: `/proc/ksyms`, without the kernel's own lines unless `all`.
pub fn ksyms(proc_ksyms: &[u8], all: bool) -> String {
    String::from_utf8_lossy(proc_ksyms)
        .lines()
        .filter(|l| all || l.contains('\t'))
        .map(|l| format!("{l}\n"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lsmod_header_and_lines() {
        let t = lsmod(b"hello                    190   0 (unused)\n", 0);
        assert_eq!(t, "Module                  Size  Used by    Not tainted\nhello                    190   0 (unused)\n");
    }

    #[test]
    fn taint_letters() {
        assert_eq!(taint(0), "Not tainted");
        assert_eq!(taint(1), "Tainted: P");
        assert_eq!(taint(1 | 128), "Tainted: PD");
        assert_eq!(taint(4), "Tainted: S");
        assert_eq!(taint(8), "Tainted: (0x8)");
        assert_eq!(taint(2 | 0x300), "Tainted: F (0x300)");
    }

    #[test]
    fn ksyms_filters_kernel_lines() {
        let text = b"0000000010000000 f\t[m]\n0000000011000000 printk\n";
        assert_eq!(ksyms(text, false), "0000000010000000 f\t[m]\n");
        assert_eq!(ksyms(text, true).lines().count(), 2);
    }
}
