//! The character-device table (2.4's `chrdevs[MAX_CHRDEV]`, fs/devices.c):
//! `register_chrdev`/`unregister_chrdev` with 2.4's answers, and
//! `/proc/devices`.

use std::ffi::{c_char, c_int};

use super::context;

/// `MAX_CHRDEV`: majors are 0..=254.
pub const MAX_CHRDEV: u32 = 255;

const EINVAL: c_int = 22;
const EBUSY: c_int = 16;

/// One registered major.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chrdev {
    /// The name as registered (a copy: /proc/devices shows it).
    pub name: Vec<u8>,
    /// Address of the module's `struct file_operations`.
    pub fops: u64,
    /// The module that registered it.
    pub module: Option<u64>,
}

/// The table.
#[derive(Debug)]
pub struct ChrdevTable {
    slots: Vec<Option<Chrdev>>,
}

impl Default for ChrdevTable {
    fn default() -> Self {
        ChrdevTable {
            slots: vec![None; MAX_CHRDEV as usize],
        }
    }
}

impl ChrdevTable {
    /// `register_chrdev(major, name, fops)`: the major (dynamic: scanned
    /// from 254 down), 0, or a negative errno.
    pub fn register(&mut self, major: u32, name: &[u8], fops: u64, module: Option<u64>) -> i32 {
        let entry = Chrdev {
            name: name.to_vec(),
            fops,
            module,
        };
        if major == 0 {
            for m in (1..MAX_CHRDEV as usize).rev() {
                if self.slots[m].is_none() {
                    self.slots[m] = Some(entry);
                    return m as i32;
                }
            }
            return -EBUSY;
        }
        if major >= MAX_CHRDEV {
            return -EINVAL;
        }
        let slot = &mut self.slots[major as usize];
        if slot.as_ref().is_some_and(|c| c.fops != fops) {
            return -EBUSY;
        }
        *slot = Some(entry);
        0
    }

    /// `unregister_chrdev(major, name)`: 0 or -EINVAL.
    pub fn unregister(&mut self, major: u32, name: &[u8]) -> i32 {
        if major >= MAX_CHRDEV {
            return -EINVAL;
        }
        match &self.slots[major as usize] {
            Some(c) if c.name == name => {
                self.slots[major as usize] = None;
                0
            }
            _ => -EINVAL,
        }
    }

    /// The device registered at `major`.
    pub fn get(&self, major: u32) -> Option<&Chrdev> {
        self.slots.get(major as usize).and_then(|s| s.as_ref())
    }

    /// Drops what module `id` left registered; returns the majors.
    pub fn owned_by(&mut self, id: u64) -> Vec<(u32, Vec<u8>)> {
        let mut gone = Vec::new();
        for (m, slot) in self.slots.iter_mut().enumerate() {
            if slot.as_ref().is_some_and(|c| c.module == Some(id)) {
                let c = slot.take().expect("checked");
                gone.push((m as u32, c.name));
            }
        }
        gone
    }

    /// (major, name) of each registered driver, by major.
    pub fn list(&self) -> Vec<(u32, String)> {
        let slots = self.slots.iter().enumerate();
        slots
            .filter_map(|(m, s)| {
                let c = s.as_ref()?;
                Some((m as u32, String::from_utf8_lossy(&c.name).into_owned()))
            })
            .collect()
    }

    /// `/proc/devices` as 2.4 printed it (umod has no block devices).
    pub fn proc_devices(&self) -> String {
        let mut out = String::from("Character devices:\n");
        for (m, slot) in self.slots.iter().enumerate() {
            if let Some(c) = slot {
                out.push_str(&format!("{m:3} {}\n", String::from_utf8_lossy(&c.name)));
            }
        }
        out.push_str("\nBlock devices:\n");
        out
    }
}

/// Borrows `len` bytes C passed.
///
/// # Safety
/// `ptr` points to `len` readable bytes (or `len` is 0).
unsafe fn c_bytes<'a>(ptr: *const c_char, len: usize) -> &'a [u8] {
    if len == 0 || ptr.is_null() {
        return &[];
    }
    // SAFETY: guaranteed by the caller.
    unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), len) }
}

/// `register_chrdev` from module code (`chrdev.c` measured the name).
///
/// # Safety
/// `name` points to `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn umod_chrdev_register(
    major: u32,
    name: *const c_char,
    len: usize,
    fops: u64,
) -> c_int {
    // SAFETY: see above.
    let name = unsafe { c_bytes(name, len) };
    let Some(frame) = context::current() else {
        return -EINVAL;
    };
    let r = frame
        .kernel
        .chrdevs()
        .register(major, name, fops, frame.module);
    r
}

/// `unregister_chrdev` from module code.
///
/// # Safety
/// `name` points to `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn umod_chrdev_unregister(
    major: u32,
    name: *const c_char,
    len: usize,
) -> c_int {
    // SAFETY: see above.
    let name = unsafe { c_bytes(name, len) };
    let Some(frame) = context::current() else {
        return -EINVAL;
    };
    let r = frame.kernel.chrdevs().unregister(major, name);
    r
}

/// Exported functions of `chrdev.c`.
pub fn functions() -> Vec<(&'static str, usize)> {
    extern "C" {
        fn umod_register_chrdev();
        fn umod_unregister_chrdev();
        fn umod_kdevname();
        fn umod___pollwait();
        fn umod_fasync_helper();
        fn umod_kill_fasync();
    }
    vec![
        (
            "register_chrdev",
            umod_register_chrdev as *const () as usize,
        ),
        (
            "unregister_chrdev",
            umod_unregister_chrdev as *const () as usize,
        ),
        ("kdevname", umod_kdevname as *const () as usize),
        ("default_llseek", crate::vfs::default_llseek_addr()),
        ("generic_file_llseek", crate::vfs::default_llseek_addr()),
        ("no_llseek", crate::vfs::no_llseek_addr() as usize),
        ("__pollwait", umod___pollwait as *const () as usize),
        ("fasync_helper", umod_fasync_helper as *const () as usize),
        ("kill_fasync", umod_kill_fasync as *const () as usize),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn majors_follow_2_4_rules() {
        let mut t = ChrdevTable::default();
        assert_eq!(t.register(0, b"a", 0x10, None), 254);
        assert_eq!(t.register(0, b"b", 0x20, None), 253);
        assert_eq!(t.register(60, b"c", 0x30, None), 0);
        assert_eq!(t.register(60, b"c2", 0x30, None), 0, "same fops: renamed");
        assert_eq!(t.register(60, b"d", 0x40, None), -EBUSY);
        assert_eq!(t.register(255, b"e", 0x50, None), -EINVAL);
        assert_eq!(t.unregister(60, b"c"), -EINVAL, "the name changed");
        assert_eq!(t.unregister(60, b"c2"), 0);
        assert_eq!(t.unregister(60, b"c2"), -EINVAL);
        assert_eq!(
            t.proc_devices(),
            "Character devices:\n253 b\n254 a\n\nBlock devices:\n"
        );
    }
}
