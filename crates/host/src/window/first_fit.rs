//! First-fit page allocator for the module window, in page units.
//!
//! Each block is followed by one guard page (as the x86_64 2.4 module
//! allocator did), so a block of `n` pages takes `n + 1` pages of the
//! window. All arithmetic is checked: a request near `u64::MAX` bytes is
//! simply "does not fit".

use std::collections::BTreeMap;

/// A block handed out by [`FirstFit::alloc`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Block {
    /// First page of the block, counted from the start of the region.
    pub first_page: u64,
    /// Pages usable by the block (the guard page is not included).
    pub pages: u64,
}

/// Free runs of a region of `capacity` pages, keyed by first page.
#[derive(Debug)]
pub struct FirstFit {
    capacity: u64,
    free: BTreeMap<u64, u64>,
    in_use: u64,
    blocks: u64,
}

impl FirstFit {
    /// A region of `capacity` pages, all free.
    pub fn new(capacity: u64) -> FirstFit {
        let mut free = BTreeMap::new();
        if capacity > 0 {
            free.insert(0, capacity);
        }
        FirstFit {
            capacity,
            free,
            in_use: 0,
            blocks: 0,
        }
    }

    /// Pages needed for `bytes` (rounded up), never overflowing.
    pub fn pages_for(bytes: u64, page_size: u64) -> u64 {
        bytes / page_size + u64::from(bytes % page_size != 0)
    }

    /// Takes the lowest run that holds `pages` plus a guard page. `None`
    /// for zero pages or when no free run is large enough.
    pub fn alloc(&mut self, pages: u64) -> Option<Block> {
        let need = pages.checked_add(1).filter(|_| pages > 0)?;
        let (&start, &len) = self.free.iter().find(|(_, &len)| len >= need)?;
        self.free.remove(&start);
        if len > need {
            self.free.insert(start + need, len - need);
        }
        self.in_use += need;
        self.blocks += 1;
        Some(Block {
            first_page: start,
            pages,
        })
    }

    /// Returns a block (and its guard page), merging with free neighbours.
    ///
    /// # Panics
    /// When the block overlaps free space or lies outside the region: that
    /// is a host bug, never a caller's input.
    pub fn free(&mut self, block: Block) {
        let mut start = block.first_page;
        let mut len = block.pages + 1;
        assert!(start + len <= self.capacity, "block outside the region");
        if let Some((&prev, &plen)) = self.free.range(..start).next_back() {
            assert!(prev + plen <= start, "double free of window pages");
            if prev + plen == start {
                self.free.remove(&prev);
                start = prev;
                len += plen;
            }
        }
        if let Some((&next, &nlen)) = self.free.range(start..).next() {
            assert!(start + len <= next, "double free of window pages");
            if start + len == next {
                self.free.remove(&next);
                len += nlen;
            }
        }
        self.free.insert(start, len);
        self.in_use -= block.pages + 1;
        self.blocks -= 1;
    }

    /// Pages held by blocks, guard pages included.
    pub fn in_use(&self) -> u64 {
        self.in_use
    }

    /// Number of live blocks.
    pub fn blocks(&self) -> u64 {
        self.blocks
    }

    /// Largest free run in pages.
    pub fn largest_free(&self) -> u64 {
        self.free.values().copied().max().unwrap_or(0)
    }

    /// The free runs as (first page, pages), lowest first.
    #[cfg(test)]
    pub fn free_runs(&self) -> Vec<(u64, u64)> {
        self.free.iter().map(|(&s, &l)| (s, l)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_fit_with_guard_pages() {
        let mut a = FirstFit::new(10);
        let b1 = a.alloc(2).unwrap();
        let b2 = a.alloc(3).unwrap();
        assert_eq!(b1.first_page, 0);
        assert_eq!(b2.first_page, 3, "one guard page after the first block");
        assert_eq!(a.in_use(), 7);
        assert!(
            a.alloc(3).is_none(),
            "3 + guard does not fit the 3 pages left"
        );
        let b3 = a.alloc(2).unwrap();
        assert_eq!(b3.first_page, 7);
        a.free(b1);
        let b4 = a.alloc(1).unwrap();
        assert_eq!(b4.first_page, 0, "lowest fit is reused");
        a.free(b2);
        a.free(b3);
        a.free(b4);
        assert_eq!(a.free_runs(), vec![(0, 10)]);
        assert_eq!(a.in_use(), 0);
        assert_eq!(a.blocks(), 0);
    }

    #[test]
    fn fragmentation_gives_no_fit() {
        let mut a = FirstFit::new(9);
        let blocks: Vec<_> = (0..3).map(|_| a.alloc(2).unwrap()).collect();
        a.free(blocks[0]);
        a.free(blocks[2]);
        assert_eq!(a.in_use(), 3);
        assert_eq!(a.largest_free(), 3);
        assert!(a.alloc(3).is_none(), "6 pages free, but not 4 in a row");
        assert!(a.alloc(2).is_some());
    }

    #[test]
    fn huge_and_zero_requests() {
        let mut a = FirstFit::new(100);
        assert!(a.alloc(0).is_none());
        assert!(a.alloc(u64::MAX).is_none());
        assert!(a.alloc(FirstFit::pages_for(u64::MAX, 4096)).is_none());
        assert_eq!(FirstFit::pages_for(u64::MAX, 4096), 1 << 52);
        assert_eq!(FirstFit::pages_for(4097, 4096), 2);
        assert_eq!(a.in_use(), 0);
    }
}
