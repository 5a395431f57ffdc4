//! `cargo bench -p umod-fuse --bench read`: reads through this FUSE server
//! from a file whose handler does nothing but return zeros (direct I/O, so
//! every read is a round trip to the server). Prints reads/s and MB/s for
//! 4 KiB and 128 KiB reads: the baseline of the device benchmark. Needs
//! root (mount(2) and `/dev/fuse`); otherwise says why and does nothing.

use std::ffi::OsStr;
use std::os::unix::fs::FileExt;
use std::time::{Duration, Instant};

use umod_fuse::abi::{Attr, FOPEN_DIRECT_IO, ROOT_ID};
use umod_fuse::{
    AttrReply, Entry, Errno, Filesystem, MountOptions, Opened, Request, Result, Session,
};

struct Zero;

const FILE: u64 = 2;

fn attr(ino: u64) -> Attr {
    let mode = if ino == ROOT_ID {
        libc::S_IFDIR | 0o755
    } else {
        libc::S_IFREG | 0o444
    };
    Attr {
        ino,
        mode,
        nlink: 1,
        size: 1 << 40,
        blksize: 4096,
        ..Attr::default()
    }
}

impl Filesystem for Zero {
    fn lookup(&self, _req: &Request, _parent: u64, name: &OsStr) -> Result<Entry> {
        if name != "zero" {
            return Err(Errno::ENOENT);
        }
        Ok(Entry {
            attr: attr(FILE),
            ..Entry::default()
        })
    }
    fn getattr(&self, _req: &Request, ino: u64, _fh: Option<u64>) -> Result<AttrReply> {
        Ok(AttrReply {
            attr: attr(ino),
            valid: Duration::from_secs(60),
        })
    }
    fn open(&self, _req: &Request, _ino: u64, _flags: u32) -> Result<Opened> {
        Ok(Opened {
            fh: 0,
            flags: FOPEN_DIRECT_IO,
        })
    }
    fn read(
        &self,
        _req: &Request,
        _ino: u64,
        _fh: u64,
        _offset: u64,
        size: u32,
    ) -> Result<Vec<u8>> {
        Ok(vec![0; size as usize])
    }
}

fn measure(file: &std::fs::File, size: usize) {
    let mut buf = vec![0u8; size];
    for _ in 0..100 {
        file.read_at(&mut buf, 0).unwrap();
    }
    let started = Instant::now();
    let mut reads = 0u64;
    while started.elapsed() < Duration::from_secs(2) {
        for _ in 0..64 {
            assert_eq!(file.read_at(&mut buf, 0).unwrap(), size);
        }
        reads += 64;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "fuse_read size={size} reads/s={:.0} MB/s={:.1}",
        reads as f64 / secs,
        (reads * size as u64) as f64 / secs / 1e6
    );
}

fn main() {
    if !rustix::process::geteuid().is_root() {
        println!("fuse_read skipped: mounting FUSE needs root (or a namespace's root with /dev/fuse open to it)");
        return;
    }
    let dir = std::env::temp_dir().join(format!("umod-fuse-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let session = Session::mount(&dir, Zero, &MountOptions::default()).expect("mount");
    let file = std::fs::File::open(dir.join("zero")).unwrap();
    measure(&file, 4096);
    measure(&file, 128 * 1024);
    drop(file);
    drop(session);
    std::fs::remove_dir(&dir).unwrap();
}
