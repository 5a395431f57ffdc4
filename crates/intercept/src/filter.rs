//! The seccomp filter `umod exec` installs: the legacy module syscalls go
//! to the supervisor (and `uname`, and `open`/`openat` so `/proc/modules`
//! and `/proc/ksyms` can be served); entering another user namespace is
//! refused; everything else runs natively.

use crate::sys::Insn;

/// `AUDIT_ARCH_X86_64`.
const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
/// `AUDIT_ARCH_I386` (`int 0x80` from any process).
const AUDIT_ARCH_I386: u32 = 0x4000_0003;
/// Set in the number of an x32 system call (reported as x86_64).
const X32_SYSCALL_BIT: u32 = 0x4000_0000;
const LD_W_ABS: u16 = 0x20;
const JA: u16 = 0x05;
const JEQ_K: u16 = 0x15;
const JSET_K: u16 = 0x45;
const RET_K: u16 = 0x06;
/// Offsets in `struct seccomp_data`.
const NR: u32 = 0;
const ARCH: u32 = 4;
/// Low 32 bits of argument `i`.
const fn arg(i: u32) -> u32 {
    16 + 8 * i
}

/// x86_64 `open`, `openat` and `uname`.
pub const SYS_OPEN: i32 = 2;
/// `openat`.
pub const SYS_OPENAT: i32 = 257;
/// `uname`.
pub const SYS_UNAME: i32 = 63;

/// The calls that can put a task in another user namespace, by ABI.
struct NamespaceCalls {
    clone: u32,
    unshare: u32,
    setns: u32,
    clone3: u32,
}

const X86_64: NamespaceCalls = NamespaceCalls {
    clone: 56,
    unshare: 272,
    setns: 308,
    clone3: 435,
};
const X32: NamespaceCalls = NamespaceCalls {
    clone: X32_SYSCALL_BIT | 56,
    unshare: X32_SYSCALL_BIT | 272,
    setns: X32_SYSCALL_BIT | 308,
    clone3: X32_SYSCALL_BIT | 435,
};
const I386: NamespaceCalls = NamespaceCalls {
    clone: 120,
    unshare: 310,
    setns: 346,
    clone3: 435,
};

/// A jump target: the next instruction or a label.
#[derive(Clone, Copy)]
enum To {
    Next,
    Label(usize),
}

/// A small assembler for classic BPF with forward jumps to labels.
#[derive(Default)]
struct Asm {
    insns: Vec<(u16, To, To, u32)>,
    labels: Vec<Option<usize>>,
}

impl Asm {
    fn label(&mut self) -> To {
        self.labels.push(None);
        To::Label(self.labels.len() - 1)
    }

    fn bind(&mut self, l: To) {
        let To::Label(i) = l else { unreachable!() };
        self.labels[i] = Some(self.insns.len());
    }

    fn ld(&mut self, offset: u32) {
        self.insns.push((LD_W_ABS, To::Next, To::Next, offset));
    }

    fn jeq(&mut self, k: u32, yes: To, no: To) {
        self.insns.push((JEQ_K, yes, no, k));
    }

    fn jset(&mut self, k: u32, yes: To, no: To) {
        self.insns.push((JSET_K, yes, no, k));
    }

    fn ja(&mut self, to: To) {
        self.insns.push((JA, to, To::Next, 0));
    }

    fn ret(&mut self, k: u32) {
        self.insns.push((RET_K, To::Next, To::Next, k));
    }

    /// The program, every label resolved. Jumps go forward only, and a
    /// conditional one at most 255 instructions: a bug here otherwise.
    fn finish(self) -> Vec<Insn> {
        let offset = |at: usize, to: To| -> u32 {
            match to {
                To::Next => 0,
                To::Label(l) => {
                    let target = self.labels[l].expect("label bound");
                    assert!(target > at, "backward jump in the filter");
                    (target - at - 1) as u32
                }
            }
        };
        let short = |v: u32| u8::try_from(v).expect("filter jump beyond 255");
        self.insns
            .iter()
            .enumerate()
            .map(|(at, &(code, jt, jf, k))| match code {
                JA => Insn {
                    code,
                    jt: 0,
                    jf: 0,
                    k: offset(at, jt),
                },
                _ => Insn {
                    code,
                    jt: short(offset(at, jt)),
                    jf: short(offset(at, jf)),
                    k,
                },
            })
            .collect()
    }
}

/// Where a checked call ends.
struct Outcomes {
    allow: To,
    eperm: To,
    enosys: To,
}

/// With the system call number loaded: refuses what would enter another
/// user namespace (the flags of clone and unshare; setns of a user
/// namespace or of any kind), sends clone3 (flags in memory, out of a
/// filter's reach) to ENOSYS, which makes the C library fall back to
/// clone. Anything else falls through with the number still loaded.
fn namespace_rules(a: &mut Asm, calls: &NamespaceCalls, out: &Outcomes) {
    const CLONE_NEWUSER: u32 = libc::CLONE_NEWUSER as u32;
    let (flags, setns, done) = (a.label(), a.label(), a.label());
    a.jeq(calls.clone3, out.enosys, To::Next);
    a.jeq(calls.unshare, flags, To::Next);
    a.jeq(calls.clone, flags, To::Next);
    a.jeq(calls.setns, setns, To::Next);
    a.ja(done);
    a.bind(flags);
    a.ld(arg(0));
    a.jset(CLONE_NEWUSER, out.eperm, out.allow);
    a.bind(setns);
    a.ld(arg(1));
    a.jeq(0, out.eperm, To::Next);
    a.jset(CLONE_NEWUSER, out.eperm, out.allow);
    a.bind(done);
}

/// The filter: notifies for each syscall number in `notify` (x86_64), and
/// keeps every task in the user namespace it started in. A task that made
/// its own namespace would hold every capability there, and `capget`, by
/// which the supervisor decides EPERM, would show CAP_SYS_MODULE. Every
/// other call is allowed.
pub fn program(notify: &[i32]) -> Vec<Insn> {
    let mut a = Asm::default();
    let out = Outcomes {
        allow: a.label(),
        eperm: a.label(),
        enosys: a.label(),
    };
    let (notify_label, not_x86_64) = (a.label(), a.label());
    a.ld(ARCH);
    a.jeq(AUDIT_ARCH_X86_64, To::Next, not_x86_64);
    a.ld(NR);
    for &nr in notify {
        a.jeq(nr as u32, notify_label, To::Next);
    }
    namespace_rules(&mut a, &X86_64, &out);
    namespace_rules(&mut a, &X32, &out);
    a.ja(out.allow);
    a.bind(not_x86_64);
    a.jeq(AUDIT_ARCH_I386, To::Next, out.allow);
    a.ld(NR);
    namespace_rules(&mut a, &I386, &out);
    a.bind(out.allow);
    a.ret(libc::SECCOMP_RET_ALLOW);
    a.bind(notify_label);
    a.ret(libc::SECCOMP_RET_USER_NOTIF);
    a.bind(out.eperm);
    a.ret(libc::SECCOMP_RET_ERRNO | libc::EPERM as u32);
    a.bind(out.enosys);
    a.ret(libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32);
    a.finish()
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

    const NOTIFY: u32 = libc::SECCOMP_RET_USER_NOTIF;
    const ALLOW: u32 = libc::SECCOMP_RET_ALLOW;
    const EPERM: u32 = libc::SECCOMP_RET_ERRNO | libc::EPERM as u32;
    const ENOSYS: u32 = libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32;
    const NEWUSER: u32 = libc::CLONE_NEWUSER as u32;

    /// Runs the filter like the kernel's BPF interpreter would.
    fn run(p: &[Insn], arch: u32, nr: u32, args: [u32; 2]) -> u32 {
        let (mut acc, mut pc) = (0u32, 0usize);
        loop {
            let i = p[pc];
            match i.code {
                LD_W_ABS => {
                    acc = match i.k {
                        NR => nr,
                        ARCH => arch,
                        k if k == arg(0) => args[0],
                        k if k == arg(1) => args[1],
                        k => panic!("load of {k}"),
                    }
                }
                JEQ_K | JSET_K => {
                    let yes = if i.code == JEQ_K {
                        acc == i.k
                    } else {
                        acc & i.k != 0
                    };
                    pc += if yes { i.jt } else { i.jf } as usize;
                }
                JA => pc += i.k as usize,
                RET_K => return i.k,
                _ => panic!("unexpected instruction"),
            }
            pc += 1;
        }
    }

    fn x86_64(p: &[Insn], nr: u32, args: [u32; 2]) -> u32 {
        run(p, AUDIT_ARCH_X86_64, nr, args)
    }

    #[test]
    fn notifies_exactly_the_listed_syscalls() {
        let p = program(&syscalls(true, true));
        for nr in [174, 175, 176, 177, 178, 63, 2, 257] {
            assert_eq!(x86_64(&p, nr, [0, 0]), NOTIFY, "{nr}");
        }
        for nr in [0, 1, 39, 173, 179, 313] {
            assert_eq!(x86_64(&p, nr, [0, 0]), ALLOW, "{nr}");
        }
        assert_eq!(
            run(&p, AUDIT_ARCH_I386, 174, [0, 0]),
            ALLOW,
            "i386 is left alone"
        );
        assert_eq!(run(&p, 0xc000_00b7, 56, [NEWUSER, 0]), ALLOW, "aarch64");
        let only_modules = program(&syscalls(false, false));
        assert_eq!(x86_64(&only_modules, 63, [0, 0]), ALLOW);
        assert_eq!(x86_64(&only_modules, 178, [0, 0]), NOTIFY);
    }

    #[test]
    fn no_task_enters_another_user_namespace() {
        let p = program(&syscalls(true, true));
        let abis = [
            (AUDIT_ARCH_X86_64, X86_64),
            (AUDIT_ARCH_X86_64, X32),
            (AUDIT_ARCH_I386, I386),
        ];
        for (arch, calls) in abis {
            let at = |nr, args| run(&p, arch, nr, args);
            assert_eq!(at(calls.unshare, [NEWUSER, 0]), EPERM);
            assert_eq!(at(calls.unshare, [NEWUSER | 0x0002_0000, 0]), EPERM);
            assert_eq!(at(calls.unshare, [0x0002_0000, 0]), ALLOW, "mount ns");
            assert_eq!(at(calls.clone, [NEWUSER | 17, 0]), EPERM);
            assert_eq!(at(calls.clone, [0x003d_0f00, 0]), ALLOW, "a thread");
            assert_eq!(at(calls.clone, [17, 0]), ALLOW, "fork");
            assert_eq!(at(calls.setns, [3, 0]), EPERM, "any kind");
            assert_eq!(at(calls.setns, [3, NEWUSER]), EPERM);
            assert_eq!(at(calls.setns, [3, 0x4000_0000]), ALLOW, "net ns");
            assert_eq!(at(calls.clone3, [0, 0]), ENOSYS);
        }
    }
}
