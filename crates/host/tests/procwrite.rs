//! Writes to module /proc entries (2.4's `proc_file_write`): the bytes
//! reach `write_proc` as user memory, the writer is `current`, the entry's
//! mode decides who may write, and an entry without `write_proc` is EIO.

mod common;
use common::*;

use umod_abi::Errno;
use umod_examples::{PROCFILE, PROCRW};
use umod_host::vfs::Requester;
use umod_host::{FileCreds, LoadOptions};

fn nobody() -> FileCreds {
    FileCreds {
        uid: 65534,
        gid: 65534,
        groups: vec![],
        dac_override: false,
        dac_read_search: false,
    }
}

#[test]
fn a_write_reaches_write_proc_and_the_next_read_shows_it() {
    let host = host();
    host.load_object(&root(), "procrw", PROCRW.object, &LoadOptions::default())
        .unwrap();
    let me = Requester::this_thread();
    let root = FileCreds::root();
    assert_eq!(host.read_proc_as(&root, "umod_note").unwrap(), b"empty\n");
    assert_eq!(
        host.write_proc_as(&root, "umod_note", b"hello there\n", &me),
        Ok(12)
    );
    assert_eq!(
        host.read_proc_as(&root, "umod_note").unwrap(),
        b"hello there\n"
    );
    // The driver takes at most 64 bytes and says so in its count.
    assert_eq!(
        host.write_proc_as(&root, "umod_note", &[b'x'; 100], &me),
        Ok(64)
    );
    assert_eq!(host.read_proc_as(&root, "umod_note").unwrap(), [b'x'; 64]);
    // `current` was this thread (a task's pid is its thread id).
    let pid = rustix::thread::gettid().as_raw_nonzero();
    let log = host.dmesg();
    assert!(
        log.iter()
            .any(|r| r.text.contains(&format!("64 bytes from pid {pid}"))),
        "{log:?}"
    );
}

#[test]
fn the_entry_mode_decides_and_read_only_entries_are_eio() {
    let host = host();
    host.load_object(&root(), "procrw", PROCRW.object, &LoadOptions::default())
        .unwrap();
    host.load_object(
        &root(),
        "procfile",
        PROCFILE.object,
        &LoadOptions::default(),
    )
    .unwrap();
    let me = Requester::this_thread();
    // 0644: others read, only the owner (root) writes.
    assert!(host.read_proc_as(&nobody(), "umod_note").is_ok());
    assert_eq!(
        host.write_proc_as(&nobody(), "umod_note", b"no\n", &me),
        Err(Errno::EACCES)
    );
    assert_eq!(
        host.read_proc_as(&FileCreds::root(), "umod_note").unwrap(),
        b"empty\n"
    );
    assert_eq!(
        host.write_proc_as(&FileCreds::root(), "umod_hello", b"x", &me),
        Err(Errno::EIO)
    );
    assert_eq!(
        host.write_proc_as(&FileCreds::root(), "no_such_entry", b"x", &me),
        Err(Errno::ENOENT)
    );
}
