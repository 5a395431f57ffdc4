//! The index of the symbols modules export, so that resolving a name costs
//! the same with a thousand exports or a million.
//!
//! 2.4 kept no such index: insmod read every module's table with
//! `query_module` and searched its own copy. The tables themselves stay
//! where 2.4 had them, in each module's image (`syms`, which the module
//! may change); the index only remembers, by the hash of each name, which
//! entry of which module's table held it when `init_module` linked the
//! module. A lookup reads those entries live and compares the names, so
//! it answers what a search of the tables would answer, unless a module
//! renamed its own exports after its init (then they are not found by
//! their new names: nothing else loses).

use std::collections::hash_map::{Entry, RandomState};
use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};

use umod_loader::symbols::GPL_ONLY_PREFIX;

/// Entry `index` of module `id`'s `syms` table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Holder {
    pub id: u64,
    pub index: u32,
}

/// The holders of one hash: nearly always one.
#[derive(Debug)]
enum Holders {
    One(Holder),
    Many(Vec<Holder>),
}

impl Holders {
    fn as_slice(&self) -> &[Holder] {
        match self {
            Holders::One(h) => std::slice::from_ref(h),
            Holders::Many(v) => v,
        }
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

/// Hashes of exported names, and where each name was.
#[derive(Debug, Default)]
pub(crate) struct ModuleSymbols {
    /// Keyed per host: names are chosen by module authors, but no caller
    /// can predict which collide.
    seed: RandomState,
    by_hash: HashMap<u64, Holders, BuildHasherDefault<PassThrough>>,
}

impl ModuleSymbols {
    /// The key of an exported name: GPL-only exports are found by the
    /// name without their prefix, as insmod matched them.
    pub fn key(&self, name: &[u8]) -> u64 {
        self.seed
            .hash_one(name.strip_prefix(GPL_ONLY_PREFIX).unwrap_or(name))
    }

    /// Indexes module `id`'s table (entry index, name); returns the keys,
    /// which [`ModuleSymbols::remove`] takes back.
    pub fn add<'a>(
        &mut self,
        id: u64,
        names: impl IntoIterator<Item = (u32, &'a [u8])>,
    ) -> Box<[u64]> {
        let mut keys = Vec::new();
        for (index, name) in names {
            let key = self.key(name);
            let holder = Holder { id, index };
            match self.by_hash.entry(key) {
                Entry::Vacant(v) => {
                    v.insert(Holders::One(holder));
                }
                Entry::Occupied(mut o) => {
                    let h = o.get_mut();
                    match h {
                        Holders::One(first) => *h = Holders::Many(vec![*first, holder]),
                        Holders::Many(v) => v.push(holder),
                    }
                }
            }
            keys.push(key);
        }
        keys.into_boxed_slice()
    }

    /// Forgets what [`ModuleSymbols::add`] indexed for module `id`.
    pub fn remove(&mut self, id: u64, keys: &[u64]) {
        for key in keys {
            let Entry::Occupied(mut o) = self.by_hash.entry(*key) else {
                continue;
            };
            // One holder per key and table entry: take one.
            let left = match o.get_mut() {
                Holders::One(h) if h.id == id => None,
                Holders::One(h) => Some(Holders::One(*h)),
                Holders::Many(v) => {
                    if let Some(i) = v.iter().position(|h| h.id == id) {
                        v.remove(i);
                    }
                    match v.as_slice() {
                        [] => None,
                        [one] => Some(Holders::One(*one)),
                        _ => Some(Holders::Many(std::mem::take(v))),
                    }
                }
            };
            match left {
                Some(h) => *o.get_mut() = h,
                None => {
                    o.remove();
                }
            }
        }
    }

    /// The holders that may export `name`, in no particular order; the
    /// caller reads each entry to see which really does.
    pub fn candidates(&self, name: &[u8]) -> &[Holder] {
        self.by_hash
            .get(&self.key(name))
            .map_or(&[], Holders::as_slice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_find_remove() {
        let mut t = ModuleSymbols::default();
        let a = t.add(1, [(0, &b"foo"[..]), (1, b"GPLONLY_bar")]);
        let b = t.add(2, [(0, &b"foo"[..])]);
        let mut foo = t.candidates(b"foo").to_vec();
        foo.sort_by_key(|h| h.id);
        assert_eq!(
            foo,
            [Holder { id: 1, index: 0 }, Holder { id: 2, index: 0 }]
        );
        assert_eq!(t.candidates(b"bar"), [Holder { id: 1, index: 1 }]);
        t.remove(1, &a);
        assert_eq!(t.candidates(b"foo"), [Holder { id: 2, index: 0 }]);
        assert!(t.candidates(b"bar").is_empty());
        t.remove(2, &b);
        assert!(t.by_hash.is_empty());
    }
}
