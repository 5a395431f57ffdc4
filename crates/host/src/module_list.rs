//! The module list: 2.4's singly linked `module_list`, newest first, kept
//! so that no operation on one entry costs more as the list grows.
//!
//! Entries live in slots that keep their index while they are listed; an
//! index is what the calls pass around under the big lock (after a call
//! into module code, which releases the lock, they find their entry again
//! by id). Beside the slots: the order (by id, which only grows, so newest
//! first is descending id), and lookups by name and by address.

use std::collections::{BTreeMap, HashMap};
use std::ops::{Index, IndexMut};

use crate::state::Module;

/// The entries, indexed by slot.
#[derive(Debug, Default)]
pub(crate) struct ModuleList {
    slots: Vec<Option<Module>>,
    free: Vec<usize>,
    /// Slot of each id; iterated backwards, newest first.
    order: BTreeMap<u64, usize>,
    /// Slots of the entries of each name: one live entry at most, and any
    /// number of DELETED ones still draining.
    by_name: HashMap<Vec<u8>, Vec<usize>>,
    /// Slot of the entry whose block starts at each address.
    by_addr: BTreeMap<u64, usize>,
}

impl ModuleList {
    /// Number of entries.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Lists `m` as the newest entry; its id must be higher than any
    /// listed. Returns its slot.
    pub fn insert(&mut self, m: Module) -> usize {
        debug_assert!(self.order.keys().next_back().is_none_or(|&id| id < m.id));
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                self.slots.push(None);
                self.slots.len() - 1
            }
        };
        self.order.insert(m.id, slot);
        self.by_name.entry(m.name.clone()).or_default().push(slot);
        self.by_addr.insert(m.addr(), slot);
        self.slots[slot] = Some(m);
        slot
    }

    /// Unlists the entry in `slot`.
    pub fn remove(&mut self, slot: usize) -> Module {
        let m = self.slots[slot].take().expect("a listed slot");
        self.order.remove(&m.id);
        if let Some(slots) = self.by_name.get_mut(&m.name) {
            slots.retain(|&s| s != slot);
            if slots.is_empty() {
                self.by_name.remove(&m.name);
            }
        }
        self.by_addr.remove(&m.addr());
        self.free.push(slot);
        m
    }

    /// Entries newest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Module> + '_ {
        self.order.values().rev().map(|&s| self.get(s))
    }

    /// (slot, entry) of the entries whose id is at most `id`, newest first:
    /// where a listing that stopped before entry `id` goes on.
    pub fn starting_at(&self, id: u64) -> impl Iterator<Item = (usize, &Module)> + '_ {
        self.order
            .range(..=id)
            .rev()
            .map(|(_, &s)| (s, self.get(s)))
    }

    /// The slots of the entries named `name` (live or DELETED).
    pub fn named(&self, name: &[u8]) -> &[usize] {
        self.by_name.get(name).map_or(&[], Vec::as_slice)
    }

    /// The slot of the entry with this id.
    pub fn slot_of_id(&self, id: u64) -> Option<usize> {
        self.order.get(&id).copied()
    }

    /// The slot of the entry whose header is at `addr`.
    pub fn slot_at(&self, addr: u64) -> Option<usize> {
        self.by_addr.get(&addr).copied()
    }

    /// The slot of the entry whose block holds `[addr, addr + len)`.
    pub fn slot_containing(&self, addr: u64, len: u64) -> Option<usize> {
        let (_, &slot) = self.by_addr.range(..=addr).next_back()?;
        self.get(slot).block.contains(addr, len).then_some(slot)
    }

    /// The next older entry's slot (what 2.4's `next` pointed to).
    pub fn older(&self, slot: usize) -> Option<usize> {
        let id = self.get(slot).id;
        self.order.range(..id).next_back().map(|(_, &s)| s)
    }

    /// The next newer entry's slot (whose `next` points to this one).
    pub fn newer(&self, slot: usize) -> Option<usize> {
        let id = self.get(slot).id;
        self.order.range(id + 1..).next().map(|(_, &s)| s)
    }

    fn get(&self, slot: usize) -> &Module {
        self.slots[slot].as_ref().expect("a listed slot")
    }
}

impl Index<usize> for ModuleList {
    type Output = Module;
    fn index(&self, slot: usize) -> &Module {
        self.get(slot)
    }
}

impl IndexMut<usize> for ModuleList {
    fn index_mut(&mut self, slot: usize) -> &mut Module {
        self.slots[slot].as_mut().expect("a listed slot")
    }
}
