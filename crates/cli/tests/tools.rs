//! Every tool against a real daemon: success and failure output.

mod common;
use common::*;

use std::path::Path;
use std::process::Command;

#[test]
fn insmod_lsmod_rmmod_round_trip() {
    let d = Daemon::start("round-trip");
    assert_eq!(d.ok(&["insmod", "hello.o"]), "");
    assert_eq!(d.ok(&["insmod", "counter.o"]), "");
    assert_eq!(d.ok(&["insmod", "--oneshot", "counter_user.o"]), "");
    let lsmod = d.ok(&["lsmod"]);
    let proc_modules = d.ok(&["cat", "/proc/modules"]);
    assert_eq!(
        lsmod,
        format!("Module                  Size  Used by    Not tainted\n{proc_modules}")
    );
    let lines: Vec<&str> = proc_modules.lines().collect();
    assert!(
        lines[0].starts_with("counter_user ") && lines[0].ends_with("   0 (unused)"),
        "{proc_modules}"
    );
    assert!(lines[1].starts_with("counter ") && lines[1].ends_with("   0 [counter_user]"));
    assert!(lines[2].starts_with("hello ") && lines[2].ends_with("   0 (unused)"));

    assert_eq!(
        d.fails(&["rmmod", "counter"]),
        "rmmod: counter: EBUSY (Device or resource busy)\n"
    );
    assert_eq!(
        d.fails(&["rmmod", "nosuch"]),
        "rmmod: nosuch: ENOENT (No such file or directory)\n"
    );
    d.ok(&["rmmod", "-r", "counter_user"]);
    d.ok(&["rmmod", "hello"]);
    assert_eq!(d.ok(&["cat", "/proc/modules"]), "");
}

#[test]
fn insmod_failures_name_the_module_and_the_cause() {
    let d = Daemon::start("insmod-fail");
    assert_eq!(
        d.fails(&["insmod", "counter_user.o"]),
        "insmod: counter_user.o: unresolved symbol counter_bump\n\
         insmod: counter_user.o: unresolved symbol counter_value\n"
    );
    assert_eq!(
        d.fails(&["insmod", "failing.o"]),
        "insmod: failing.o: init_module: ENODEV (No such device)\n"
    );
    assert_eq!(
        d.fails(&["insmod", "params.o", "irq=x"]),
        "insmod: params.o: parameter irq: `x` is not a number\n"
    );
    assert_eq!(
        d.fails(&["insmod", "missing.o"]),
        "insmod: missing.o: No such file or directory (os error 2)\n"
    );
    std::fs::write(d.dir.join("junk.o"), b"not an object").unwrap();
    assert_eq!(
        d.fails(&["insmod", "junk.o"]),
        "insmod: junk.o: not a valid ELF object: no ELF magic number\n"
    );
    d.ok(&["insmod", "hello.o"]);
    assert_eq!(
        d.fails(&["insmod", "hello.o"]),
        "insmod: hello.o: a module named hello already exists: EEXIST (File exists)\n"
    );
    assert_eq!(
        d.fails(&["insmod", "--oneshot", "failing.o"]),
        "insmod: failing.o: init: ENODEV (No such device)\n"
    );
    // Nothing of the failures remains.
    assert_eq!(d.ok(&["cat", "/proc/modules"]).lines().count(), 1);
}

#[test]
fn insmod_options() {
    let d = Daemon::start("insmod-options");
    d.ok(&["insmod", "-o", "renamed", "hello.o"]);
    d.ok(&["insmod", "-k", "counter.o"]);
    let map = d.ok(&["insmod", "-m", "params.o", "irq=3"]);
    assert!(map.starts_with("params loaded at 0x"), "{map}");
    assert!(map.lines().any(|l| l.ends_with(" .text")), "{map}");
    assert!(map.lines().any(|l| l.ends_with(" init_module")), "{map}");
    let modules = d.ok(&["cat", "/proc/modules"]);
    assert!(modules.contains("renamed "), "{modules}");
    assert!(
        modules
            .lines()
            .any(|l| l.starts_with("counter ") && l.ends_with(" (autoclean) (unused)")),
        "{modules}"
    );
    let dmesg = d.ok(&["dmesg"]);
    assert!(
        dmesg.contains("] params: irq=3 ports=0x300,0,0,0 mode=auto label=none\n"),
        "{dmesg}"
    );
}

#[test]
fn ksyms_dmesg_cat_and_json() {
    let d = Daemon::start("views");
    d.ok(&["insmod", "counter.o"]);
    d.ok(&["insmod", "procfile.o"]);
    let ksyms = d.ok(&["ksyms"]);
    assert_eq!(ksyms.lines().count(), 2, "{ksyms}");
    assert!(ksyms.lines().all(|l| l.ends_with("\t[counter]")));
    let all = d.ok(&["ksyms", "-a"]);
    assert!(all.lines().any(|l| l.ends_with(" printk")));
    let json: serde_json::Value = serde_json::from_str(&d.ok(&["ksyms", "--json"])).unwrap();
    assert_eq!(json[0]["module"], "counter");
    let lsmod: serde_json::Value = serde_json::from_str(&d.ok(&["lsmod", "--json"])).unwrap();
    assert_eq!(lsmod[1]["name"], "counter");
    assert_eq!(lsmod[1]["used"], 0);
    assert_eq!(lsmod[0]["status"][0], "unused");

    let hello = d.ok(&["cat", "/proc/umod_hello"]);
    assert!(
        hello.starts_with("Hello from procfile: read 1 at jiffies "),
        "{hello}"
    );
    assert_eq!(
        d.fails(&["cat", "/proc/nosuch"]),
        "cat: /proc/nosuch: ENOENT (No such file or directory)\n"
    );

    let log = d.ok(&["dmesg"]);
    assert!(
        log.lines()
            .any(|l| l.starts_with("<6>[") && l.ends_with("] counter: ready")),
        "{log}"
    );
    let json: serde_json::Value = serde_json::from_str(&d.ok(&["dmesg", "--json", "-c"])).unwrap();
    assert!(json
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["text"] == "counter: ready"));
    assert_eq!(d.ok(&["dmesg"]), "", "-c cleared the log");
}

#[test]
fn modinfo_cflags_and_help() {
    let d = Daemon::start("modinfo");
    let info = d.ok(&["modinfo", "params.o"]);
    assert!(info.contains("license:        GPL\n"), "{info}");
    assert!(
        info.contains("parm:           ports:Up to four I/O ports (1-4 int)\n"),
        "{info}"
    );
    assert!(info.contains("depends:        printk\n"));
    assert_eq!(d.ok(&["modinfo", "-F", "license", "params.o"]), "GPL\n");
    assert_eq!(
        d.ok(&["modinfo", "-F", "depends", "counter_user.o"]),
        "counter_bump,counter_value,printk\n"
    );
    assert!(d
        .fails(&["modinfo", "nosuch.o"])
        .starts_with("modinfo: nosuch.o: "));
    let out = Command::new(umod())
        .arg("cflags")
        .env("XDG_CACHE_HOME", d.dir.join("cache"))
        .output()
        .unwrap();
    let flags = String::from_utf8_lossy(&out.stdout);
    assert!(
        flags.contains("-mcmodel=kernel") && flags.contains("/cache/umod/kit-"),
        "{flags}"
    );
    for cmd in [
        "insmod", "rmmod", "lsmod", "ksyms", "modinfo", "depmod", "modprobe", "dmesg", "cat",
        "cflags", "serve", "demo",
    ] {
        let help = d.ok(&[cmd, "--help"]);
        assert!(help.contains("Example: "), "{cmd} --help has no example");
    }
}

#[test]
fn depmod_and_modprobe() {
    let d = Daemon::start("modprobe");
    d.ok(&["depmod", "-b", "."]);
    let dep = std::fs::read_to_string(d.dir.join("modules.dep")).unwrap();
    let dir = d.dir.canonicalize().unwrap();
    assert!(
        dep.contains(&format!(
            "{0}/counter_user.o: {0}/counter.o\n",
            dir.display()
        )),
        "{dep}"
    );
    assert!(dep.contains(&format!("{}/hello.o:\n", dir.display())));
    d.ok(&["modprobe", "-d", ".", "counter_user"]);
    let modules = d.ok(&["cat", "/proc/modules"]);
    assert!(
        modules.starts_with("counter_user ") && modules.contains("\ncounter "),
        "{modules}"
    );
    d.ok(&["modprobe", "-d", ".", "params", "irq=4"]);
    assert!(d.ok(&["dmesg"]).contains("params: irq=4 "));
    d.ok(&["modprobe", "-d", ".", "-r", "counter_user"]);
    let modules = d.ok(&["cat", "/proc/modules"]);
    assert!(!modules.contains("counter"), "{modules}");
    assert_eq!(
        d.fails(&["modprobe", "-d", ".", "nosuch"]),
        "modprobe: can't locate module nosuch\n"
    );
}

#[test]
fn multi_call_links() {
    let d = Daemon::start("links");
    let lsmod = d.dir.join("lsmod");
    let insmod = d.dir.join("insmod");
    std::os::unix::fs::symlink(umod(), &lsmod).unwrap();
    std::os::unix::fs::symlink(umod(), &insmod).unwrap();
    let run = |tool: &std::path::Path, args: &[&str]| {
        d.command(tool)
            .args(args)
            .env("UMOD_SOCKET", &d.socket)
            .output()
            .unwrap()
    };
    assert!(
        run(&insmod, &["--autoclean", "--name", "viaLink", "hello.o"])
            .status
            .success()
    );
    let out = run(&lsmod, &[]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("viaLink ") && text.contains("(autoclean)"),
        "{text}"
    );
}

#[test]
fn no_daemon_is_a_clear_error() {
    let dir = scratch_dir("nodaemon");
    let out = std::process::Command::new(umod())
        .args(["--socket"])
        .arg(dir.join("none.sock"))
        .arg("lsmod")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.starts_with("lsmod: cannot reach the umod daemon at "),
        "{err}"
    );
}

#[test]
fn a_proprietary_module_taints_the_host() {
    let d = Daemon::start("taint");
    assert!(d
        .ok(&["lsmod"])
        .starts_with("Module                  Size  Used by    Not tainted\n"));
    let mut object = std::fs::read(d.dir.join("hello.o")).unwrap();
    let at = object
        .windows(11)
        .position(|w| w == b"license=GPL")
        .unwrap();
    object[at + 8..at + 11].copy_from_slice(b"BSD");
    std::fs::write(d.dir.join("closed.o"), &object).unwrap();
    d.ok(&["insmod", "closed.o"]);
    assert!(d
        .ok(&["lsmod"])
        .starts_with("Module                  Size  Used by    Tainted: P\n"));
}

#[test]
fn socket_mode_and_depmod_errors() {
    use std::os::unix::fs::PermissionsExt;
    let d = Daemon::start("mode");
    let mode = std::fs::metadata(&d.socket).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o666);
    assert!(d
        .fails(&["depmod", "-b", "/nonexistent/dir"])
        .starts_with("depmod: /nonexistent/dir: "));
}

#[test]
fn an_installed_umod_carries_its_kit() {
    // The binary copied where no checkout is, run with a home of its own
    // and nothing of the build's environment.
    let dir = scratch_dir("installed");
    let bin = dir.join("bin");
    std::fs::create_dir(&bin).unwrap();
    assert!(Command::new("cp")
        .arg(UMOD_BUILT)
        .arg(bin.join("umod"))
        .status()
        .unwrap()
        .success());
    let home = dir.join("home");
    std::fs::create_dir(&home).unwrap();
    let run = |args: &[&str]| {
        // A copy just written may be busy for an instant: a process another
        // test thread forked meanwhile holds the writing descriptor until it
        // execs (ETXTBSY).
        let mut tries = 0;
        let out = loop {
            let r = Command::new(bin.join("umod"))
                .args(args)
                .env_clear()
                .env("HOME", &home)
                .env("PATH", "/usr/bin:/bin")
                .current_dir(&dir)
                .output();
            match r {
                Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy && tries < 100 => {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                r => break r.unwrap(),
            }
        };
        assert!(
            out.status.success(),
            "umod {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    std::fs::write(
        dir.join("hello.c"),
        "#include <linux/module.h>\n#include <linux/kernel.h>\n\
         MODULE_LICENSE(\"GPL\");\n\
         int init_module(void) { printk(KERN_INFO \"hi\\n\"); return 0; }\n\
         void cleanup_module(void) {}\n",
    )
    .unwrap();
    let compile = |flags: &str, out: &str| {
        let st = Command::new("gcc")
            .args(flags.split_whitespace())
            .args(["-c", "hello.c", "-o", out])
            .current_dir(&dir)
            .status()
            .unwrap();
        assert!(st.success(), "gcc {flags}");
    };
    // The cache under the home directory.
    let flags = run(&["cflags"]);
    let include = flags
        .split_whitespace()
        .find_map(|f| f.strip_prefix("-I"))
        .unwrap();
    // Only the kit's headers and gcc's own, as 2.4's build had them.
    assert!(
        flags.starts_with("-nostdinc -iwithprefix include "),
        "{flags}"
    );
    assert!(
        include.starts_with(home.join(".cache/umod/kit-").to_str().unwrap()),
        "{flags}"
    );
    assert!(Path::new(include).join("linux/module.h").exists());
    compile(&flags, "hello.o");
    assert_eq!(run(&["modinfo", "-F", "license", "hello.o"]), "GPL\n");
    // Or wherever --kit-dir says.
    let kit = dir.join("kit");
    let flags = run(&["cflags", "--kit-dir", kit.to_str().unwrap()]);
    assert!(flags.contains(&format!(" -I{} ", kit.canonicalize().unwrap().display())));
    compile(&flags, "hello2.o");
    let _ = std::fs::remove_dir_all(&dir);
}
