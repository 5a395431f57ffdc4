//! The seccomp filter `umod exec` installs: the legacy module syscalls go
//! to the supervisor (and `uname`, and `open`/`openat` so `/proc/modules`
//! and `/proc/ksyms` can be served); everything else runs natively.

use crate::sys::Insn;

/// `AUDIT_ARCH_X86_64`.
const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
const LD_W_ABS: u16 = 0x20;
const JEQ_K: u16 = 0x15;
const RET_K: u16 = 0x06;
/// Offsets in `struct seccomp_data`.
const NR: u32 = 0;
const ARCH: u32 = 4;

/// x86_64 `open`, `openat` and `uname`.
pub const SYS_OPEN: i32 = 2;
/// `openat`.
pub const SYS_OPENAT: i32 = 257;
/// `uname`.
pub const SYS_UNAME: i32 = 63;

fn insn(code: u16, jt: u8, jf: u8, k: u32) -> Insn {
    Insn { code, jt, jf, k }
}

/// A filter that notifies for each syscall number in `notify` (x86_64
/// only) and allows every other.
pub fn program(notify: &[i32]) -> Vec<Insn> {
    let n = notify.len() as u8;
    let mut p = vec![
        insn(LD_W_ABS, 0, 0, ARCH),
        // Not x86_64 (x32, or a 32-bit binary): leave it alone.
        insn(JEQ_K, 0, n + 1, AUDIT_ARCH_X86_64),
        insn(LD_W_ABS, 0, 0, NR),
    ];
    for (i, &nr) in notify.iter().enumerate() {
        // Jump to the notify return, past the remaining tests and the allow.
        p.push(insn(JEQ_K, n - i as u8, 0, nr as u32));
    }
    p.push(insn(RET_K, 0, 0, libc::SECCOMP_RET_ALLOW));
    p.push(insn(RET_K, 0, 0, libc::SECCOMP_RET_USER_NOTIF));
    p
}

/// The syscalls to notify: 174-178, and optionally uname and the opens.
pub fn syscalls(uname: bool, proc_views: bool) -> Vec<i32> {
    let mut v: Vec<i32> = (umod_abi::SYS_CREATE_MODULE..=umod_abi::SYS_QUERY_MODULE)
        .map(|n| n as i32)
        .collect();
    if uname {
        v.push(SYS_UNAME);
    }
    if proc_views {
        v.extend([SYS_OPEN, SYS_OPENAT]);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the filter on (arch, nr) like the kernel's BPF interpreter would.
    fn run(p: &[Insn], arch: u32, nr: u32) -> u32 {
        let (mut acc, mut pc) = (0u32, 0usize);
        loop {
            let i = p[pc];
            match i.code {
                LD_W_ABS => acc = if i.k == ARCH { arch } else { nr },
                JEQ_K => {
                    pc += if acc == i.k {
                        i.jt as usize
                    } else {
                        i.jf as usize
                    };
                }
                RET_K => return i.k,
                _ => panic!("unexpected instruction"),
            }
            pc += 1;
        }
    }

    #[test]
    fn notifies_exactly_the_listed_syscalls() {
        let p = program(&syscalls(true, true));
        for nr in [174, 175, 176, 177, 178, 63, 2, 257] {
            assert_eq!(
                run(&p, AUDIT_ARCH_X86_64, nr),
                libc::SECCOMP_RET_USER_NOTIF,
                "{nr}"
            );
        }
        for nr in [0, 1, 39, 173, 179, 313] {
            assert_eq!(
                run(&p, AUDIT_ARCH_X86_64, nr),
                libc::SECCOMP_RET_ALLOW,
                "{nr}"
            );
        }
        assert_eq!(
            run(&p, 0x4000_0003, 174),
            libc::SECCOMP_RET_ALLOW,
            "i386 is left alone"
        );
        let only_modules = program(&syscalls(false, false));
        assert_eq!(
            run(&only_modules, AUDIT_ARCH_X86_64, 63),
            libc::SECCOMP_RET_ALLOW
        );
        assert_eq!(
            run(&only_modules, AUDIT_ARCH_X86_64, 178),
            libc::SECCOMP_RET_USER_NOTIF
        );
    }
}
