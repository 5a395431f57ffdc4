//! The index of the symbols modules export, so that resolving a name costs
//! the same with a thousand exports or a million.
//!
//! 2.4 kept no such index: insmod read every module's table with
//! `query_module` and searched its own copy. The tables stay where 2.4 had
//! them, in each module's image (`syms`), and the listings read them there;
//! the index remembers what each table said when `init_module` linked its
//! module (as 2.6 kept a module's symbols from its load): by the hash of
//! each name, which module, which entry, its value, and a second hash of
//! the exact name to tell names of one first hash apart. Both hashes are
//! keyed per host, so no module author can make names collide on purpose;
//! two names agreeing on 96 bits by chance is not a case worth a byte
//! comparison (which would cost a read of the module's memory per lookup).

use std::collections::hash_map::{Entry, RandomState};
use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};

use umod_loader::symbols::GPL_ONLY_PREFIX;

/// One exported name of one module, as its table said it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Holder {
    /// The symbol's value.
    pub value: u64,
    /// The module's slot in the list (its holders go before it does).
    pub slot: u32,
    /// Second hash of the name as listed (`GPLONLY_` included).
    check: u32,
    /// Entry of the module's table; the top bit says GPL-only.
    entry: u32,
}

const GPL_BIT: u32 = 1 << 31;

impl Holder {
    /// Entry index in the module's table (the first of a name wins).
    pub fn index(&self) -> u32 {
        self.entry & !GPL_BIT
    }

    /// Exported for GPL-compatible modules only.
    pub fn gpl_only(&self) -> bool {
        self.entry & GPL_BIT != 0
    }
}

/// A key that is a hash already.
#[derive(Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only u64 keys are hashed here.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type ByHash<V> = HashMap<u64, V, BuildHasherDefault<PassThrough>>;

/// Where each exported name is.
#[derive(Debug, Default)]
pub(crate) struct ModuleSymbols {
    seed: RandomState,
    check_seed: RandomState,
    /// One holder per key: nearly every name has one.
    first: ByHash<Holder>,
    /// The other holders of a key (names several modules export, or
    /// names that share a first hash).
    more: ByHash<Vec<Holder>>,
}

impl ModuleSymbols {
    /// The key of an exported name: GPL-only exports are found by the
    /// name without their prefix, as insmod matched them.
    fn key(&self, plain: &[u8]) -> u64 {
        self.seed.hash_one(plain)
    }

    fn check(&self, plain: &[u8]) -> u32 {
        // The high half: the low one is what a map's buckets use.
        (self.check_seed.hash_one(plain) >> 32) as u32
    }

    /// Indexes the table of the module in `slot`: (entry index, name,
    /// value) for each entry. Returns the keys, which
    /// [`ModuleSymbols::remove`] takes back before the slot is freed.
    pub fn add<'a>(
        &mut self,
        slot: u32,
        table: impl IntoIterator<Item = (u32, &'a [u8], u64)>,
    ) -> Box<[u64]> {
        let mut keys = Vec::new();
        for (index, name, value) in table {
            let (plain, gpl) = match name.strip_prefix(GPL_ONLY_PREFIX) {
                Some(rest) => (rest, GPL_BIT),
                None => (name, 0),
            };
            let key = self.key(plain);
            let holder = Holder {
                value,
                slot,
                check: self.check(plain),
                entry: (index & !GPL_BIT) | gpl,
            };
            match self.first.entry(key) {
                Entry::Vacant(v) => {
                    v.insert(holder);
                }
                Entry::Occupied(_) => self.more.entry(key).or_default().push(holder),
            }
            keys.push(key);
        }
        keys.into_boxed_slice()
    }

    /// Forgets what [`ModuleSymbols::add`] indexed for the module in `slot`.
    pub fn remove(&mut self, slot: u32, keys: &[u64]) {
        for &key in keys {
            // One holder per key and table entry: take one.
            if let Some(more) = self.more.get_mut(&key) {
                if let Some(i) = more.iter().position(|h| h.slot == slot) {
                    more.swap_remove(i);
                    if more.is_empty() {
                        self.more.remove(&key);
                    }
                    continue;
                }
            }
            if self.first.get(&key).is_some_and(|h| h.slot == slot) {
                match self.more.get_mut(&key).and_then(Vec::pop) {
                    Some(next) => {
                        self.first.insert(key, next);
                        if self.more.get(&key).is_some_and(Vec::is_empty) {
                            self.more.remove(&key);
                        }
                    }
                    None => {
                        self.first.remove(&key);
                    }
                }
            }
        }
    }

    /// The holders of `name` (as a name to link against: without a
    /// `GPLONLY_` prefix), in no particular order.
    pub fn holders<'a>(&'a self, name: &[u8]) -> impl Iterator<Item = &'a Holder> + 'a {
        let key = self.key(name);
        let check = self.check(name);
        let more = if self.more.is_empty() {
            None
        } else {
            self.more.get(&key)
        };
        self.first
            .get(&key)
            .into_iter()
            .chain(more.into_iter().flatten())
            .filter(move |h| h.check == check)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(t: &ModuleSymbols, name: &[u8]) -> Vec<(u64, u64, bool)> {
        let mut v: Vec<_> = t
            .holders(name)
            .map(|h| (u64::from(h.slot), h.value, h.gpl_only()))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn add_find_remove() {
        let mut t = ModuleSymbols::default();
        let a = t.add(1, [(0, &b"foo"[..], 10), (1, b"GPLONLY_bar", 11)]);
        let b = t.add(2, [(0, &b"foo"[..], 20)]);
        assert_eq!(ids(&t, b"foo"), [(1, 10, false), (2, 20, false)]);
        assert_eq!(ids(&t, b"bar"), [(1, 11, true)]);
        assert!(ids(&t, b"GPLONLY_bar").is_empty());
        assert!(ids(&t, b"baz").is_empty());
        t.remove(1, &a);
        assert_eq!(ids(&t, b"foo"), [(2, 20, false)]);
        assert!(ids(&t, b"bar").is_empty());
        t.remove(2, &b);
        assert!(t.first.is_empty() && t.more.is_empty());
    }

    #[test]
    fn the_first_holder_goes_and_another_takes_its_place() {
        let mut t = ModuleSymbols::default();
        let a = t.add(1, [(0, &b"x"[..], 1)]);
        let b = t.add(2, [(0, &b"x"[..], 2)]);
        let c = t.add(3, [(0, &b"x"[..], 3)]);
        t.remove(1, &a);
        assert_eq!(ids(&t, b"x"), [(2, 2, false), (3, 3, false)]);
        t.remove(3, &c);
        assert_eq!(ids(&t, b"x"), [(2, 2, false)]);
        assert!(t.more.is_empty());
        t.remove(2, &b);
        assert!(t.first.is_empty());
    }
}
