//! Kernel symbols 2.4 modules used that the umod host refuses on purpose
//! (kapi-2.4.md §11, §3.2, §6.3): nothing exports them, so a module that
//! needs one fails to load, and the "unresolved symbol" line says why.

/// (symbol, why the host does not provide it).
pub const REFUSED: &[(&str, &str)] = &[
    (
        "sys_call_table",
        "no system call table in user space: hooking system calls cannot work",
    ),
    (
        "proc_register",
        "the 2.2 /proc interface; 2.4 replaced it by create_proc_entry",
    ),
    (
        "proc_unregister",
        "the 2.2 /proc interface; 2.4 replaced it by remove_proc_entry",
    ),
    (
        "tq_scheduler",
        "2.2's scheduler task queue; 2.4 has schedule_task",
    ),
    (
        "sys_open",
        "no in-kernel file system: a module cannot open files through system calls",
    ),
    (
        "sys_read",
        "no in-kernel file system: a module cannot read files through system calls",
    ),
    (
        "sys_write",
        "no in-kernel file system: a module cannot write files through system calls",
    ),
    (
        "sys_close",
        "no in-kernel file system: a module cannot close files through system calls",
    ),
    (
        "sys_lseek",
        "no in-kernel file system: a module cannot seek files through system calls",
    ),
    (
        "filp_open",
        "no in-kernel file system: a module cannot open files",
    ),
    (
        "kernel_read",
        "no in-kernel file system: a module cannot read files",
    ),
    (
        "call_usermodehelper",
        "the host runs no user-mode helpers for modules",
    ),
    (
        "exec_usermodehelper",
        "the host runs no user-mode helpers for modules",
    ),
    (
        "__bad_udelay",
        "udelay() of a constant over 20000 us; use mdelay()",
    ),
    (
        "__bad_ndelay",
        "ndelay() of a constant over 20000 ns; use udelay()",
    ),
];

/// Why the host refuses `symbol`, if it does on purpose.
pub fn reason(symbol: &str) -> Option<&'static str> {
    REFUSED
        .iter()
        .find(|(name, _)| *name == symbol)
        .map(|&(_, why)| why)
}

/// `symbol`, followed by why the host refuses it when it does:
/// "sys_call_table (no system call table in user space: ...)".
pub fn explained(symbol: &str) -> String {
    match reason(symbol) {
        Some(why) => format!("{symbol} ({why})"),
        None => symbol.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_symbols_carry_their_reason_and_others_do_not() {
        assert_eq!(
            explained("sys_call_table"),
            "sys_call_table (no system call table in user space: hooking system calls cannot work)"
        );
        assert_eq!(explained("printk"), "printk");
        // remap_page_range is provided (it fails with -ENOMEM), not refused.
        assert_eq!(reason("remap_page_range"), None);
    }
}
