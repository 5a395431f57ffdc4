//! Character devices through the host's file layer: the example drivers
//! `chardev` and `sleepy` opened, read, written, ioctl'ed, seeked and
//! polled as programs would, with 2.4's answers (counts held while open,
//! EFAULT, EINTR, EBADF).

mod common;
use common::*;

use std::sync::mpsc;
use std::time::Duration;

use umod_abi::Errno;
use umod_examples::{Example, CHARDEV, SLEEPY};
use umod_host::vfs::Requester;
use umod_host::{Host, LoadOptions};

const O_RDONLY: u32 = 0;
const O_WRONLY: u32 = 1;
const O_RDWR: u32 = 2;

fn load(host: &Host, ex: &Example, args: &[&str]) {
    let options = LoadOptions {
        args: args.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    };
    host.load_object(&root(), ex.name, ex.object, &options)
        .expect("example loads");
}

fn major_of(host: &Host, name: &str) -> u32 {
    host.proc_devices()
        .lines()
        .find_map(|l| {
            let (m, n) = l.trim().split_once(' ')?;
            (n == name).then(|| m.parse().unwrap())
        })
        .unwrap_or_else(|| panic!("{name} in /proc/devices"))
}

fn usecount(host: &Host, name: &str) -> i32 {
    host.snapshot()
        .unwrap()
        .modules
        .iter()
        .find(|m| m.name == name.as_bytes())
        .map(|m| m.usecount)
        .expect("module listed")
}

#[test]
fn a_driver_registers_its_major_and_cleanup_unregisters_it() {
    let host = host();
    load(&host, &CHARDEV, &["major=60"]);
    assert_eq!(
        host.proc_devices(),
        "Character devices:\n 60 chardev\n\nBlock devices:\n"
    );
    load(&host, &SLEEPY, &[]);
    assert_eq!(major_of(&host, "sleepy"), 254, "the first dynamic major");
    host.delete(&root(), Some("chardev")).unwrap();
    host.delete(&root(), Some("sleepy")).unwrap();
    assert_eq!(
        host.proc_devices(),
        "Character devices:\n\nBlock devices:\n"
    );
}

#[test]
fn read_write_llseek_follow_the_driver_and_the_open_holds_the_module() {
    let host = host();
    load(&host, &CHARDEV, &[]);
    let major = major_of(&host, "chardev");
    let me = Requester::this_thread();
    let f = host
        .open_chrdev(major, 3, O_RDWR, (0o666, 0, 0), &me)
        .unwrap();
    assert_eq!(usecount(&host, "chardev"), 1, "fops->owner counts the open");
    assert_eq!(host.delete(&root(), Some("chardev")), Err(Errno::EBUSY));
    let text = String::from_utf8(f.read(100, &me).unwrap()).unwrap();
    assert_eq!(
        text,
        format!("opened 1 times, minor 3, by pid {}\n", me.task.pid)
    );
    assert_eq!(
        f.read(100, &me).unwrap(),
        b"",
        "the driver's f_pos is at the end"
    );
    assert_eq!(f.write(b"new text", &me), Ok(8));
    assert_eq!(f.llseek(4, 0, &me), Ok(4));
    assert_eq!(f.read(100, &me).unwrap(), b"text");
    assert_eq!(f.llseek(-2, 2, &me), Ok(6));
    assert_eq!(f.read(100, &me).unwrap(), b"xt");
    assert_eq!(f.llseek(0, 3, &me), Err(Errno::EINVAL), "whence > 2");
    assert_eq!(
        f.llseek(100, 0, &me),
        Err(Errno::EINVAL),
        "the driver's answer"
    );
    f.release(&me);
    assert_eq!(usecount(&host, "chardev"), 0);
    assert!(log_text(&host).contains("chardev: released"));
    host.delete(&root(), Some("chardev")).unwrap();
}

#[test]
fn access_modes_are_checked_before_the_driver() {
    let host = host();
    load(&host, &CHARDEV, &[]);
    let major = major_of(&host, "chardev");
    let me = Requester::this_thread();
    let ro = host
        .open_chrdev(major, 0, O_RDONLY, (0o666, 0, 0), &me)
        .unwrap();
    assert_eq!(ro.write(b"x", &me), Err(Errno::EBADF));
    let wo = host
        .open_chrdev(major, 0, O_WRONLY, (0o666, 0, 0), &me)
        .unwrap();
    assert_eq!(wo.read(10, &me), Err(Errno::EBADF));
    assert_eq!(usecount(&host, "chardev"), 2);
    ro.release(&me);
    wo.release(&me);
    assert_eq!(
        host.open_chrdev(major + 1, 0, O_RDONLY, (0o666, 0, 0), &me)
            .err(),
        Some(Errno::ENODEV)
    );
}

#[test]
fn ioctl_reaches_the_callers_memory_with_efault_for_bad_pointers() {
    let host = host();
    load(&host, &CHARDEV, &[]);
    let major = major_of(&host, "chardev");
    let me = Requester::this_thread();
    let f = host
        .open_chrdev(major, 0, O_RDWR, (0o666, 0, 0), &me)
        .unwrap();
    // _IOR: the mechanism hands the bytes at arg as a buffer.
    let mut io = [0u8; 4];
    assert_eq!(f.ioctl(0x8004_6301, 0x1000, &mut io, &me), Ok(0));
    assert_eq!(i32::from_le_bytes(io), 42);
    let mut io = 7i32.to_le_bytes();
    assert_eq!(f.ioctl(0x4004_6302, 0x1000, &mut io, &me), Ok(0));
    // A bare command: the driver writes straight into the program.
    let mut target = 0i32;
    let arg = &raw mut target as u64;
    assert_eq!(f.ioctl(0x6303, arg, &mut [], &me), Ok(0));
    // SAFETY: `target` is a live local; volatile because the module wrote it
    // behind the compiler's back.
    let written = unsafe { std::ptr::read_volatile(&raw const target) };
    assert_eq!(written, 7);
    assert_eq!(f.ioctl(0x6303, 0x10, &mut [], &me), Err(Errno::EFAULT));
    assert_eq!(f.ioctl(0x1234, 0, &mut [], &me), Err(Errno::ENOTTY));
    f.release(&me);
}

#[test]
fn a_reader_sleeps_until_a_writer_wakes_it_and_a_signal_interrupts_it() {
    let host = std::sync::Arc::new(host());
    load(&host, &SLEEPY, &[]);
    let major = major_of(&host, "sleepy");
    let (tx, rx) = mpsc::channel();
    let reader = {
        let host = std::sync::Arc::clone(&host);
        std::thread::spawn(move || {
            let me = Requester::this_thread();
            let f = host
                .open_chrdev(major, 0, O_RDONLY, (0o666, 0, 0), &me)
                .unwrap();
            let got = f.read(100, &me);
            f.release(&me);
            tx.send(got).unwrap();
        })
    };
    assert!(
        rx.recv_timeout(Duration::from_millis(300)).is_err(),
        "the reader sleeps"
    );
    let me = Requester::this_thread();
    let w = host
        .open_chrdev(major, 0, O_WRONLY, (0o666, 0, 0), &me)
        .unwrap();
    assert_eq!(w.write(b"hello", &me), Ok(5));
    assert_eq!(
        rx.recv_timeout(Duration::from_secs(10)).unwrap().unwrap(),
        b"hello"
    );
    reader.join().unwrap();

    // A signal while asleep: -ERESTARTSYS, seen as EINTR.
    let sleeper = Requester::this_thread();
    let signal = sleeper.signal.clone();
    let (tx, rx) = mpsc::channel();
    let reader = {
        let host = std::sync::Arc::clone(&host);
        std::thread::spawn(move || {
            let me = Requester {
                signal: sleeper.signal.clone(),
                ..Requester::this_thread()
            };
            let f = host
                .open_chrdev(major, 0, O_RDONLY, (0o666, 0, 0), &me)
                .unwrap();
            tx.send(f.read(100, &me)).unwrap();
            f.release(&me);
        })
    };
    std::thread::sleep(Duration::from_millis(200));
    signal.raise();
    assert_eq!(
        rx.recv_timeout(Duration::from_secs(10)).unwrap(),
        Err(Errno::EINTR)
    );
    reader.join().unwrap();
    w.release(&me);
    assert!(log_text(&host).contains("going to sleep"));
}

#[test]
fn poll_reports_readiness_and_notifies_on_wake_up() {
    let host = host();
    load(&host, &SLEEPY, &[]);
    let major = major_of(&host, "sleepy");
    let me = Requester::this_thread();
    let f = host
        .open_chrdev(major, 0, O_RDWR, (0o666, 0, 0), &me)
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    let mask = f
        .poll(
            &me,
            Some(Box::new(move || tx.lock().unwrap().send(()).unwrap())),
        )
        .unwrap();
    assert_eq!(mask, 0x4 | 0x100, "writable, not readable");
    assert!(rx.try_recv().is_err());
    assert_eq!(f.write(b"x", &me), Ok(1));
    rx.recv_timeout(Duration::from_secs(5))
        .expect("the wake-up notifies");
    assert_eq!(f.poll(&me, None).unwrap(), 0x1 | 0x4 | 0x40 | 0x100);
    f.release(&me);
}
