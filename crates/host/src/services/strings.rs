//! The rest of 2.4's lib/string.c and lib/vsprintf.c (C entry points in
//! `strings.c`), and `request_module`, which the host answers -ENOSYS
//! (there is no modprobe to run).

macro_rules! entry_points {
    ($($name:ident),* $(,)?) => {
        extern "C" {
            $(fn $name();)*
        }
    };
}

entry_points!(
    umod_memscan,
    umod_memchr,
    umod_strnicmp,
    umod_strsep,
    umod_strspn,
    umod_strpbrk,
    umod_strtok,
    umod_vsprintf,
    umod_vsnprintf,
    umod_sscanf,
    umod_vsscanf,
    umod_simple_strtoull,
    umod_request_module,
);

/// The string services' exports.
pub fn functions() -> Vec<(&'static str, usize)> {
    vec![
        ("memscan", umod_memscan as *const () as usize),
        ("memchr", umod_memchr as *const () as usize),
        ("strnicmp", umod_strnicmp as *const () as usize),
        ("strsep", umod_strsep as *const () as usize),
        ("strspn", umod_strspn as *const () as usize),
        ("strpbrk", umod_strpbrk as *const () as usize),
        ("strtok", umod_strtok as *const () as usize),
        ("vsprintf", umod_vsprintf as *const () as usize),
        ("vsnprintf", umod_vsnprintf as *const () as usize),
        ("sscanf", umod_sscanf as *const () as usize),
        ("vsscanf", umod_vsscanf as *const () as usize),
        (
            "simple_strtoull",
            umod_simple_strtoull as *const () as usize,
        ),
        ("request_module", umod_request_module as *const () as usize),
    ]
}
