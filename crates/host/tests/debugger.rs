//! Modules a debugger can see: each loaded module is registered with
//! gdb's JIT interface (an object file at its load addresses, with its
//! DWARF when it was loaded one-shot from an object built with `-g`),
//! before its init runs, and unregistered when it goes.
//!
//! The gdb tests run this very test binary as gdb's child (a test of its
//! own, `debuggee`, does the loading when `UMOD_DEBUGGEE` says what to
//! do): a debugger may trace its own children, so no privilege is needed.
//! Where gdb is missing, or the system forbids tracing altogether, they
//! say so and pass.

mod common;
use common::*;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use umod_abi::Errno;
use umod_examples::{COUNTER, COUNTER_USER, FAILING};
use umod_host::{Host, HostConfig, LoadOptions, LocalCalls};
use umod_loader::LinkOptions;

const FIXTURE: &str = "../loader/tests/fixtures/debuggee.c";

/// The debuggee fixture built with `-g`; its path.
fn debuggee_object(tag: &str) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE);
    let out = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("debuggee-{tag}-{}.o", std::process::id()));
    let built = Command::new("gcc")
        .args(umod_loader::kit::cflags())
        .args(["-g", "-c"])
        .arg(&src)
        .arg("-o")
        .arg(&out)
        .status()
        .unwrap();
    assert!(built.success());
    out
}

/// The line of the fixture that holds `marker`, counting from 1.
fn line_of(marker: &str) -> usize {
    let src = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE)).unwrap();
    1 + src.lines().position(|l| l.contains(marker)).unwrap()
}

/// Loads `counter` the 2.4 way (the tool relocates; the host has no
/// DWARF), then `counter_user` (whose init calls counter_bump), then the
/// debuggee one-shot.
fn load_all(host: &Host, debuggee: &Path) {
    let mut calls = LocalCalls::new(host, root());
    let m = umod_loader::ModuleObject::parse("counter", COUNTER.object).unwrap();
    umod_loader::insmod::insmod(&mut calls, &m, &[], &LinkOptions::default()).unwrap();
    host.load_object(
        &root(),
        "counter_user",
        COUNTER_USER.object,
        &LoadOptions::default(),
    )
    .unwrap();
    let object = std::fs::read(debuggee).unwrap();
    host.load_object(&root(), "debuggee", &object, &LoadOptions::default())
        .unwrap();
}

/// The child's part, when `UMOD_DEBUGGEE` is `run:OBJECT` (load, remove,
/// exit) or `wait:OBJECT` (load, say `ready`, then read /proc/debuggee
/// every 20 ms for 30 s).
#[test]
fn debuggee() {
    let Ok(what) = std::env::var("UMOD_DEBUGGEE") else {
        return;
    };
    let (mode, object) = what.split_once(':').unwrap();
    let host = Host::with_config(HostConfig {
        window_size: 16 << 20,
        ..Default::default()
    })
    .unwrap();
    load_all(&host, Path::new(object));
    if mode == "wait" {
        println!("ready");
        let until = Instant::now() + Duration::from_secs(30);
        while Instant::now() < until {
            host.read_proc("debuggee").unwrap();
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    for name in ["debuggee", "counter_user", "counter"] {
        host.delete(&root(), Some(name)).unwrap();
    }
}

/// gdb's output, or `None` (having said why) when gdb cannot run or trace.
fn gdb(args: &[&str]) -> Option<String> {
    let out = match Command::new("gdb")
        .args(["-nx", "-batch"])
        .args(args)
        .output()
    {
        Ok(out) => out,
        Err(e) => {
            eprintln!("skipped: cannot run gdb: {e}");
            return None;
        }
    };
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let refused = [
        "ptrace: Operation not permitted",
        "Could not attach",
        "Cannot create process",
    ];
    if refused.iter().any(|r| text.contains(r)) {
        eprintln!("skipped: this system does not let gdb trace a process:\n{text}");
        return None;
    }
    Some(text)
}

#[test]
fn gdb_stops_in_module_functions_and_shows_the_source_of_one_built_with_g() {
    let object = debuggee_object("run");
    let me = std::env::current_exe().unwrap();
    let env = format!("UMOD_DEBUGGEE=run:{}", object.display());
    let Some(out) = gdb(&[
        "-ex",
        &format!("set environment {env}"),
        "-ex",
        "set breakpoint pending on",
        "-ex",
        "tbreak counter_bump",
        "-ex",
        "break debuggee_step",
        "-ex",
        "run",
        "-ex",
        "bt",
        "-ex",
        "continue",
        "-ex",
        "bt",
        "-ex",
        "continue",
        "--args",
        me.to_str().unwrap(),
        "--exact",
        "debuggee",
        "--nocapture",
        "--test-threads=1",
    ]) else {
        return;
    };
    // counter came the 2.4 way: symbols only, no source.
    assert!(
        out.contains("Temporary breakpoint 1, 0x") && out.contains(" in counter_bump ()"),
        "{out}"
    );
    assert!(
        out.contains("#0  0x") && out.contains(" in init_module ()"),
        "{out}"
    );
    // debuggee came one-shot, built with -g: its source file and line.
    let line = line_of("the first line of debuggee_step");
    assert!(
        out.contains("Breakpoint 2, debuggee_step (by=by@entry=41) at "),
        "{out}"
    );
    assert!(out.contains(&format!("debuggee.c:{line}")), "{out}");
    assert!(
        out.contains("#0  debuggee_step (by=by@entry=41) at ")
            && out.contains(" in init_module () at "),
        "bt names the caller with its source too: {out}"
    );
    assert!(
        out.contains("[Inferior 1 (process"),
        "the child ran to its end: {out}"
    );
    let _ = std::fs::remove_file(object);
}

#[test]
fn gdb_attached_later_stops_with_a_hardware_breakpoint() {
    let object = debuggee_object("wait");
    let me = std::env::current_exe().unwrap();
    let mut child = Command::new(&me)
        .args(["--exact", "debuggee", "--nocapture", "--test-threads=1"])
        .env("UMOD_DEBUGGEE", format!("wait:{}", object.display()))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    assert!(lines.any(|l| l.unwrap().contains("ready")));
    let pid = child.id().to_string();
    // The window of a host that was not traced when it was created is
    // one memory file mapped twice: code takes hardware breakpoints.
    let out = gdb(&[
        "-p",
        &pid,
        "-ex",
        "hbreak debuggee_step",
        "-ex",
        "continue",
        "-ex",
        "bt",
        "-ex",
        "detach",
    ]);
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_file(object);
    let Some(out) = out else {
        return;
    };
    let line = line_of("the first line of debuggee_step");
    assert!(
        out.contains("Hardware assisted breakpoint 1 at 0x"),
        "{out}"
    );
    assert!(out.contains("debuggee_step (by=by@entry=1) at "), "{out}");
    assert!(out.contains(&format!("debuggee.c:{line}")), "{out}");
    assert!(out.contains(" debuggee_read ("), "{out}");
}

/// The entries of `__jit_debug_descriptor`: (object file address, size).
fn registered() -> Vec<(u64, u64)> {
    #[repr(C)]
    struct Descriptor {
        version: u32,
        action: u32,
        relevant: *const Entry,
        first: *const Entry,
    }
    #[repr(C)]
    struct Entry {
        next: *const Entry,
        prev: *const Entry,
        addr: *const u8,
        size: u64,
    }
    extern "C" {
        static __jit_debug_descriptor: Descriptor;
    }
    let mut out = Vec::new();
    // SAFETY: the descriptor is the host's; only this test's thread
    // changes it while the test runs (the other tests of this binary load
    // modules in child processes), so the list is still while walked.
    unsafe {
        let d = &raw const __jit_debug_descriptor;
        assert_eq!((*d).version, 1);
        let mut e = (*d).first;
        while !e.is_null() {
            out.push(((*e).addr as u64, (*e).size));
            e = (*e).next;
        }
    }
    out
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes(b[at..at + 2].try_into().unwrap())
}
fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}
fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

/// A name and an address (a section's), or a name, an address and a
/// size (a function's).
type Named = (String, u64);
type FunctionAt = (String, u64, u64);

/// Section names with their `sh_addr`, and functions with their
/// addresses (section address plus value), of an object file.
fn read_elf(elf: &[u8]) -> (Vec<Named>, Vec<FunctionAt>) {
    let shoff = u64_at(elf, 0x28) as usize;
    let count = u16_at(elf, 0x3c) as usize;
    let sh = |i: usize| shoff + 64 * i;
    let strings = |i: usize| u64_at(elf, sh(i) + 0x18) as usize;
    let shstr = strings(u16_at(elf, 0x3e) as usize);
    let cstr = |at: usize| {
        let end = elf[at..].iter().position(|&c| c == 0).unwrap();
        String::from_utf8(elf[at..at + end].to_vec()).unwrap()
    };
    let sections: Vec<Named> = (0..count)
        .map(|i| {
            (
                cstr(shstr + u32_at(elf, sh(i)) as usize),
                u64_at(elf, sh(i) + 0x10),
            )
        })
        .collect();
    let symtab = (0..count).find(|&i| u32_at(elf, sh(i) + 4) == 2).unwrap();
    let strtab = strings(u32_at(elf, sh(symtab) + 0x28) as usize);
    let (at, size) = (strings(symtab), u64_at(elf, sh(symtab) + 0x20) as usize);
    let functions = (at + 24..at + size)
        .step_by(24)
        .map(|s| {
            let shndx = u16_at(elf, s + 6) as usize;
            (
                cstr(strtab + u32_at(elf, s) as usize),
                sections[shndx].1 + u64_at(elf, s + 8),
                u64_at(elf, s + 16),
            )
        })
        .collect();
    (sections, functions)
}

#[test]
fn modules_are_registered_while_loaded_and_unregistered_after() {
    let before = registered();
    let host = host();
    let object = debuggee_object("registry");
    load_all(&host, &object);
    let now = registered();
    assert_eq!(
        now.len(),
        before.len() + 3,
        "counter, counter_user, debuggee"
    );
    // The newest first: the debuggee's object file, at its addresses.
    let (addr, size) = now[0];
    // SAFETY: the registration owns these bytes while the module is
    // loaded, and nothing writes them.
    let elf = unsafe { std::slice::from_raw_parts(addr as *const u8, size as usize) }.to_vec();
    let (sections, functions) = read_elf(&elf);
    let names: Vec<&str> = sections.iter().map(|s| s.0.as_str()).collect();
    assert!(
        names.contains(&".text")
            && names.contains(&".debug_info")
            && names.contains(&".debug_line"),
        "{names:?}"
    );
    let want = host.module_functions("debuggee").unwrap();
    let got: Vec<umod_host::ModuleFunction> = functions
        .into_iter()
        .map(|(name, start, size)| umod_host::ModuleFunction { start, size, name })
        .collect();
    assert_eq!(got, want);
    assert!(
        want.iter().any(|f| f.name == "debuggee_read"),
        "local functions too"
    );

    // Removal unregisters; so does a failed load.
    host.delete(&root(), Some("debuggee")).unwrap();
    assert_eq!(registered().len(), before.len() + 2);
    assert_eq!(
        host.load_object(&root(), "failing", FAILING.object, &LoadOptions::default())
            .unwrap_err()
            .errno(),
        Errno::ENODEV
    );
    assert_eq!(registered().len(), before.len() + 2);
    drop(host);
    assert_eq!(registered(), before);

    // A host that does not register: nothing.
    let quiet = Host::with_config(HostConfig {
        window_size: 16 << 20,
        gdb_jit: false,
        ..Default::default()
    })
    .unwrap();
    load_all(&quiet, &object);
    assert_eq!(registered(), before);
    let _ = std::fs::remove_file(object);
}
