//! Constants of the 2.4 module ABI: flag bits, query selectors, syscall
//! numbers and the sizes the calls check against.

/// x86_64 syscall number of `create_module`.
pub const SYS_CREATE_MODULE: u64 = 174;
/// x86_64 syscall number of `init_module` (2.4 form: `name, image`).
pub const SYS_INIT_MODULE: u64 = 175;
/// x86_64 syscall number of `delete_module` (2.4 form: `name`).
pub const SYS_DELETE_MODULE: u64 = 176;
/// x86_64 syscall number of `get_kernel_syms`.
pub const SYS_GET_KERNEL_SYMS: u64 = 177;
/// x86_64 syscall number of `query_module`.
pub const SYS_QUERY_MODULE: u64 = 178;

/// Page size of x86_64; also the limit of a module-name copy-in.
pub const PAGE_SIZE: u64 = 4096;

/// State after `create_module`: no flag set.
pub const MOD_UNINITIALIZED: u64 = 0;
/// `init` succeeded; the module is live.
pub const MOD_RUNNING: u64 = 1;
/// Being freed (transient).
pub const MOD_DELETED: u64 = 2;
/// Removable by the autoclean sweep; the only bit user space may set.
pub const MOD_AUTOCLEAN: u64 = 4;
/// Set by use-count changes: autoclean's second chance.
pub const MOD_VISITED: u64 = 8;
/// Has been used, or has had a dependent.
pub const MOD_USED_ONCE: u64 = 16;
/// Lost its last reference during the current autoclean sweep.
pub const MOD_JUST_FREED: u64 = 32;
/// `init` is running.
pub const MOD_INITIALIZING: u64 = 64;

/// `query_module` probe: always 0 when the interface exists.
pub const QM_PROBE: i32 = 0;
/// List the names of all modules.
pub const QM_MODULES: i32 = 1;
/// List the names of the modules this one uses.
pub const QM_DEPS: i32 = 2;
/// List the names of the modules that use this one.
pub const QM_REFS: i32 = 3;
/// The module's exported symbols.
pub const QM_SYMBOLS: i32 = 4;
/// The module's `module_info`.
pub const QM_INFO: i32 = 5;

/// Highest user address plus one, as the x86_64 user-range check sees it
/// (`TASK_SIZE`): a buffer must end at or below it.
pub const TASK_SIZE: u64 = 0x0000_7fff_ffff_f000;

/// Returns the symbolic name of a `MOD_*` flag combination, as the
/// `/proc/modules` status words use them (for messages and tests).
pub fn flag_names(flags: u64) -> Vec<&'static str> {
    const NAMES: [(u64, &str); 7] = [
        (MOD_RUNNING, "RUNNING"),
        (MOD_DELETED, "DELETED"),
        (MOD_AUTOCLEAN, "AUTOCLEAN"),
        (MOD_VISITED, "VISITED"),
        (MOD_USED_ONCE, "USED_ONCE"),
        (MOD_JUST_FREED, "JUST_FREED"),
        (MOD_INITIALIZING, "INITIALIZING"),
    ];
    NAMES
        .iter()
        .filter(|(bit, _)| flags & bit != 0)
        .map(|(_, name)| *name)
        .collect()
}
