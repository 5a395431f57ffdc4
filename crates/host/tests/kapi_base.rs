//! The kit's base headers and the non-sleeping kernel services of the 2.4
//! API (kapi-2.4.md §5.3, §5.5, §5.6, §6.1, §7, §8.1, §8.2, §10.4, §11):
//! C modules built with the kit, loaded into a host, judged by what they
//! print, what /proc shows and what the host logs.

mod common;
use common::*;

use std::path::PathBuf;

use umod_host::{Host, LoadOptions, OneShotError};
use umod_loader::LoadError;

/// A scratch directory of this test process.
fn scratch(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("umod-kapi-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Compiles `tests/kapi/NAME.c` with the kit's flags; the object's bytes.
fn build(name: &str) -> Vec<u8> {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/kapi/{name}.c"));
    let dir = scratch(name);
    let obj = dir.join(format!("{name}.o"));
    umod_loader::kit::compile(&src, &obj).unwrap_or_else(|e| panic!("{e}"));
    let bytes = std::fs::read(&obj).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    bytes
}

fn load(host: &Host, name: &str, object: &[u8]) -> Result<(), OneShotError> {
    host.load_object(&root(), name, object, &LoadOptions::default())
        .map(|_| ())
}

/// The log lines' texts from `from` on.
fn lines(host: &Host) -> Vec<String> {
    host.dmesg().into_iter().map(|r| r.text).collect()
}

/// The log line starting with `prefix` (exactly one).
fn line(host: &Host, prefix: &str) -> String {
    let found: Vec<String> = lines(host)
        .into_iter()
        .filter(|l| l.starts_with(prefix))
        .collect();
    assert_eq!(
        found.len(),
        1,
        "lines starting {prefix:?} in {:#?}",
        lines(host)
    );
    found[0].clone()
}

#[test]
fn memory_follows_2_4s_rules_and_what_a_module_leaves_is_freed() {
    let host = host();
    let object = build("kapi_mem");
    load(&host, "kapi_mem", &object).unwrap();
    assert_eq!(
        line(&host, "kmalloc: "),
        "kmalloc: over=0 max=1 zero=1 aligned=1"
    );
    assert!(line(&host, "kfree: ").contains("was not allocated by kmalloc"));
    assert_eq!(
        line(&host, "pages: "),
        "pages: order9=1 aligned=1 order10=0 zeroed=1 orders=0,0,1,9"
    );
    assert_eq!(line(&host, "vmalloc: "), "vmalloc: zero=0 ten=1 aligned=1");
    assert!(line(&host, "Trying to vfree() bad address (").ends_with(')'));
    assert!(line(&host, "Trying to vfree() nonexistent vm area (").ends_with(')'));
    assert_eq!(line(&host, "cache: made"), "cache: made=1 dup=0 size=100");
    assert_eq!(
        line(&host, "kernel BUG at slab.c: "),
        "kernel BUG at slab.c: kmem_cache_create: duplicate cache kapi_cache"
    );
    assert_eq!(line(&host, "cache: obj"), "cache: obj=42 ctor_runs=1");
    assert_eq!(line(&host, "cache: reused"), "cache: reused=1 ctor_runs=1");
    assert!(line(&host, "kmem_cache_destroy: Can't free all objects ").len() > 40);
    assert_eq!(line(&host, "cache: destroy="), "cache: destroy=1");

    host.clear_dmesg();
    host.delete(&root(), Some("kapi_mem")).unwrap();
    let left = lines(&host);
    assert!(
        left.contains(&"kapi_mem: freed 1 kmalloc object(s), 128 bytes, it left allocated".into()),
        "{left:#?}"
    );
    // Two pages from __get_free_pages(.., 1), two of vmalloc(8192).
    assert!(
        left.contains(&"kapi_mem: freed 4 pages it left allocated".into()),
        "{left:#?}"
    );
    assert!(
        left.iter().any(
            |l| l.starts_with("kapi_mem: destroyed slab cache kapi_cache(leftover ")
                && l.ends_with("it left behind (1 object(s) still allocated)")
        ),
        "{left:#?}"
    );
    // The cache's name is free again: a reload creates it.
    host.clear_dmesg();
    load(&host, "kapi_mem", &object).unwrap();
    assert_eq!(line(&host, "cache: made"), "cache: made=1 dup=0 size=100");
}

#[test]
fn regions_ports_and_proc_ioports() {
    let host = host();
    load(&host, "kapi_res", &build("kapi_res")).unwrap();
    assert_eq!(
        line(&host, "res: got"),
        "res: got=1 start=300 end=31f busy=1"
    );
    assert_eq!(line(&host, "res: clash"), "res: clash=0 over=0 empty=0");
    assert_eq!(
        line(&host, "res: check"),
        "res: check_busy=-16 check_free=0"
    );
    assert_eq!(line(&host, "res: card"), "res: card=0 again=1 sub=1");
    assert_eq!(line(&host, "res: mem"), "res: mem=1");
    assert_eq!(
        line(&host, "Trying to free nonexistent resource "),
        "Trying to free nonexistent resource <00000300-0000030f>"
    );
    assert_eq!(line(&host, "io: ff"), "io: ff ffff ffffffff");
    assert_eq!(line(&host, "io: remap"), "io: remap=0 nocache=0");
    assert_eq!(
        lines(&host)
            .iter()
            .filter(|l| l.starts_with("ioremap("))
            .count(),
        1
    );

    let ioports = String::from_utf8(host.read_proc("ioports").unwrap()).unwrap();
    assert_eq!(
        ioports,
        "0300-031f : kapi_ports\ne000-e0ff : kapi card\n  e000-e01f : kapi_sub\n"
    );
    let iomem = String::from_utf8(host.read_proc("iomem").unwrap()).unwrap();
    assert_eq!(iomem, "000d0000-000d0fff : kapi_mem\n");

    host.clear_dmesg();
    host.delete(&root(), Some("kapi_res")).unwrap();
    let left = lines(&host);
    for want in [
        "kapi_res: released I/O ports 0300-031f it left requested",
        "kapi_res: released I/O ports e000-e0ff it left requested",
        "kapi_res: released I/O ports e000-e01f it left requested",
        "kapi_res: released I/O memory 000d0000-000d0fff it left requested",
    ] {
        assert!(left.contains(&want.to_string()), "{want} in {left:#?}");
    }
    assert_eq!(host.read_proc("ioports").unwrap(), b"");
    assert_eq!(host.read_proc("iomem").unwrap(), b"");
}

#[test]
fn atomics_bitops_and_locks_give_2_4s_values() {
    let host = host();
    load(&host, "kapi_sync", &build("kapi_sync")).unwrap();
    assert_eq!(
        line(&host, "atomic: "),
        "atomic: 4 dec_and_test=0 sub_and_test=1 inc_and_test=0 inc_and_test=1 add_negative=1"
    );
    assert_eq!(
        line(&host, "bitops: "),
        "bitops: word1=40 first=0 second=-1 const=1 var=-1 clear=-1 again=0 change=0 \
         words=3,1 zero=2 next=65 ffz=8 ffs=5 hweight=8"
    );
    assert_eq!(line(&host, "xchg: "), "xchg: old=5 now=9 cmpxchg=7,8 now=8");
    assert_eq!(
        line(&host, "spin: trylock"),
        "spin: trylock=1,0 locked=1 unlocked=0"
    );
    assert_eq!(
        line(&host, "spin: forgot"),
        "spin: forgot_locked=1 rw=0,1 rw_free=1"
    );
    // The lock nobody initialised is named once, though taken twice.
    let warned: Vec<String> = lines(&host)
        .into_iter()
        .filter(|l| l.starts_with("spin_lock: lock "))
        .collect();
    assert_eq!(warned.len(), 1, "{warned:?}");
    assert!(warned[0].contains("was never initialised (all zero); taken as unlocked"));
    let level = host
        .dmesg()
        .into_iter()
        .find(|r| r.text.starts_with("spin_lock: lock "))
        .unwrap()
        .level;
    assert_eq!(level, 4);
}

#[test]
fn utsname_time_delays_and_strings() {
    let host = host();
    load(&host, "kapi_uts", &build("kapi_uts")).unwrap();
    let [sysname, nodename, release, _, machine, domain] = umod_host::services::utsname::fields();
    assert_eq!(sysname, "Linux");
    assert_eq!(release, "2.4.32-umod");
    assert_eq!(
        line(&host, "uts: "),
        format!("uts: Linux|{nodename}|{release}|{machine}|{domain}")
    );
    assert_eq!(machine, "x86_64");
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert_eq!(nodename, hostname.trim());

    let time = line(&host, "time: xtime_skew=");
    let skew: i64 = time["time: xtime_skew=".len()..]
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(skew <= 1, "{time}");
    assert!(time.ends_with(" hz=100"));
    let delays = line(&host, "time: udelay_us=");
    let nums: Vec<i64> = delays
        .split(' ')
        .skip(1)
        .map(|kv| kv.split('=').nth(1).unwrap().parse().unwrap())
        .collect();
    // The delays spin on the monotonic clock; the module measures them
    // with the wall clock, which may read a microsecond apart.
    assert!(nums[0] >= 14_998 && nums[0] < 1_000_000, "{delays}");
    assert!(nums[1] >= 29_998 && nums[1] < 1_000_000, "{delays}");
    assert_eq!(nums[2], 1, "{delays}");

    assert_eq!(
        line(&host, "str: "),
        "str: 2 3f8 ttyS0 18446744073709551615 strsep=4 strnicmp=0 spn=3 pbrk=rnel memscan=4"
    );
}

#[test]
fn refused_symbols_fail_the_load_with_the_reason() {
    let host = host();
    let e = load(&host, "kapi_syscall", &build("kapi_syscall")).unwrap_err();
    assert!(
        matches!(&e, OneShotError::Load(LoadError::Unresolved(n)) if n == &["sys_call_table"]),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        "unresolved symbol sys_call_table (no system call table in user space: \
         hooking system calls cannot work)"
    );
    let e = load(&host, "kapi_baddelay", &build("kapi_baddelay")).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("unresolved symbol __bad_udelay ("),
        "{e}"
    );
    assert!(names(&host).is_empty());
}

/// The headers this part of the kit owns.
const HEADERS: &[&str] = &[
    "linux/types.h",
    "linux/errno.h",
    "linux/kernel.h",
    "linux/compiler.h",
    "linux/stddef.h",
    "linux/string.h",
    "linux/config.h",
    "linux/autoconf.h",
    "linux/version.h",
    "linux/utsname.h",
    "linux/ioctl.h",
    "linux/fcntl.h",
    "linux/list.h",
    "linux/time.h",
    "linux/delay.h",
    "linux/slab.h",
    "linux/vmalloc.h",
    "linux/mm.h",
    "linux/wrapper.h",
    "linux/ioport.h",
    "linux/kmod.h",
    "linux/major.h",
    "linux/spinlock.h",
    "linux/stat.h",
    "asm/types.h",
    "asm/errno.h",
    "asm/ioctl.h",
    "asm/fcntl.h",
    "asm/page.h",
    "asm/param.h",
    "asm/io.h",
    "asm/atomic.h",
    "asm/bitops.h",
    "asm/system.h",
    "asm/spinlock.h",
    "asm/delay.h",
    "asm/string.h",
    "asm/byteorder.h",
    "asm/posix_types.h",
    "asm/stat.h",
];

/// Compiles `source` with the kit's flags; gcc's complaint on failure.
fn compile(tag: &str, source: &str) -> Result<(), String> {
    let dir = scratch(tag);
    let src = dir.join("h.c");
    std::fs::write(&src, source).unwrap();
    let r = umod_loader::kit::compile(&src, &dir.join("h.o")).map_err(|e| e.to_string());
    std::fs::remove_dir_all(&dir).unwrap();
    r
}

#[test]
fn every_owned_header_compiles_alone_and_user_space_headers_are_absent() {
    for h in HEADERS {
        compile(
            &h.replace(['/', '.'], "_"),
            &format!("#include <{h}>\nint umod_kapi_unit;\n"),
        )
        .unwrap_or_else(|e| panic!("<{h}> alone: {e}"));
    }
    let all: String = HEADERS
        .iter()
        .map(|h| format!("#include <{h}>\n"))
        .collect();
    compile("all", &all).unwrap();
    // malloc.h still builds, with 2.4.22's warning.
    compile("malloc", "#include <linux/malloc.h>\n").unwrap();
    let e = compile("stdio", "#include <stdio.h>\n").unwrap_err();
    assert!(e.contains("No such file"), "{e}");
}

#[test]
fn errno_and_config_values_are_2_4s() {
    let checks = "#include <linux/errno.h>\n#include <linux/config.h>\n#include <linux/mm.h>\n\
        #include <asm/param.h>\n#include <linux/spinlock.h>\n#include <linux/ioport.h>\n\
        #include <linux/utsname.h>\n#include <linux/time.h>\n#include <stddef.h>\n\
        _Static_assert(ERESTARTSYS == 512 && ERESTARTNOINTR == 513 && ERESTARTNOHAND == 514, \"restart\");\n\
        _Static_assert(ENOIOCTLCMD == 515 && EAGAIN == 11 && ENOSYS == 38 && EDQUOT == 122, \"errno\");\n\
        _Static_assert(HZ == 100 && PAGE_SIZE == 4096, \"hz\");\n\
        _Static_assert(GFP_KERNEL == 0x1f0 && GFP_ATOMIC == 0x20 && GFP_USER == 0x1d0, \"gfp\");\n\
        _Static_assert(GFP_NOIO == 0x30 && GFP_NOFS == 0xf0 && GFP_DMA == 1, \"gfp2\");\n\
        _Static_assert(sizeof(spinlock_t) == 4 && sizeof(rwlock_t) == 4, \"locks\");\n\
        _Static_assert(sizeof(struct resource) == 56 && offsetof(struct resource, flags) == 24, \"res\");\n\
        _Static_assert(sizeof(struct new_utsname) == 390 && sizeof(struct timeval) == 16, \"uts\");\n\
        #if !defined(CONFIG_SMP) || !defined(CONFIG_X86_64) || !defined(CONFIG_KMOD) || defined(CONFIG_DEVFS_FS)\n\
        #error config\n#endif\n";
    compile("values", checks).unwrap();
}
